"""`python3 -m harness xen`: Debian's Xen 4.17 (fetched by scripts/fetch-xen) as the
guest, with Debian's Linux (scripts/fetch-linux) as its dom0 kernel module and an
initramfs (scripts/make-xen-initramfs) as the second, booted as a Multiboot kernel bare
(QEMU -kernel) or as nestbed's guest.

dom0 runs in PVH mode by default (`dom0=pvh`, the only option besides the console): dom0
is then a guest Xen runs with VMRUN (L2 under nestbed), and its initramfs runs the exit
loops of guests/linux/xen_exit_loops.c (CPUID, the PCI configuration ports, HLT) and
checks what Xen gives. Xen 4.17 refuses a PVH dom0 without an IOMMU ("Presently, iommu
must be enabled for PVH hardware domain", a panic): only on qemu-q35-amdvi-svm (q35
with QEMU's amd-iommu) does Xen find one. Bare, Xen drives QEMU's unit; under nestbed,
which owns the machine's IOMMU, nestbed's option `viommu` (added here for a PVH dom0)
lets Xen program it as a virtual AMD-Vi (src/iommu/vamdvi*.c: registers emulated, DMA
through nestbed's copies of Xen's I/O page tables). Without it (`dom0-iommu=none`, the
switch that skips the check) Xen gives dom0 no identity mappings of the machine's MMIO:
dom0 stalls in its timer setup on pc, or Xen kills it at its first access to GFN 0 on
q35. QEMU 7.2 reports a wrong exit code for an intercepted
RDTSCP, so the CPU model drops rdtscp (PLATFORMS.md); and Xen 4.17 cannot build a PVH dom0
of all of 1 GiB ("Unable to allocate memory with order 0! Failed to setup Dom0 physical
memory map"), so the machine has 2 GiB. The CPU model also drops MONITOR/MWAIT (QEMU's
MWAIT with ECX bit 0 set raises #GP; Xen's idle loop uses it; see PVH_CPU).

A run passes when Xen reports SVM enabled, hands the CPU to dom0 ("Freed ... init
memory" is the last thing Xen does before it schedules dom0) and dom0's program prints
"xen-loops: PASS"; it fails on the first line that says something went wrong: nestbed
stopping its guest, a Xen panic, an exit-port line (Xen never writes the exit port: that
is nestbed ending the run), a failed TAP test or "xen-loops: FAIL", a dom0 kernel panic.
`--dom0 pv` keeps the former check (Xen starts a PV dom0; what it does next is not
watched: Debian's PV dom0 dies on QEMU TCG's SMAP unless Xen gets `smap=0`);
`--domu` also has dom0 start a PVH domU with Xen's toolstack from Debian's packages
(scripts/fetch-xen-tools; guests/linux/xen-domu.sh: xenstored, xl) running the same
loops, and waits for its "xen-loops: PASS xen/domU" too. With `--dom0 pv --domu` (the
way to run a guest of Xen under nestbed, and on qemu-svm) dom0 is PV (Xen gets `smap=0`
for QEMU TCG's SMAP, PLATFORMS.md) and runs no loops (a PV guest's CPUID and port I/O
do not exit through SVM); the domU is the SVM guest (L2 under nestbed).
`--dom0-until` waits for one more line."""

import re
from pathlib import Path
from typing import List, Optional

from . import ROOT, HarnessError
from .linux import run_script
from .platforms import RunSpec
from .runner import Watch

XEN_DIR = ROOT / "downloads" / "xen"
XEN_IMAGE = XEN_DIR / "xen.elf"
XEN_VERSION_FILE = XEN_DIR / "version"      # the package's version (scripts/fetch-xen)
LINUX_DIR = ROOT / "downloads" / "linux"
INITRAMFS = ROOT / "build" / "xen" / "initramfs.cpio"
# with Xen's toolstack, the domU's kernel and initramfs (scripts/make-xen-initramfs --domu)
DOMU_INITRAMFS = ROOT / "build" / "xen" / "initramfs-domu.cpio"
# Xen's console on COM1 (its default is no console at all); nothing else.
XEN_CMDLINE = "console=com1 com1=115200,8n1"
DOM0_CMDLINE = "console=hvc0 earlyprintk=xen"
DOM0_MODES = ("pvh", "pv")
MEMORY = {"pvh": 2048, "pv": 1024}
# Where Xen (bare) finds an IOMMU, which a PVH dom0 needs
PVH_PLATFORMS = ("qemu-q35-amdvi-svm",)
# a PV dom0 on QEMU TCG: its first fault dies on TCG's SMAP otherwise (PLATFORMS.md)
PV_DOM0_ARGS = ["smap=0"]
# The CPU model where Xen runs an SVM guest (a PVH dom0 or domU) or idles: QEMU 7.2 TCG
# gives an intercepted RDTSCP the exit code of RDTSC (PLATFORMS.md), so no RDTSCP; and it
# offers MWAIT's extensions (CPUID 5 ECX: EMX, IBE) but raises #GP for an MWAIT with ECX
# bit 0 set, which Xen's idle loop on family 17h uses (MWAIT_ECX_INTERRUPT_BREAK: Xen
# panics "GENERAL PROTECTION FAULT" in mwait_idle_with_hints), so no MONITOR/MWAIT.
# And no XSAVE: QEMU 7.2 TCG ignores the XSETBV intercept (the known failure
# intercept/xsetbv on qemu-svm), so a guest's XSETBV sets XCR0 behind Xen's back. Xen 4.17
# keeps XCR0 per vCPU and puts its own value back at its next vCPU switch (to dom0 or idle),
# and answers CPUID 0xD with the hardware's size for the XCR0 in context. A domU whose
# CPUID 0xD came after such a switch sized its XSAVE buffers for XCR0 = 3 while it had
# enabled 7 ("XSAVE consistency problem: size 832 != kernel_size 576", then a corrupt kernel
# that stalled after its ACPI setup). Bare, Xen's exits are fast enough that the race is rarely
# lost; under nestbed it was lost in 2 runs of 5.
PVH_CPU = "EPYC,+svm,+npt,-rdtscp,-monitor,-xsave"
# PCI 00:00.0's vendor | device << 16: the host bridge of QEMU's machine (q35: Intel's
# 82G33/P35 MCH 8086:29c0; pc: i440FX 8086:1237)
HOST_BRIDGE_ID = {"qemu-q35-amdvi-svm": 0x29c08086, "qemu-q35-svm": 0x29c08086,
                  "qemu-svm": 0x12378086}
LOOPS = 2000
TIMEOUTS = {"qemu-svm": 420, "kvm": 180, "qemu-q35-amdvi-svm": 420}
DOMU_EXTRA_TIMEOUT = 600

SVM_ENABLED = r"^\(XEN\) HVM: SVM enabled"
ANY_ENABLED = r"^\(XEN\) HVM: (SVM|VMX) enabled"   # kvm: the host's vendor
DOM0_STARTED = r"^\(XEN\) Freed \d+kB init memory"
FATAL = (
    r"^nestbed: guest failure",          # nestbed stopped its guest (e.g. its memory)
    r"^nestbed: fatal",
    r"^exit-port:",                      # nestbed ended the run
    r"^\(XEN\) Panic on CPU",
    r"^\(XEN\) Xen BUG at",
    r"^\(XEN\) HVM: .*disabled",         # the virtualization extensions were refused
)
LOOPS_PASSED = r"^xen-loops: PASS xen/dom0"
DOMU_PASSED = r"^xen-loops: PASS xen/domU"
DOM0_FATAL = (
    r"^xen-loops: FAIL",
    r"^not ok \d+",
    r"^Bail out!",
    r"Kernel panic - not syncing",
    # a kernel warning of dom0 or the domU (the domU's console is at loglevel 5: warnings
    # show, guests/linux/xen-domu.sh), and a task the kernel found stuck: the run stops at
    # once with that line instead of running into its timeout
    r"^\[ *\d+\.\d+\] WARNING: CPU: \d+ PID: \d+ at ",
    r"blocked for more than \d+ seconds",
)


def prepare(dom0: str = "pvh", domu: bool = False) -> None:
    """Fetches Xen and the dom0 kernel (once each), with domu Xen's toolstack, and builds
    dom0's initramfs."""
    run_script("fetch-xen")
    run_script("fetch-linux")
    if dom0 == "pvh" or domu:
        INITRAMFS.parent.mkdir(parents=True, exist_ok=True)
        if domu:
            run_script("fetch-xen-tools")
            run_script("make-xen-initramfs", str(DOMU_INITRAMFS), "--domu")
        else:
            run_script("make-xen-initramfs", str(INITRAMFS))


def check_args(platform_name: str, dom0: str, domu: bool = False) -> None:
    """HarnessError for a platform the dom0 mode cannot run on (before any build)."""
    if dom0 not in DOM0_MODES:
        raise HarnessError("--dom0 is pvh or pv, not %r" % dom0)

    if dom0 == "pvh" and platform_name not in PVH_PLATFORMS:
        raise HarnessError("a PVH dom0 needs an IOMMU Xen finds (Xen 4.17 panics: \"Presently, "
                           "iommu must be enabled for PVH hardware domain\"): use --platform "
                           "%s, or --dom0 pv" % " or ".join(PVH_PLATFORMS))
    if dom0 == "pv" and platform_name not in ("qemu-svm", "kvm", "bochs-vmx") + PVH_PLATFORMS:
        raise HarnessError("xen runs on QEMU (-kernel loads Xen as Multiboot) or under "
                           "nestbed on bochs-vmx, not %s" % platform_name)


def xen_version(path: Optional[Path] = None) -> Optional[str]:
    """"MAJ.MIN" of the fetched package ("4.17.7+13-g..." gives "4.17"), None if unknown.
    The default path is looked up at call time (tests point XEN_VERSION_FILE elsewhere)."""
    try:
        m = re.match(r"(\d+)\.(\d+)", (path or XEN_VERSION_FILE).read_text().strip())
    except OSError:
        return None
    return "%s.%s" % (m.group(1), m.group(2)) if m else None


def dom0_cmdline(platform_name: str, dom0: str, loops: Optional[int] = None,
                 domu: bool = False) -> str:
    """dom0's kernel command line: its console, and for PVH the words its /init hands
    to xen_exit_loops (guests/linux/xen-init.sh)."""
    words = DOM0_CMDLINE.split()
    if dom0 == "pv" and domu:
        words.append("xen_loops.role=pvdom0")
    if dom0 == "pvh" or domu:
        words.append("xen_loops.loops=%d" % (loops or LOOPS))
        version = xen_version()
        if version:
            words.append("xen_loops.version=%s" % version)
        if platform_name in HOST_BRIDGE_ID:
            words.append("xen_loops.pci_id=%08x" % HOST_BRIDGE_ID[platform_name])
        if domu:
            words.append("xen_loops.domu=1")
    return " ".join(words)


def watch_for(platform_name: str, dom0_until: Optional[str] = None,
              dom0: str = "pvh", domu: bool = False) -> Watch:
    enabled = SVM_ENABLED if "svm" in platform_name else ANY_ENABLED
    needed: List[str] = [enabled, DOM0_STARTED]
    fatal = FATAL
    if dom0 == "pvh":
        needed.append(LOOPS_PASSED)
    if dom0 == "pvh" or domu:
        fatal = FATAL + DOM0_FATAL
    if domu:
        needed.append(DOMU_PASSED)
    return Watch(needed + ([dom0_until] if dom0_until else []), fatal)


def spec_for(bare: bool, xen_args: str = "", memory: Optional[int] = None,
             nestbed_args: str = "", nestbed: Optional[Path] = None,
             platform_name: str = "qemu-svm", dom0: str = "pv", loops: Optional[int] = None,
             domu: bool = False) -> RunSpec:
    initramfs = DOMU_INITRAMFS if domu else INITRAMFS
    needed = [(XEN_IMAGE, "scripts/fetch-xen"), (LINUX_DIR / "vmlinuz", "scripts/fetch-linux")]
    if dom0 == "pvh" or domu:
        needed.append((initramfs, "scripts/make-xen-initramfs"))
    for path, why in needed:
        if not path.is_file():
            raise HarnessError("%s does not exist (%s failed?)" % (path, why))
    words = XEN_CMDLINE.split()
    if dom0 == "pvh":
        words.append("dom0=pvh")
    elif domu:
        words += PV_DOM0_ARGS
    args = words + xen_args.split()
    modules = [(LINUX_DIR / "vmlinuz", dom0_cmdline(platform_name, dom0, loops, domu))]
    cpu_model = None
    if dom0 == "pvh" or domu:   # an SVM guest of Xen runs Linux: -rdtscp
        modules.append((initramfs, ""))
        # a QEMU CPU model; Bochs keeps its platform's model (it has no such string)
        cpu_model = PVH_CPU if platform_name.startswith("qemu") else None
    memory = memory or MEMORY[dom0]
    if bare:
        return RunSpec(image=XEN_IMAGE, args=args, bare=True, memory=memory, modules=modules,
                       cpu_model=cpu_model)
    if dom0 == "pvh" and "viommu" not in nestbed_args.split():
        nestbed_args = " ".join(["viommu"] + nestbed_args.split())   # Xen's IOMMU
    return RunSpec(image=XEN_IMAGE, args=args, bare=False, memory=memory, nestbed=nestbed,
                   nestbed_args=nestbed_args, modules=modules, cpu_model=cpu_model)
