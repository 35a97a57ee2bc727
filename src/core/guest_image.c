#include "core/guest_image.h"

#include "core/little_endian.h"

#include <stdbool.h>

#include "core/format.h"
#include "core/string.h"

/* ELF (System V ABI, 4.1 and the i386 supplement). */
#define ELF_MAGIC 0x464C457Fu /* "\x7fELF" little endian */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define ELF32_EHDR_SIZE 52
#define ELF32_PHDR_SIZE 32
#define ELF64_EHDR_SIZE 64
#define ELF64_PHDR_SIZE 56
#define PT_NOTE 4
#define EM_X86_64 62

const char *guest_kind_name(enum guest_kind kind)
{
	switch (kind) {
	case GUEST_MULTIBOOT_AOUT: return "multiboot (address fields)";
	case GUEST_MULTIBOOT_ELF32: return "multiboot (ELF32)";
	case GUEST_LINUX_BZIMAGE: return "linux bzImage";
	case GUEST_PVH_ELF64: return "PVH ELF64";
	}
	return "unknown";
}

static long find_multiboot_header(const uint8_t *image, size_t size)
{
	size_t limit = size < MB1_SEARCH_LIMIT ? size : MB1_SEARCH_LIMIT;
	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = le32(image + off), flags = le32(image + off + 4);
		uint32_t checksum = le32(image + off + 8);
		if (magic == MB1_HEADER_MAGIC && (uint32_t)(magic + flags + checksum) == 0)
			return (long)off;
	}
	return -1;
}

/* Records one loaded segment. Refuses a load range that wraps past 2^64, one that
 * overlaps a segment already recorded (QEMU's loader refuses overlapping regions too:
 * the later zero fill would silently clobber the earlier bytes), and a table overflow.
 * `phdr` is the program header's index (0 for Multiboot address fields), named in reasons. */
static int add_segment(struct guest_image *g, uint32_t phdr, uint64_t off, uint64_t filesz,
		       uint64_t phys, uint64_t memsz, char *err, size_t errlen)
{
	uint64_t end;
	if (__builtin_add_overflow(phys, memsz, &end)) {
		format_buf(err, errlen, "ELF segment %u: load range [%#llx, +%#llx) wraps past 2^64", phdr,
			   (unsigned long long)phys, (unsigned long long)memsz);
		return -1;
	}
	for (uint32_t i = 0; i < g->nr_segments; i++) {
		const struct guest_segment *o = &g->segments[i];
		if (phys < o->phys + o->mem_size && o->phys < end) {
			format_buf(err, errlen, "ELF segment %u: load range [%#llx-%#llx) overlaps segment %u [%#llx-%#llx)",
				   phdr, (unsigned long long)phys, (unsigned long long)end, o->phdr,
				   (unsigned long long)o->phys, (unsigned long long)(o->phys + o->mem_size));
			return -1;
		}
	}
	if (g->nr_segments == GUEST_MAX_SEGMENTS) {
		format_buf(err, errlen, "ELF has more than %d loadable segments", GUEST_MAX_SEGMENTS);
		return -1;
	}
	struct guest_segment *s = &g->segments[g->nr_segments++];
	s->file_offset = off;
	s->file_size = filesz;
	s->phys = phys;
	s->mem_size = memsz;
	s->phdr = phdr;
	if (g->nr_segments == 1 || phys < g->phys_lowest)
		g->phys_lowest = phys;
	if (end > g->phys_highest)
		g->phys_highest = end;
	return 0;
}

static int parse_address_fields(const uint8_t *image, size_t size, size_t hdr,
				struct guest_image *g, char *err, size_t errlen)
{
	if (size < MB1_ADDRESS_HEADER_SIZE || hdr > size - MB1_ADDRESS_HEADER_SIZE) {
		format_buf(err, errlen, "Multiboot header truncated (address fields past the end)");
		return -1;
	}
	uint32_t header_addr = le32(image + hdr + 12), load_addr = le32(image + hdr + 16);
	uint32_t load_end = le32(image + hdr + 20), bss_end = le32(image + hdr + 24);
	uint32_t entry = le32(image + hdr + 28);
	if (header_addr < load_addr || header_addr - load_addr > hdr) {
		format_buf(err, errlen, "Multiboot address fields inconsistent: header_addr %#x, load_addr %#x, header at file offset %#zx",
			   header_addr, load_addr, hdr);
		return -1;
	}
	/* All in 64 bits from 32-bit fields: no sum below can wrap; 4 GiB is checked. */
	uint64_t file_off = hdr - (header_addr - load_addr); /* <= hdr < size */
	uint64_t load_size = load_end ? (uint64_t)load_end - load_addr : size - file_off;
	if (load_end && load_end <= load_addr) {
		format_buf(err, errlen, "Multiboot load_end_addr %#x is not above load_addr %#x", load_end, load_addr);
		return -1;
	}
	if (load_size > size - file_off) {
		format_buf(err, errlen, "image truncated: load range needs %llu bytes from offset %#llx, file has %zu",
			   (unsigned long long)load_size, (unsigned long long)file_off, size);
		return -1;
	}
	uint64_t mem_end = (uint64_t)load_addr + load_size;
	if (mem_end > MB1_ADDRESS_LIMIT) {
		format_buf(err, errlen, "Multiboot load range [%#x, +%#llx) wraps past 4 GiB", load_addr,
			   (unsigned long long)load_size);
		return -1;
	}
	if (bss_end) {
		if (bss_end < mem_end) {
			format_buf(err, errlen, "Multiboot bss_end_addr %#x is below the load end %#llx", bss_end,
				   (unsigned long long)mem_end);
			return -1;
		}
		mem_end = bss_end;
	}
	if (entry < load_addr || entry >= mem_end) {
		format_buf(err, errlen, "Multiboot entry %#x outside the loaded range [%#x, %#llx)", entry,
			   load_addr, (unsigned long long)mem_end);
		return -1;
	}
	g->kind = GUEST_MULTIBOOT_AOUT;
	g->entry = entry;
	return add_segment(g, 0, file_off, load_size, load_addr, mem_end - load_addr, err, errlen);
}

/* [off, off + len) lies inside a file of `size` bytes, without wrapping. */
static bool inside_file(uint64_t off, uint64_t len, size_t size)
{
	uint64_t end;
	return !__builtin_add_overflow(off, len, &end) && end <= size;
}

/* The program header table [phoff, + phnum * phentsize) lies inside the file. */
static bool phdrs_inside_file(uint64_t phoff, uint16_t phnum, uint16_t phentsize, size_t size)
{
	uint64_t len;
	return !__builtin_mul_overflow((uint64_t)phnum, (uint64_t)phentsize, &len) &&
	       inside_file(phoff, len, size);
}

/* The entry lies in some loaded segment. */
static bool entry_in_segment(const struct guest_image *g)
{
	for (uint32_t i = 0; i < g->nr_segments; i++)
		if (g->entry >= g->segments[i].phys &&
		    g->entry - g->segments[i].phys < g->segments[i].mem_size)
			return true;
	return false;
}

static int parse_elf32(const uint8_t *image, size_t size, struct guest_image *g, char *err,
		       size_t errlen)
{
	if (size < ELF32_EHDR_SIZE || le32(image) != ELF_MAGIC) {
		format_buf(err, errlen, "Multiboot header without address fields, and not an ELF file");
		return -1;
	}
	if (image[4] == ELFCLASS64) {
		format_buf(err, errlen, "64-bit ELF without Multiboot address fields (flags bit 16): a Multiboot 1 loader cannot load it");
		return -1;
	}
	if (image[4] != ELFCLASS32 || image[5] != ELFDATA2LSB || le16(image + 16) != ET_EXEC ||
	    le16(image + 18) != EM_386) {
		format_buf(err, errlen, "ELF is not a little-endian i386 executable");
		return -1;
	}
	uint32_t phoff = le32(image + 28);
	uint16_t phentsize = le16(image + 42), phnum = le16(image + 44);
	if (phentsize < ELF32_PHDR_SIZE || !phdrs_inside_file(phoff, phnum, phentsize, size)) {
		format_buf(err, errlen, "ELF program headers lie outside the file");
		return -1;
	}
	g->kind = GUEST_MULTIBOOT_ELF32;
	g->entry = le32(image + 24);
	bool entry_translated = false;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (size_t)i * phentsize;
		if (le32(ph) != PT_LOAD)
			continue;
		uint32_t off = le32(ph + 4), vaddr = le32(ph + 8), paddr = le32(ph + 12);
		uint32_t filesz = le32(ph + 16), memsz = le32(ph + 20);
		if (filesz > memsz || !inside_file(off, filesz, size)) {
			format_buf(err, errlen, "ELF segment %u: file range [%#x, +%#x) outside the file or larger than in memory",
				   i, off, filesz);
			return -1;
		}
		if (memsz == 0)
			continue;
		/* ELF32 addresses are 32-bit: a load range past 4 GiB wraps for the kernel. */
		if ((uint64_t)paddr + memsz > MB1_ADDRESS_LIMIT) {
			format_buf(err, errlen, "ELF segment %u: load range [%#x, +%#x) wraps past 4 GiB", i,
				   paddr, memsz);
			return -1;
		}
		/* e_entry is virtual: a higher-half kernel enters at its physical alias, as GRUB
		 * and QEMU compute it (entry - p_vaddr + p_paddr of the segment holding it). */
		if (g->entry >= vaddr && g->entry - vaddr < memsz && !entry_translated) {
			g->entry = (uint32_t)(g->entry - vaddr + paddr);
			entry_translated = true;
		}
		if (add_segment(g, i, off, filesz, paddr, memsz, err, errlen))
			return -1;
	}
	if (!g->nr_segments) {
		format_buf(err, errlen, "ELF has no loadable segment");
		return -1;
	}
	if (!entry_in_segment(g)) {
		format_buf(err, errlen, "ELF entry %#llx lies in no loadable segment", (unsigned long long)g->entry);
		return -1;
	}
	return 0;
}

/* Looks for the PVH entry note in one PT_NOTE segment; returns 0 and *entry if found.
 * No sum wraps: off <= len (a file size) and one step adds at most 12 + 2 * (2^32 + 3). */
static int find_pvh_note(const uint8_t *notes, uint64_t len, uint64_t *entry)
{
	uint64_t off = 0;
	while (off + 12 <= len) {
		uint32_t namesz = le32(notes + off), descsz = le32(notes + off + 4);
		uint32_t type = le32(notes + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
		uint64_t next = desc_off + ((descsz + 3ull) & ~3ull);
		if (next > len)
			return -1;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == sizeof(PVH_NOTE_NAME) &&
		    !memcmp(notes + name_off, PVH_NOTE_NAME, sizeof(PVH_NOTE_NAME)) &&
		    (descsz == 4 || descsz == 8)) {
			*entry = descsz == 4 ? le32(notes + desc_off) : le64(notes + desc_off);
			return 0;
		}
		off = next;
	}
	return -1;
}

/* An ELF64 kernel that can be entered through PVH: loaded by its segments' physical
 * addresses, entered in 32-bit protected mode at the note's address. */
static int parse_pvh_elf64(const uint8_t *image, size_t size, struct guest_image *g, char *err,
			   size_t errlen)
{
	if (le16(image + 18) != EM_X86_64 || image[5] != ELFDATA2LSB) {
		format_buf(err, errlen, "ELF64 is not a little-endian x86-64 file");
		return -1;
	}
	uint64_t phoff = le64(image + 32);
	uint16_t phentsize = le16(image + 54), phnum = le16(image + 56);
	if (phentsize < ELF64_PHDR_SIZE || !phdrs_inside_file(phoff, phnum, phentsize, size)) {
		format_buf(err, errlen, "ELF program headers lie outside the file");
		return -1;
	}
	bool have_entry = false;
	uint64_t notes_walked = 0;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (size_t)i * phentsize;
		uint32_t type = le32(ph);
		uint64_t off = le64(ph + 8), paddr = le64(ph + 24);
		uint64_t filesz = le64(ph + 32), memsz = le64(ph + 40);
		if ((type == PT_LOAD || type == PT_NOTE) && !inside_file(off, filesz, size)) {
			format_buf(err, errlen, "ELF segment %u: file range outside the file", i);
			return -1;
		}
		if (type == PT_NOTE && !have_entry) {
			/* 65535 PT_NOTEs each spanning a large file would be walked for hours. */
			notes_walked += filesz; /* <= 65535 * the file size: no wrap */
			if (notes_walked > GUEST_NOTES_LIMIT) {
				format_buf(err, errlen, "ELF notes before the PVH entry note exceed %u bytes",
					   GUEST_NOTES_LIMIT);
				return -1;
			}
			have_entry = !find_pvh_note(image + off, filesz, &g->entry);
		}
		if (type != PT_LOAD || memsz == 0)
			continue;
		if (filesz > memsz) {
			format_buf(err, errlen, "ELF segment %u is larger in the file than in memory", i);
			return -1;
		}
		if (add_segment(g, i, off, filesz, paddr, memsz, err, errlen))
			return -1;
	}
	if (!have_entry) {
		format_buf(err, errlen, "64-bit ELF with neither Multiboot address fields nor a PVH entry note");
		return -1;
	}
	if (!g->nr_segments) {
		format_buf(err, errlen, "ELF has no loadable segment");
		return -1;
	}
	/* PVH enters in 32-bit protected mode with paging off: a 32-bit physical address. */
	if (g->entry >= MB1_ADDRESS_LIMIT || !entry_in_segment(g)) {
		format_buf(err, errlen, "PVH entry %#llx lies in no loadable segment below 4 GiB",
			   (unsigned long long)g->entry);
		return -1;
	}
	g->kind = GUEST_PVH_ELF64;
	return 0;
}

int guest_image_parse(const uint8_t *image, size_t size, struct guest_image *out, char *err,
		      size_t errlen)
{
	struct guest_image g = { 0 };
	if (size == 0) {
		format_buf(err, errlen, "empty file");
		return -1;
	}
	long hdr = find_multiboot_header(image, size);
	if (hdr >= 0) {
		g.mb_flags = le32(image + hdr + 4);
		uint32_t unknown = g.mb_flags & MB1_REQUIRED_MASK & ~MB1_SUPPORTED_REQUIRED;
		if (unknown) {
			format_buf(err, errlen, "Multiboot header requires features nestbed does not offer (flags %#x)", unknown);
			return -1;
		}
		int rc = (g.mb_flags & MB1_FLAG_ADDRESSES) ?
				 parse_address_fields(image, size, (size_t)hdr, &g, err, errlen) :
				 parse_elf32(image, size, &g, err, errlen);
		if (rc)
			return rc;
		*out = g;
		return 0;
	}
	if (size >= ELF64_EHDR_SIZE && le32(image) == ELF_MAGIC && image[4] == ELFCLASS64) {
		if (parse_pvh_elf64(image, size, &g, err, errlen))
			return -1;
		*out = g;
		return 0;
	}
	if (size > LINUX_SETUP_HEADER_MAGIC_OFFSET + 4 &&
	    le32(image + LINUX_SETUP_HEADER_MAGIC_OFFSET) == LINUX_SETUP_HEADER_MAGIC) {
		g.kind = GUEST_LINUX_BZIMAGE;
		*out = g;
		return 0;
	}
	format_buf(err, errlen, "not a Multiboot kernel (no header in the first %d bytes), a PVH ELF nor a Linux bzImage",
		   MB1_SEARCH_LIMIT);
	return -1;
}
