#!/usr/bin/python3
"""Small guest kernel images, good and hostile, built from their fields (stdlib only).

    guest_images.py seeds DIR   the fuzz seeds (tests/fuzz/corpus/guest_image is this output)
    guest_images.py bad DIR     the malformed images the emulator scenarios boot nestbed with

Formats: Multiboot 1 with address fields (spec 0.6.96, 3.1.3), Multiboot ELF32 (System V
ABI, i386 supplement), ELF64 with a PVH entry note (Xen's XEN_ELFNOTE_PHYS32_ENTRY = 18),
and a Linux setup header ("HdrS" at 0x202). Each bad image names, in BAD_IMAGES, the
one-line reason nestbed must give for it (a regex for `nestbed: guest image NAME: ...`).
"""

import os
import struct
import sys

MB1_MAGIC = 0x1BADB002
MB1_FLAG_ADDRESSES = 1 << 16
MB1_FLAG_MEMORY_INFO = 1 << 1
PT_LOAD, PT_NOTE = 1, 4
XEN_ELFNOTE_PHYS32_ENTRY = 18
# A tiny guest body: `mov al, 0x31; out 0xf4, al; hlt` (the exit port), never run here.
BODY = bytes([0xB0, 0x31, 0xE6, 0xF4, 0xF4])


def mb1_header(flags, fields=()):
    checksum = (-(MB1_MAGIC + flags)) & 0xFFFFFFFF
    return struct.pack("<III", MB1_MAGIC, flags, checksum) + b"".join(
        struct.pack("<I", f & 0xFFFFFFFF) for f in fields)


def place(buf, off, data):
    """buf (bytearray) with data at off, grown with zeros as needed."""
    if len(buf) < off + len(data):
        buf.extend(bytes(off + len(data) - len(buf)))
    buf[off:off + len(data)] = data
    return buf


def aout(load_addr=0x100000, size=0x200, hdr=0, load_end=0, bss_end=0, entry=None,
         header_addr=None):
    """A Multiboot kernel loaded by its address fields from file offset 0."""
    header_addr = load_addr + hdr if header_addr is None else header_addr
    entry = load_addr + hdr + 32 if entry is None else entry
    buf = bytearray(size)
    place(buf, hdr, mb1_header(MB1_FLAG_ADDRESSES | MB1_FLAG_MEMORY_INFO,
                               (header_addr, load_addr, load_end, bss_end, entry)))
    place(buf, hdr + 32, BODY)
    return bytes(buf[:size])


def elf32(phdrs, entry=0x100000, size=0x400, mb_at=0x100):
    """A Multiboot ELF32 (no address fields); phdrs: (type, off, vaddr, paddr, filesz,
    memsz). The program headers follow the 52-byte ELF header."""
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, 52, 0, 0, 52, 32,
                               len(phdrs), 0, 0, 0)
    buf = bytearray(ehdr)
    for i, (typ, off, vaddr, paddr, filesz, memsz) in enumerate(phdrs):
        place(buf, 52 + 32 * i, struct.pack("<IIIIIIII", typ, off, vaddr, paddr, filesz,
                                            memsz, 7, 0x1000))
    place(buf, mb_at, mb1_header(MB1_FLAG_MEMORY_INFO))
    if len(buf) < size:
        buf.extend(bytes(size - len(buf)))
    return bytes(buf[:size])


def pvh_note(entry):
    return struct.pack("<III", 4, 4, XEN_ELFNOTE_PHYS32_ENTRY) + b"Xen\0" + \
        struct.pack("<I", entry)


def pvh64(loads, entry=0x1000000, size=0x400, note_at=0x200):
    """An ELF64 with a PVH entry note; loads: (off, paddr, filesz, memsz) PT_LOADs,
    followed by the PT_NOTE. Program headers follow the 64-byte ELF header."""
    note = pvh_note(entry)
    phdrs = [(PT_LOAD, off, paddr, filesz, memsz) for off, paddr, filesz, memsz in loads]
    phdrs.append((PT_NOTE, note_at, 0, len(note), len(note)))
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0xFFFFFFFF81000000, 64, 0, 0,
                               64, 56, len(phdrs), 0, 0, 0)
    buf = bytearray(ehdr)
    for i, (typ, off, paddr, filesz, memsz) in enumerate(phdrs):
        place(buf, 64 + 56 * i, struct.pack("<IIQQQQQQ", typ, 7, off, paddr, paddr,
                                            filesz, memsz, 0x1000))
    place(buf, note_at, note)
    if len(buf) < size:
        buf.extend(bytes(size - len(buf)))
    return bytes(buf[:size])


def phdrs_at(elf64, phoff, phnum, phentsize):
    """An ELF64 with its program header table fields replaced."""
    buf = bytearray(elf64)
    struct.pack_into("<Q", buf, 32, phoff)
    struct.pack_into("<HH", buf, 54, phentsize, phnum)
    return bytes(buf)


def bzimage():
    buf = bytearray(0x400)
    place(buf, 0x1FE, b"\x55\xAA")
    place(buf, 0x202, b"HdrS")
    return bytes(buf)


# Fuzz seeds: one valid image per format and a few near misses, each under 1 KiB.
SEEDS = {
    "aout.bin": aout(),
    "aout-bss.bin": aout(hdr=0x40, size=0x300, load_end=0x100200, bss_end=0x104000),
    "elf32.bin": elf32([(PT_LOAD, 0x200, 0x100000, 0x100000, 0x100, 0x2000)],
                       entry=0x100000),
    "elf32-two-higher-half.bin": elf32(
        [(PT_LOAD, 0x200, 0x100000, 0x100000, 0x80, 0x80),
         (PT_LOAD, 0x280, 0xC0101000, 0x101000, 0x100, 0x3000)], entry=0xC0101000),
    "pvh.bin": pvh64([(0x300, 0x1000000, 0x100, 0x3000)], entry=0x1000000),
    "pvh-two.bin": pvh64([(0x300, 0x1000000, 0x80, 0x1000),
                          (0x380, 0x2000000, 0x80, 0x80)], entry=0x2000010),
    "pvh-wrap.bin": pvh64([(0x300, 0x1000000, 0x80, 0x1000),
                           (0x380, 0xFFFFFFFFFFFFF000, 0x80, 0x1002000)]),
    "bzimage.bin": bzimage(),
}

# Images nestbed must refuse with one `nestbed: guest image <name>: <reason>` line:
# name -> (bytes, regex of the reason). Load addresses are inside a 256 MiB guest.
_NESTBED_TOP = 0xFF00000   # nestbed sits high in RAM: [16 MiB, 255 MiB) covers it
BAD_IMAGES = {
    # issue 11: a harmless segment, then one whose paddr + memsz wraps past 2^64 to just
    # above the first: the old [lowest, highest) check saw 16 MiB + 8 KiB and passed
    "pvh-wrap.elf": (
        pvh64([(0x300, 0x1000000, 0x80, 0x1000),
               (0x380, 0xFFFFFFFFFFFFF000, 0x80, 0x1000000 + 0x2000)]),
        r"ELF segment 1: load range \[0xfffffffffffff000, \+0x1002000\) wraps past 2\^64"),
    # e_phoff + e_phnum * e_phentsize wraps to 0: the table "ends" inside the file and the
    # old bounds check passed, then the first header was read 4 GiB before the image
    "pvh-phdrs-wrap.elf": (
        phdrs_at(pvh64([(0x300, 0x1000000, 0x80, 0x1000)]), 2 ** 64 - 0xFFFF * 0xFFFF,
                 0xFFFF, 0xFFFF),
        r"ELF program headers lie outside the file"),
    # a PVH segment that covers nestbed's own memory
    "pvh-over-nestbed.elf": (
        pvh64([(0x300, 0x1000000, 0x80, _NESTBED_TOP - 0x1000000)]),
        r"segment 0 loads at \[0x1000000-0xff00000\), over nestbed's memory \[0x[0-9a-f]+-"),
    # a Multiboot ELF32 cut inside its segment's bytes
    "elf32-truncated.elf": (
        elf32([(PT_LOAD, 0x200, 0x100000, 0x100000, 0x400, 0x400)], size=0x3FF),
        r"ELF segment 0: file range \[0x200, \+0x400\) outside the file"),
    # Multiboot address fields: a load range from just below 4 GiB to past it
    "mb-wrap.elf": (
        aout(load_addr=0xFFFFF000, size=0x2000),
        r"Multiboot load range \[0xfffff000, \+0x2000\) wraps past 4 GiB"),
    # Multiboot address fields: load_end_addr far past the end of the file
    "mb-outside-file.elf": (
        aout(load_end=0x100000 + 0x10000000),
        r"image truncated: load range needs 268435456 bytes from offset 0x0, file has 512"),
    # Multiboot address fields: the header would lie before the file's first byte
    "mb-header-before-file.elf": (
        aout(hdr=0x40, header_addr=0xFFFFFFF0, load_addr=0x100000),
        r"Multiboot address fields inconsistent: header_addr 0xfffffff0"),
}


def write(directory, images):
    os.makedirs(directory, exist_ok=True)
    for name, data in images.items():
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue        # unchanged: keep the timestamp for make
        except OSError:
            pass
        with open(path, "wb") as f:
            f.write(data)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("seeds", "bad"):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "seeds":
        write(argv[2], SEEDS)
    else:
        write(argv[2], {name: data for name, (data, _) in BAD_IMAGES.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
