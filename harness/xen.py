"""`python3 -m harness xen`: Debian's Xen 4.17 (fetched by scripts/fetch-xen) as the
guest, with Debian's Linux (scripts/fetch-linux) as its dom0 kernel module and an
initramfs (scripts/make-xen-initramfs) as the second, booted as a Multiboot kernel bare
(QEMU -kernel) or as nestbed's guest.

dom0 runs in PVH mode by default (`dom0=pvh`, the only option besides the console): dom0
is then a guest Xen runs with VMRUN (L2 under nestbed), and its initramfs runs the exit
loops of guests/linux/xen_exit_loops.c (CPUID, the PCI configuration ports, HLT) and
checks what Xen gives. Xen 4.17 refuses a PVH dom0 without an IOMMU ("Presently, iommu
must be enabled for PVH hardware domain", a panic), so PVH needs qemu-q35-amdvi-svm
(q35 with QEMU's amd-iommu); QEMU 7.2 reports a wrong exit code for an intercepted
RDTSCP, so the CPU model drops rdtscp (PLATFORMS.md); and Xen 4.17 cannot build a PVH dom0
of all of 1 GiB ("Unable to allocate memory with order 0! Failed to setup Dom0 physical
memory map"), so the machine has 2 GiB.

A run passes when Xen reports SVM enabled, hands the CPU to dom0 ("Freed ... init
memory" is the last thing Xen does before it schedules dom0) and dom0's program prints
"xen-loops: PASS"; it fails on the first line that says something went wrong: nestbed
stopping its guest, a Xen panic, an exit-port line (Xen never writes the exit port: that
is nestbed ending the run), a failed TAP test or "xen-loops: FAIL", a dom0 kernel panic.
`--dom0 pv` keeps the former check (Xen starts a PV dom0; what it does next is not
watched: Debian's PV dom0 dies on QEMU TCG's SMAP unless Xen gets `smap=0`);
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
# Xen's console on COM1 (its default is no console at all); nothing else.
XEN_CMDLINE = "console=com1 com1=115200,8n1"
DOM0_CMDLINE = "console=hvc0 earlyprintk=xen"
DOM0_MODES = ("pvh", "pv")
MEMORY = {"pvh": 2048, "pv": 1024}
# A PVH dom0 needs Xen to find an IOMMU (see above): these platforms have one.
PVH_PLATFORMS = ("qemu-q35-amdvi-svm",)
# QEMU 7.2 TCG gives an intercepted RDTSCP the exit code of RDTSC (PLATFORMS.md)
PVH_CPU = "EPYC,+svm,+npt,-rdtscp"
# PCI 00:00.0's vendor | device << 16: the host bridge of QEMU's machine (q35: Intel's
# 82G33/P35 MCH 8086:29c0; pc: i440FX 8086:1237)
HOST_BRIDGE_ID = {"qemu-q35-amdvi-svm": 0x29c08086, "qemu-q35-svm": 0x29c08086,
                  "qemu-svm": 0x12378086}
LOOPS = 2000
TIMEOUTS = {"qemu-svm": 180, "kvm": 180, "qemu-q35-amdvi-svm": 420}

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
DOM0_FATAL = (
    r"^xen-loops: FAIL",
    r"^not ok \d+",
    r"^Bail out!",
    r"Kernel panic - not syncing",
)


def prepare(dom0: str = "pvh", initramfs: Path = INITRAMFS) -> None:
    """Fetches Xen and the dom0 kernel (once each) and builds dom0's initramfs."""
    run_script("fetch-xen")
    run_script("fetch-linux")
    if dom0 == "pvh":
        initramfs.parent.mkdir(parents=True, exist_ok=True)
        run_script("make-xen-initramfs", str(initramfs))


def check_args(platform_name: str, dom0: str) -> None:
    """HarnessError for a platform the dom0 mode cannot run on (before any build)."""
    if dom0 not in DOM0_MODES:
        raise HarnessError("--dom0 is pvh or pv, not %r" % dom0)
    if dom0 == "pvh" and platform_name not in PVH_PLATFORMS:
        raise HarnessError("a PVH dom0 needs an IOMMU that Xen 4.17 finds (it panics: "
                           "\"Presently, iommu must be enabled for PVH hardware domain\"): "
                           "use --platform %s, or --dom0 pv" % " or ".join(PVH_PLATFORMS))
    if dom0 == "pv" and platform_name not in ("qemu-svm", "kvm") + PVH_PLATFORMS:
        raise HarnessError("xen runs on QEMU (-kernel loads Xen as Multiboot), not %s"
                           % platform_name)


def xen_version(path: Path = XEN_VERSION_FILE) -> Optional[str]:
    """"MAJ.MIN" of the fetched package ("4.17.7+13-g..." gives "4.17"), None if unknown."""
    try:
        m = re.match(r"(\d+)\.(\d+)", path.read_text().strip())
    except OSError:
        return None
    return "%s.%s" % (m.group(1), m.group(2)) if m else None


def dom0_cmdline(platform_name: str, dom0: str, loops: Optional[int] = None) -> str:
    """dom0's kernel command line: its console, and for PVH the words its /init hands
    to xen_exit_loops (guests/linux/xen-init.sh)."""
    words = DOM0_CMDLINE.split()
    if dom0 == "pvh":
        words.append("xen_loops.loops=%d" % (loops or LOOPS))
        version = xen_version()
        if version:
            words.append("xen_loops.version=%s" % version)
        if platform_name in HOST_BRIDGE_ID:
            words.append("xen_loops.pci_id=%08x" % HOST_BRIDGE_ID[platform_name])
    return " ".join(words)


def watch_for(platform_name: str, dom0_until: Optional[str] = None,
              dom0: str = "pvh") -> Watch:
    enabled = ANY_ENABLED if platform_name == "kvm" else SVM_ENABLED
    needed: List[str] = [enabled, DOM0_STARTED]
    fatal = FATAL
    if dom0 == "pvh":
        needed.append(LOOPS_PASSED)
        fatal = FATAL + DOM0_FATAL
    return Watch(needed + ([dom0_until] if dom0_until else []), fatal)


def spec_for(bare: bool, xen_args: str = "", memory: Optional[int] = None,
             nestbed_args: str = "", nestbed: Optional[Path] = None,
             platform_name: str = "qemu-svm", dom0: str = "pv", loops: Optional[int] = None,
             initramfs: Path = INITRAMFS) -> RunSpec:
    needed = [(XEN_IMAGE, "scripts/fetch-xen"), (LINUX_DIR / "vmlinuz", "scripts/fetch-linux")]
    if dom0 == "pvh":
        needed.append((initramfs, "scripts/make-xen-initramfs"))
    for path, why in needed:
        if not path.is_file():
            raise HarnessError("%s does not exist (%s failed?)" % (path, why))
    words = XEN_CMDLINE.split() + (["dom0=pvh"] if dom0 == "pvh" else [])
    args = words + xen_args.split()
    modules = [(LINUX_DIR / "vmlinuz", dom0_cmdline(platform_name, dom0, loops))]
    cpu_model = None
    if dom0 == "pvh":
        modules.append((initramfs, ""))
        cpu_model = PVH_CPU
    memory = memory or MEMORY[dom0]
    if bare:
        return RunSpec(image=XEN_IMAGE, args=args, bare=True, memory=memory, modules=modules,
                       cpu_model=cpu_model)
    return RunSpec(image=XEN_IMAGE, args=args, bare=False, memory=memory, nestbed=nestbed,
                   nestbed_args=nestbed_args, modules=modules, cpu_model=cpu_model)
