"""`python3 -m harness xen`: Debian's Xen 4.17 (fetched by scripts/fetch-xen) as the
guest, with Debian's Linux (scripts/fetch-linux) as its dom0 kernel module, booted as a
Multiboot kernel bare (QEMU -kernel) or as nestbed's guest.

Xen runs with its default options; only its console is named. A run passes when Xen
reports SVM enabled and then hands the CPU to dom0 ("Freed ... init memory" is the last
thing Xen does before it schedules dom0), and fails on the first line that says a boot
went wrong: nestbed stopping its guest, a Xen panic, or an exit-port line (Xen never
writes the exit port: that is nestbed ending the run). What dom0 does after that is
dom0's business (bare on qemu-svm Debian's PV dom0 dies on QEMU's SMAP unless Xen gets
`smap=0`, PLATFORMS.md): `--dom0-until` waits for a later line instead.

Issue 15 wants more Xen scenarios (HVM guests, the conformance guest as a Xen guest):
they are further `Watch` pattern lists and modules here."""

from pathlib import Path
from typing import List, Optional

from . import ROOT, HarnessError
from .linux import run_script
from .platforms import RunSpec
from .runner import Watch

XEN_DIR = ROOT / "downloads" / "xen"
XEN_IMAGE = XEN_DIR / "xen.elf"
LINUX_DIR = ROOT / "downloads" / "linux"
# Xen's console on COM1 (its default is no console at all); nothing else.
XEN_CMDLINE = "console=com1 com1=115200,8n1"
DOM0_CMDLINE = "console=hvc0 earlyprintk=xen"
MEMORY = 1024
TIMEOUTS = {"qemu-svm": 180, "kvm": 180}

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


def prepare() -> None:
    """Fetches Xen and the dom0 kernel (once each)."""
    run_script("fetch-xen")
    run_script("fetch-linux")


def watch_for(platform_name: str, dom0_until: Optional[str] = None) -> Watch:
    enabled = ANY_ENABLED if platform_name == "kvm" else SVM_ENABLED
    needed: List[str] = [enabled, DOM0_STARTED] + ([dom0_until] if dom0_until else [])
    return Watch(needed, FATAL)


def spec_for(bare: bool, xen_args: str = "", memory: int = MEMORY, nestbed_args: str = "",
             nestbed: Optional[Path] = None) -> RunSpec:
    for path, why in ((XEN_IMAGE, "scripts/fetch-xen"), (LINUX_DIR / "vmlinuz",
                                                         "scripts/fetch-linux")):
        if not path.is_file():
            raise HarnessError("%s does not exist (%s failed?)" % (path, why))
    args = (XEN_CMDLINE + " " + xen_args).split()
    modules = [(LINUX_DIR / "vmlinuz", DOM0_CMDLINE)]
    if bare:
        return RunSpec(image=XEN_IMAGE, args=args, bare=True, memory=memory, modules=modules)
    return RunSpec(image=XEN_IMAGE, args=args, bare=False, memory=memory, nestbed=nestbed,
                   nestbed_args=nestbed_args, modules=modules)
