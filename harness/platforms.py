"""Platforms: one class per emulated machine. Each knows its emulator's command line, how
to prepare the files an image boots from (a GRUB ISO, an ESP directory, ...), and whether
it can run on this host.

Every platform gives an image the same Multiboot command lines:
    kernel  "<kernel file name> <args>"   (QEMU -kernel always puts the file name first;
                                           the GRUB configs here do the same)
    module  "<guest file name> <guest args>"
and the same exit protocol: "exit-port: <code>" on COM1, outb(code, 0xf4) (QEMU
isa-debug-exit: exit status (code << 1) | 1), "Shutdown" to port 0x8900 (Bochs).

The command-line and config builders are pure functions so that tests can check them
without running an emulator; prepare() writes the run directory and returns a Launch.
"""

import fcntl
import os
import re
import shlex
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import ROOT, HarnessError, PlatformUnavailable, qemu_monitor

MB1_MAGIC = 0x1BADB002
MB2_MAGIC = 0xE85250D6
MB_SEARCH = 8192          # Multiboot 1: the header is in the first 8 KiB, 4-byte aligned

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
GRUB_PC_DIR = Path("/usr/lib/grub/i386-pc")
GRUB_EFI_DIR = Path("/usr/lib/grub/x86_64-efi")
BOCHS_BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
BOCHS_VGABIOS = Path("/usr/share/vgabios/vgabios.bin")
GRUB_PC_MODULES = ("multiboot", "linux", "normal", "configfile", "echo", "boot", "halt", "serial",
                   "terminal", "iso9660", "biosdisk")
GRUB_EFI_MODULES = ("fat", "part_gpt", "part_msdos", "multiboot", "normal", "configfile",
                    "echo", "boot", "halt", "test")
QEMU_DEBUG_EXIT = "isa-debug-exit,iobase=0xf4,iosize=0x04"
DEFAULT_MEMORY = 256
MAX_CPUS = 8              # QEMU -smp and Bochs cpu count; the harness checks 1..MAX_CPUS
TOOL_TIMEOUT = 120        # seconds for grub-mkrescue, grub-mkimage, --version


# ---------------------------------------------------------------------------- images

def _has_pvh_note(path: Path) -> bool:
    """An ELF64 file with the PVH entry note ("Xen", XEN_ELFNOTE_PHYS32_ENTRY = 18)."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        if len(ehdr) < 64 or ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ph = f.read(56)
            if len(ph) < 56 or struct.unpack_from("<I", ph, 0)[0] != 4:   # PT_NOTE
                continue
            off, = struct.unpack_from("<Q", ph, 8)
            size, = struct.unpack_from("<Q", ph, 32)
            f.seek(off)
            notes = f.read(min(size, 1 << 20))
            pos = 0
            while pos + 12 <= len(notes):
                namesz, descsz, ntype = struct.unpack_from("<III", notes, pos)
                name = notes[pos + 12:pos + 12 + namesz]
                if ntype == 18 and name == b"Xen\x00":
                    return True
                pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


def image_kind(path: Path) -> str:
    """'efi' (PE/COFF), 'multiboot' (a valid Multiboot 1 header), 'multiboot2', 'pvh' (an
    ELF64 with a PVH entry note: Linux's vmlinux), 'bzimage' (Linux boot protocol) or
    'unknown'."""
    with open(path, "rb") as f:
        head = f.read(MB_SEARCH + 12)
    if head[:2] == b"MZ" and head[0x202:0x206] != b"HdrS":
        return "efi"
    for off in range(0, min(len(head), MB_SEARCH + 12) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", head, off)
        if magic == MB1_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return "multiboot"
    for off in range(0, min(len(head), 32768) - 15, 8):
        magic, arch, length, checksum = struct.unpack_from("<IIII", head, off)
        if magic == MB2_MAGIC and (magic + arch + length + checksum) & 0xFFFFFFFF == 0:
            return "multiboot2"
    if head[0x202:0x206] == b"HdrS":
        return "bzimage"
    if head[:4] == b"\x7fELF" and _has_pvh_note(path):
        return "pvh"
    return "unknown"


def check_readable(path: Path, what: str) -> Path:
    """The path if it is a readable file, else HarnessError with a one-line reason."""
    if not path.exists():
        raise HarnessError("%s %s does not exist" % (what, path))
    if not path.is_file():
        raise HarnessError("%s %s is not a file" % (what, path))
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise HarnessError("%s %s is not readable: %s" % (what, path, e.strerror))
    return path


def require_kind(path: Path, what: str, kinds) -> str:
    kind = image_kind(path)
    if kind not in kinds:
        names = {"multiboot": "a Multiboot 1 kernel", "efi": "an EFI application",
                 "pvh": "a PVH ELF kernel", "bzimage": "a Linux bzImage"}
        wanted = " or ".join(names[k] for k in kinds)
        found = {"multiboot2": "a Multiboot 2 kernel", "efi": "an EFI application",
                 "multiboot": "a Multiboot 1 kernel", "pvh": "a PVH ELF kernel",
                 "bzimage": "a Linux bzImage",
                 "unknown": "neither (no Multiboot 1 header in its first 8 KiB)"}[kind]
        raise HarnessError("%s %s is not %s: it is %s" % (what, path, wanted, found))
    return kind


def safe_name(path: Path) -> str:
    """A file name that survives QEMU's -initrd syntax and GRUB's parser unquoted."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", path.name) or "image"


@dataclass
class RunSpec:
    """What to boot. bare: image alone with args as its command line. Otherwise nestbed
    boots with nestbed_args and image (+ args) as its guest module."""
    image: Path
    args: List[str] = field(default_factory=list)
    bare: bool = False
    nestbed: Optional[Path] = None        # None: the platform's default build product
    nestbed_args: str = ""
    memory: int = DEFAULT_MEMORY
    cpu_model: Optional[str] = None
    # Further modules after the guest (nestbed mode), each (path, args); in bare mode the
    # first is a Linux kernel's initrd.
    modules: List[Tuple[Path, str]] = field(default_factory=list)
    # QEMU only: -icount shift=0 on one TCG thread, so the guest's TSC counts retired
    # instructions and cost figures repeat exactly.
    icount: bool = False
    # with icount: QEMU's sleep=off (an idle machine warps the virtual clock to its next
    # timer instead of sleeping in real time), so virtual time is deterministic too
    icount_nosleep: bool = False
    # CPUs of the emulated machine: QEMU -smp N, Bochs "cpu: count=N" (1: no -smp option,
    # the emulator's default).
    cpus: int = 1
    # QEMU only: its gdbstub on this local TCP port, stopped before the first instruction
    # (-gdb tcp:127.0.0.1:PORT -S; README.md "Debugging with gdb").
    gdb_port: Optional[int] = None
    # QEMU only: further options at the end of its command line (harness/profile.py's
    # execution log).
    qemu_extra: List[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "bare" if self.bare else "nestbed"

    @property
    def args_text(self) -> str:
        return " ".join(self.args)


@dataclass
class Launch:
    """A prepared emulator run."""
    argv: List[str]
    cwd: Path
    exit_kind: str                        # "qemu" or "bochs": how the exit status relates
    console_file: Optional[Path] = None   # None: the console is the emulator's stdout
    output_log: Optional[Path] = None     # the emulator's own stdout/stderr
    bochs_log: Optional[Path] = None
    monitor_socket: Optional[Path] = None   # QEMU's monitor, asked at a timeout

    def shell_command(self) -> str:
        return "cd %s && %s" % (shlex.quote(str(self.cwd)), shlex.join(self.argv))


# ---------------------------------------------------------------------------- builders

def qemu_escape(value: str) -> str:
    """A value inside a QEMU option list (-drive, -initrd's module list): commas doubled."""
    return value.replace(",", ",,")


def qemu_argv(binary: str, accel: str, cpu: str, memory: int, cpus: int = 1) -> List[str]:
    """cpus > 1 adds -smp N (the firmware lists each CPU in the MADT and parks the APs)."""
    argv = [binary, "-accel", accel, "-cpu", cpu, "-m", str(memory)]
    if cpus > 1:
        argv += ["-smp", str(cpus)]
    return argv + ["-display", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
                   "-device", QEMU_DEBUG_EXIT] + qemu_monitor.argv()


def check_cpus(cpus: int) -> int:
    """HarnessError unless 1 <= cpus <= MAX_CPUS."""
    if not 1 <= cpus <= MAX_CPUS:
        raise HarnessError("--cpus %d is out of range (1..%d)" % (cpus, MAX_CPUS))
    return cpus


def qemu_kernel_argv(kernel: str, append: str, module: Optional[str] = None) -> List[str]:
    """-kernel K -append ARGS [-initrd 'MODULE']. QEMU 7.2 passes -append verbatim (no
    comma escaping there); -initrd is a comma-separated module list, so commas inside a
    module's command line are doubled."""
    argv = ["-kernel", kernel, "-append", append]
    if module is not None:
        argv += ["-initrd", qemu_escape(module)]
    return argv


def join_cmdline(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def grub_quote(word: str) -> str:
    """A word for grub.cfg: bare when safe, else single-quoted."""
    if word and re.fullmatch(r"[A-Za-z0-9_=.,:/+@%-]+", word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def grub_words(args: str) -> str:
    return " ".join(grub_quote(w) for w in args.split())


def grub_cfg(kernel: str, args: str, module: Optional[str] = None,
             module_args: str = "", serial: bool = True,
             extra: Optional[List[Tuple[str, str]]] = None) -> str:
    """grub.cfg booting /boot/<kernel> with "<kernel> <args>" as its command line and, when
    given, /boot/<module> with "<module> <module_args>". serial: GRUB's own messages go to
    COM1 as well (BIOS GRUB; EFI GRUB's console already reaches COM1 through the firmware).
    When booting fails GRUB says so and powers off, so the run ends without a timeout."""
    lines = ["set timeout=0"]
    if serial:
        lines += ["serial --unit=0 --speed=115200", "terminal_output console serial"]
    lines.append(join_cmdline("multiboot", "/boot/" + kernel, grub_quote(kernel),
                              grub_words(args)))
    if module is not None:
        lines.append(join_cmdline("module", "/boot/" + module, grub_quote(module),
                                  grub_words(module_args)))
    for name, margs in extra or []:
        lines.append(join_cmdline("module", "/boot/" + name, grub_quote(name), grub_words(margs)))
    lines += ["boot", "echo 'grub: could not boot /boot/%s'" % kernel, "halt"]
    return "\n".join(lines) + "\n"


def grub_linux_cfg(kernel: str, args: str, initrd: Optional[str]) -> str:
    """grub.cfg booting a Linux bzImage through the Linux boot protocol."""
    lines = ["set timeout=0", "serial --unit=0 --speed=115200",
             "terminal_output console serial",
             join_cmdline("linux", "/boot/" + kernel, grub_words(args))]
    if initrd:
        lines.append("initrd /boot/" + initrd)
    lines += ["boot", "echo 'grub: could not boot /boot/%s'" % kernel, "halt"]
    return "\n".join(lines) + "\n"


def bochsrc(model: str, memory: int, iso: str = "boot.iso", com1: str = "serial.txt",
            log: str = "bochs.log", cpus: int = 1) -> str:
    """cpus: "cpu: count=N" (Debian's Bochs is built with SMP; its BIOS lists each CPU in
    the MADT and parks the APs)."""
    return "\n".join([
        "# generated by the nestbed harness",
        "megs: %d" % memory,
        "cpu: model=%s, count=%d, ips=4000000, reset_on_triple_fault=0" % (model, cpus),
        "romimage: file=%s" % BOCHS_BIOS,
        "vgaromimage: file=%s" % BOCHS_VGABIOS,
        "ata0-master: type=cdrom, path=%s, status=inserted" % iso,
        "boot: cdrom",
        'display_library: rfb, options="timeout=0"',
        "com1: enabled=1, mode=file, dev=%s" % com1,
        "panic: action=fatal",
        "log: %s" % log,
        "clock: sync=none, time0=local",
        # without dummy sound drivers Bochs 2.7 aborts in ALSA on a host without sound
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        "speaker: enabled=0",
    ]) + "\n"


def efi_cfg_line(nestbed_args: str, guest: Optional[str] = None, guest_args: str = "",
                 modules: Sequence[Tuple[str, str]] = ()) -> str:
    """The one line of \\nestbed.cfg: '<nestbed args> --- \\<guest> <guest args>', then
    '--- \\<module> <module args>' for each further module (e.g. Linux's initrd)."""
    if guest is None:
        return nestbed_args
    line = join_cmdline(nestbed_args, "---", "\\" + guest, guest_args)
    for name, args in modules:
        line = join_cmdline(line, "---", "\\" + name, args)
    return line


def run_tool(argv: List[str], what: str) -> None:
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TOOL_TIMEOUT)
    except FileNotFoundError:
        raise HarnessError("%s: %s not found" % (what, argv[0]))
    except subprocess.TimeoutExpired:
        raise HarnessError("%s: %s took more than %ds" % (what, argv[0], TOOL_TIMEOUT))
    if proc.returncode != 0:
        lines = proc.stdout.decode(errors="replace").strip().splitlines()
        raise HarnessError("%s: %s failed (status %d): %s" % (
            what, os.path.basename(argv[0]), proc.returncode,
            lines[-1] if lines else "no output"))


def copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


# ---------------------------------------------------------------------------- KVM

KVM_GET_API_VERSION = 0xAE00
KVM_API_VERSION = 12


def _kvm_api_version(dev: str) -> int:
    fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION)
    finally:
        os.close(fd)


def cpu_flags(cpuinfo: str) -> set:
    """The flags of the first CPU in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def kvm_unavailable_reason(dev: str = "/dev/kvm", cpuinfo: str = "/proc/cpuinfo",
                           modules: str = "/sys/module",
                           api_version: Callable[[str], int] = _kvm_api_version) -> Optional[str]:
    """None when KVM can run a hardware-virtualized guest here, else why not."""
    if not os.path.exists(dev):
        return "%s does not exist" % dev
    if not os.access(dev, os.R_OK | os.W_OK):
        return "%s is not readable and writable by this user" % dev
    try:
        version = api_version(dev)
    except OSError as e:
        return "%s does not answer KVM_GET_API_VERSION: %s" % (dev, e.strerror)
    if version != KVM_API_VERSION:
        return "%s speaks KVM API %d, not %d" % (dev, version, KVM_API_VERSION)
    try:
        with open(cpuinfo) as f:
            flags = cpu_flags(f.read())
    except OSError as e:
        return "cannot read %s: %s" % (cpuinfo, e.strerror)
    if not flags:
        return "no CPU flags in %s" % cpuinfo
    if "vmx" not in flags and "svm" not in flags:
        why = "the host CPU flags show neither vmx nor svm, so %s cannot run a " \
              "hardware-virtualized guest" % dev
        if os.path.isdir(os.path.join(modules, "kvm_pvm")):
            why += " (it comes from kvm_pvm, a software pagetable VM)"
        return why
    return None


# ---------------------------------------------------------------------------- platforms

class Platform:
    name = ""
    summary = ""
    emulator = ""              # the binary
    package = ""               # the Debian package that provides it
    exit_kind = "qemu"
    default_timeout = 60.0
    nestbed_default = "build/nestbed.elf"

    def __init__(self, which: Callable[[str], Optional[str]] = shutil.which):
        self._which = which

    # -- environment
    def emulator_path(self) -> str:
        path = self._which(self.emulator)
        if not path:
            raise HarnessError("%s not found (install the Debian package %s)" % (
                self.emulator, self.package))
        return path

    def check_tools(self, spec: RunSpec) -> None:
        """HarnessError when a file or tool this run needs is missing."""

    def check_available(self) -> None:
        """PlatformUnavailable when this host cannot run the platform."""

    def default_nestbed(self) -> Path:
        return ROOT / self.nestbed_default

    def emulator_version(self, launch: Optional[Launch] = None) -> str:
        return self.emulator

    # -- a run
    def validate(self, spec: RunSpec) -> None:
        """Checks the images: HarnessError for bad input."""
        check_readable(spec.image, "image")
        if spec.bare:
            if spec.nestbed_args:
                raise HarnessError("--nestbed-args has no effect with --bare")
            self.validate_bare_image(spec.image)
            if spec.modules and image_kind(spec.image) not in self.bare_module_kinds:
                raise HarnessError("extra modules in bare mode are an initrd for a Linux kernel"
                                   + (" or Multiboot modules" if "multiboot" in
                                      self.bare_module_kinds else ""))
        else:
            nestbed = spec.nestbed or self.default_nestbed()
            if not nestbed.exists() and spec.nestbed is None:
                raise HarnessError("nestbed image %s does not exist (run make, or pass "
                                   "--nestbed PATH)" % nestbed)
            check_readable(nestbed, "nestbed image")
            self.validate_nestbed(nestbed)
        for path, _ in spec.modules:
            check_readable(path, "module")

    def validate_bare_image(self, image: Path) -> None:
        require_kind(image, "image", self.bare_kinds)

    bare_kinds = ("multiboot",)
    bare_module_kinds = ("pvh", "bzimage")   # image kinds that take modules in bare mode

    def validate_nestbed(self, nestbed: Path) -> None:
        require_kind(nestbed, "nestbed image", ("multiboot",))

    def prepare(self, spec: RunSpec, run_dir: Path) -> Launch:
        raise NotImplementedError


class QemuSvm(Platform):
    name = "qemu-svm"
    summary = "QEMU TCG, AMD-V (+svm,+npt), Multiboot through -kernel"
    emulator = "qemu-system-x86_64"
    package = "qemu-system-x86"
    bare_kinds = ("multiboot", "pvh")   # QEMU boots a PVH ELF (Linux's vmlinux) directly
    bare_module_kinds = ("pvh", "bzimage", "multiboot")  # -initrd: Multiboot modules too
    accel = "tcg"
    cpu = "EPYC,+svm,+npt"
    default_timeout = 60.0

    def emulator_version(self, launch=None) -> str:
        return _first_line([self.emulator_path(), "--version"]) or self.emulator

    def cpu_for(self, spec: RunSpec) -> str:
        return spec.cpu_model or self.cpu

    def command(self, spec: RunSpec, kernel: str, guest: Optional[str]) -> List[str]:
        """The emulator's argv, run in the run directory where kernel and guest are the
        (linked) file names."""
        argv = qemu_argv(self.emulator_path(), self.accel, self.cpu_for(spec), spec.memory,
                         check_cpus(spec.cpus))
        if spec.icount:
            if self.accel != "tcg":
                raise HarnessError("--icount needs QEMU's TCG, not %s" % self.accel)
            argv[argv.index("-accel") + 1] = "tcg,thread=single"
            argv += ["-icount", "shift=0,sleep=off" if spec.icount_nosleep else "shift=0"]
        extra = [safe_name(p) for p, _ in spec.modules]
        if spec.bare:
            argv += qemu_kernel_argv(kernel, spec.args_text)
            if extra and image_kind(spec.image) == "multiboot":   # Multiboot modules
                argv += ["-initrd", ",".join(qemu_escape(join_cmdline(name, args)) for
                                             name, (_, args) in zip(extra, spec.modules))]
            elif extra:   # a Linux kernel's initrd (validate() allows nothing else)
                argv += ["-initrd", extra[0]]
            return argv
        modules = [join_cmdline(guest, spec.args_text)] + [
            join_cmdline(name, args) for name, (_, args) in zip(extra, spec.modules)]
        return argv + ["-kernel", kernel, "-append", spec.nestbed_args,
                       "-initrd", ",".join(qemu_escape(m) for m in modules)]

    def prepare(self, spec: RunSpec, run_dir: Path) -> Launch:
        kernel_path = spec.image if spec.bare else (spec.nestbed or self.default_nestbed())
        kernel = safe_name(kernel_path)
        guest = None
        if not spec.bare:
            guest = safe_name(spec.image)
            _link(spec.image, run_dir / guest)
            if guest == kernel:
                kernel = "kernel/" + kernel
        _link(kernel_path, run_dir / kernel)
        for path, _ in spec.modules:
            _link(path, run_dir / safe_name(path))
        argv = self.command(spec, kernel, guest)
        if spec.gdb_port:
            argv += ["-gdb", "tcp:127.0.0.1:%d" % spec.gdb_port, "-S"]
        argv += spec.qemu_extra
        return Launch(argv=argv, cwd=run_dir, exit_kind="qemu", output_log=run_dir / "qemu.err",
                      monitor_socket=run_dir / qemu_monitor.SOCKET_NAME)


# The disk of the IOMMU platform: every sector says which it is, so a probe that reads
# one by bus-master DMA knows what must arrive. 8-byte word w (0..63) of sector s is
# DMA_DISK_MAGIC | s << 8 | w, little-endian (guests/probes/isolation/dma_ahci.c).
DMA_DISK_MAGIC = 0x4E42444D00000000
DMA_DISK_SECTORS = 8192          # 4 MiB: more than nestbed's image, which the probe aims at
DMA_DISK_FILE = "dma-disk.img"


def dma_disk_sector(sector: int) -> bytes:
    return struct.pack("<64Q", *(DMA_DISK_MAGIC | sector << 8 | w for w in range(64)))


def write_dma_disk(path: Path, sectors: int = DMA_DISK_SECTORS) -> None:
    with open(path, "wb") as f:
        for s in range(sectors):
            f.write(dma_disk_sector(s))


class QemuSvmVgif(QemuSvm):
    """qemu-svm's CPU with virtual GIF (CPUID 8000_000Ah EDX[16], APM vol.2 15.33): QEMU
    7.2's TCG implements V_GIF for a guest's CLGI/STGI and its gating of virtual
    interrupts (V_IRQ); physical interrupts and NMIs ignore V_GIF there, as the APM has it.
    No TCG model offers virtual VMLOAD/VMSAVE (EDX[15])."""
    name = "qemu-svm-vgif"
    summary = "QEMU TCG, AMD-V (+svm,+npt,+vgif: virtual GIF), Multiboot through -kernel"
    cpu = "EPYC,+svm,+npt,+vgif"


class QemuQ35Svm(QemuSvm):
    """q35 (ICH9: AHCI at 00:1f.2, the disk on its port 0) with an Intel VT-d IOMMU
    (QEMU's intel-iommu: DMA remapping, no interrupt remapping under TCG), AMD-V CPU."""
    name = "qemu-q35-svm"
    summary = "QEMU TCG q35 with intel-iommu (VT-d) and an AHCI disk, AMD-V"
    machine = ("-machine", "q35", "-device", "intel-iommu")

    def command(self, spec: RunSpec, kernel: str, guest: Optional[str]) -> List[str]:
        argv = super().command(spec, kernel, guest)
        at = argv.index("-accel")
        return argv[:at] + list(self.machine) + argv[at:] + [
            "-drive", "file=%s,format=raw,if=none,id=dmadisk" % DMA_DISK_FILE,
            "-device", "ide-hd,drive=dmadisk,bus=ide.0"]

    def prepare(self, spec: RunSpec, run_dir: Path) -> Launch:
        launch = super().prepare(spec, run_dir)
        write_dma_disk(run_dir / DMA_DISK_FILE)
        return launch


class QemuQ35AmdViSvm(QemuQ35Svm):
    """The same q35 machine and disk with an AMD IOMMU (QEMU's amd-iommu, a PCI function
    described by the ACPI IVRS) instead of VT-d."""
    name = "qemu-q35-amdvi-svm"
    summary = "QEMU TCG q35 with amd-iommu (AMD-Vi) and an AHCI disk, AMD-V"
    machine = ("-machine", "q35", "-device", "amd-iommu")


class Kvm(QemuSvm):
    name = "kvm"
    summary = "QEMU with KVM: the host's own VT-x or AMD-V (only where the host has them)"
    accel = "kvm"
    cpu = "host"

    def __init__(self, which=shutil.which, probe: Callable[[], Optional[str]] = None):
        super().__init__(which)
        self._probe = probe or kvm_unavailable_reason

    def check_available(self) -> None:
        reason = self._probe()
        if reason:
            raise PlatformUnavailable(self.name, reason)


class QemuUefiSvm(QemuSvm):
    name = "qemu-uefi-svm"
    summary = "QEMU TCG with OVMF (UEFI), AMD-V; images on a FAT ESP directory"
    default_timeout = 120.0
    nestbed_default = "build/nestbed.efi"
    bare_module_kinds = ("pvh", "bzimage")

    def check_tools(self, spec: RunSpec) -> None:
        for path in (OVMF_CODE, OVMF_VARS):
            if not path.is_file():
                raise HarnessError("%s not found (install the Debian package ovmf)" % path)
        if spec.bare and image_kind(spec.image) == "multiboot":
            if not (GRUB_EFI_DIR / "multiboot.mod").is_file():
                raise HarnessError("%s not found: booting a Multiboot image on UEFI needs "
                                   "GRUB for EFI (install grub-efi-amd64-bin)" % GRUB_EFI_DIR)
            if not self._which("grub-mkimage"):
                raise HarnessError("grub-mkimage not found (install grub-common)")

    def validate_bare_image(self, image: Path) -> None:
        require_kind(image, "image", ("efi", "multiboot"))

    def validate_nestbed(self, nestbed: Path) -> None:
        require_kind(nestbed, "nestbed image", ("efi",))

    def command(self, spec: RunSpec, esp: str = "esp", vars_file: str = "OVMF_VARS.fd"):
        argv = qemu_argv(self.emulator_path(), self.accel, self.cpu_for(spec), spec.memory,
                         check_cpus(spec.cpus))
        return argv + [
            "-drive", "if=pflash,format=raw,readonly=on,file=" + qemu_escape(str(OVMF_CODE)),
            "-drive", "if=pflash,format=raw,file=" + qemu_escape(vars_file),
            "-drive", "format=raw,file=fat:rw:" + qemu_escape(esp)]

    def prepare(self, spec: RunSpec, run_dir: Path) -> Launch:
        esp = run_dir / "esp"
        boot_efi = esp / "EFI" / "BOOT" / "BOOTX64.EFI"
        boot_efi.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OVMF_VARS, run_dir / "OVMF_VARS.fd")
        if spec.bare and image_kind(spec.image) == "efi":
            copy_file(spec.image, boot_efi)
            (esp / "nestbed.cfg").write_text(efi_cfg_line(spec.args_text) + "\n")
        elif spec.bare:
            name = safe_name(spec.image)
            copy_file(spec.image, esp / "boot" / name)
            (esp / "boot" / "grub").mkdir(parents=True, exist_ok=True)
            (esp / "boot" / "grub" / "grub.cfg").write_text(
                grub_cfg(name, spec.args_text, serial=False))
            run_tool([self._which("grub-mkimage") or "grub-mkimage", "-O", "x86_64-efi",
                      "-d", str(GRUB_EFI_DIR), "-p", "/boot/grub", "-o", str(boot_efi),
                      *GRUB_EFI_MODULES], "GRUB for EFI")
        else:
            copy_file(spec.nestbed or self.default_nestbed(), boot_efi)
            guest = safe_name(spec.image)
            copy_file(spec.image, esp / guest)
            modules = []
            for path, args in spec.modules:
                name = safe_name(path)
                if name == guest or name in (m for m, _ in modules):
                    raise HarnessError("module %s: a file of that name is already on the "
                                       "ESP" % path)
                copy_file(path, esp / name)
                modules.append((name, args))
            (esp / "nestbed.cfg").write_text(
                efi_cfg_line(spec.nestbed_args, guest, spec.args_text, modules) + "\n")
        return Launch(argv=self.command(spec), cwd=run_dir, exit_kind="qemu",
                      output_log=run_dir / "qemu.err",
                      monitor_socket=run_dir / qemu_monitor.SOCKET_NAME)


class Bochs(Platform):
    bare_kinds = ("multiboot", "bzimage")   # GRUB's linux command boots a bzImage
    emulator = "bochs"
    package = "bochs"
    exit_kind = "bochs"
    default_timeout = 300.0
    model = ""

    def check_tools(self, spec: RunSpec) -> None:
        for path, package in ((BOCHS_BIOS, "bochsbios"), (BOCHS_VGABIOS, "vgabios"),
                              (GRUB_PC_DIR / "multiboot.mod", "grub-pc-bin")):
            if not path.is_file():
                raise HarnessError("%s not found (install the Debian package %s)" % (
                    path, package))
        for tool, package in (("grub-mkrescue", "grub-common"), ("xorriso", "xorriso")):
            if not self._which(tool):
                raise HarnessError("%s not found (install the Debian package %s)" % (
                    tool, package))

    def emulator_version(self, launch: Optional[Launch] = None) -> str:
        if launch is not None and launch.bochs_log is not None:
            try:
                with open(launch.bochs_log, errors="replace") as f:
                    for _, line in zip(range(50), f):
                        m = re.search(r"(Bochs x86 Emulator [\w.]+)", line)
                        if m:
                            return m.group(1)
            except OSError:
                pass
        return "Bochs"

    def model_for(self, spec: RunSpec) -> str:
        return spec.cpu_model or self.model

    def command(self) -> List[str]:
        return [self.emulator_path(), "-q", "-f", "bochsrc", "-rc", "run.rc"]

    def prepare(self, spec: RunSpec, run_dir: Path) -> Launch:
        iso = run_dir / "iso"
        kernel_path = spec.image if spec.bare else (spec.nestbed or self.default_nestbed())
        kernel = safe_name(kernel_path)
        guest = None if spec.bare else safe_name(spec.image)
        if guest == kernel:
            kernel = "kernel-" + kernel
        copy_file(kernel_path, iso / "boot" / kernel)
        extra = []
        for path, args in spec.modules:
            copy_file(path, iso / "boot" / safe_name(path))
            extra.append((safe_name(path), args))
        if spec.bare and image_kind(spec.image) == "bzimage":
            cfg = grub_linux_cfg(kernel, spec.args_text, extra[0][0] if extra else None)
        elif spec.bare:
            cfg = grub_cfg(kernel, spec.args_text)
        else:
            copy_file(spec.image, iso / "boot" / guest)
            cfg = grub_cfg(kernel, spec.nestbed_args, guest, spec.args_text, extra=extra)
        (iso / "boot" / "grub").mkdir(parents=True, exist_ok=True)
        (iso / "boot" / "grub" / "grub.cfg").write_text(cfg)
        run_tool([self._which("grub-mkrescue") or "grub-mkrescue", "-d", str(GRUB_PC_DIR),
                  "--install-modules=" + " ".join(GRUB_PC_MODULES), "--fonts=",
                  "--locales=", "--themes=", "-o", str(run_dir / "boot.iso"), str(iso)],
                 "GRUB ISO")
        (run_dir / "bochsrc").write_text(bochsrc(self.model_for(spec), spec.memory,
                                                 cpus=check_cpus(spec.cpus)))
        # Debian's Bochs has the internal debugger: without a script it stops at a prompt.
        (run_dir / "run.rc").write_text("c\n")
        return Launch(argv=self.command(), cwd=run_dir, exit_kind="bochs",
                      console_file=run_dir / "serial.txt", output_log=run_dir / "bochs.out",
                      bochs_log=run_dir / "bochs.log")


class BochsVmx(Bochs):
    name = "bochs-vmx"
    summary = "Bochs, Intel model (VT-x with EPT, VMCS shadowing), GRUB ISO"
    model = "tigerlake"


class BochsSvm(Bochs):
    name = "bochs-svm"
    summary = "Bochs, AMD model (AMD-V with NPT, NRIPS), GRUB ISO"
    model = "ryzen"


PLATFORMS: Dict[str, type] = {cls.name: cls for cls in
                              (QemuSvm, QemuSvmVgif, QemuQ35Svm, QemuQ35AmdViSvm, QemuUefiSvm, BochsVmx, BochsSvm, Kvm)}


def get_platform(name: str) -> Platform:
    if name not in PLATFORMS:
        raise HarnessError("unknown platform '%s' (known: %s)" % (
            name, ", ".join(PLATFORMS)))
    return PLATFORMS[name]()


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink():
        dst.unlink()
    elif dst.exists():
        raise HarnessError("cannot link %s: %s already exists" % (src, dst))
    dst.symlink_to(src.resolve())


def _first_line(argv: List[str]) -> str:
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = out.decode(errors="replace").strip().splitlines()
    return lines[0] if lines else ""
