"""`python3 -m harness kvm`: Debian's Linux as L1 with its KVM modules; a static KVM-API
program (guests/linux/kvm_l2_runner.c) creates a VM through /dev/kvm and runs L2 code doing
port I/O, CPUID and HLT, checking each exit, then times N in-kernel CPUID exits and N
port-I/O exits to user space. The initramfs (scripts/make-kvm-initramfs) loads the modules
with the kvm.* / kvm_amd.* / kvm_intel.* parameters of the kernel command line (--l1-args),
runs the program, which prints the TAP, and ends the run through the exit protocol.

Under nestbed the kernel is the ELF vmlinux (PVH entry); bare, QEMU boots the same vmlinux
through PVH and Bochs the bzImage through GRUB (as `harness linux` does)."""

from pathlib import Path
from typing import List, Optional

from . import ROOT, HarnessError
from .linux import BOCHS_VMX_LINUX_MODEL, CMDLINE, LINUX_DIR, run_script
from .platforms import RunSpec

INITRAMFS = ROOT / "build" / "kvm" / "initramfs.cpio"
MEMORY = 1024
# A run on QEMU TCG takes ~5 s bare (boot, 10k + 10k L2 exits); Bochs ~150 s bare.
TIMEOUTS = {"qemu-svm": 180, "qemu-uefi-svm": 240, "kvm": 180, "bochs-vmx": 900,
            "bochs-svm": 900}
DEFAULT_TIMEOUT = 180
LOOPS_PARAM = "kvm_l2_runner.loops"
# L2's vCPUs (guests/linux/kvm-init.sh hands them to kvm_l2_runner --vcpus) and, with
# more than one, the demand that each vCPU thread have its own L1 CPU (--pin)
VCPUS_PARAM = "kvm_l2.vcpus"
PIN_PARAM = "kvm_l2.pin"
MAX_VCPUS = 8   # kvm_l2_runner's MAX_VCPUS


def prepare(initramfs: Path = INITRAMFS) -> None:
    """Fetches the kernel and its modules (once) and builds the KVM initramfs."""
    run_script("fetch-linux")
    initramfs.parent.mkdir(parents=True, exist_ok=True)
    run_script("make-kvm-initramfs", str(initramfs))


def l1_cmdline(l1_args: str = "", loops: Optional[int] = None,
               vcpus: Optional[int] = None) -> List[str]:
    """The L1 kernel's command line: the usual one, the user's words (module parameters
    such as kvm_amd.npt=0 among them), the loop count and L2's vCPU count for the runner.
    With several vCPUs the runner is asked to pin each vCPU thread to its own CPU, so
    fewer L1 CPUs than vCPUs is a failure, unless the user's words set kvm_l2.pin
    themselves (kvm_l2.pin=0: a skip)."""
    extra = l1_args.split()
    for word in extra:
        if any(c in word for c in "\"'\\\n"):
            raise HarnessError("--l1-args: the word %r has a quote, backslash or newline"
                               % word)
    args = CMDLINE.split() + extra
    if loops is not None:
        if loops < 1:
            raise HarnessError("--loops must be at least 1, not %d" % loops)
        args.append("%s=%d" % (LOOPS_PARAM, loops))
    if vcpus is not None:
        if not 1 <= vcpus <= MAX_VCPUS:
            raise HarnessError("--vcpus must be 1 to %d, not %d" % (MAX_VCPUS, vcpus))
        args.append("%s=%d" % (VCPUS_PARAM, vcpus))
        if vcpus > 1 and not any(w.startswith(PIN_PARAM + "=") for w in extra):
            args.append("%s=1" % PIN_PARAM)
    return args


def check_args(bare: bool, l1_args: str = "", loops: Optional[int] = None,
               nestbed: Optional[Path] = None, vcpus: Optional[int] = None) -> None:
    """HarnessError for options that cannot work together (checked before any build)."""
    l1_cmdline(l1_args, loops, vcpus)
    if bare and nestbed is not None:
        raise HarnessError("--nestbed has no effect with --bare")


def timeout_for(platform_name: str, timeout: Optional[float] = None) -> float:
    return timeout or TIMEOUTS.get(platform_name, DEFAULT_TIMEOUT)


def spec_for(platform_name: str, bare: bool, memory: int = MEMORY, l1_args: str = "",
             loops: Optional[int] = None, nestbed: Optional[Path] = None,
             nestbed_args: str = "", initramfs: Path = INITRAMFS,
             vcpus: Optional[int] = None) -> RunSpec:
    if bare and platform_name.startswith("bochs"):
        kernel = LINUX_DIR / "vmlinuz"
    else:
        kernel = LINUX_DIR / "vmlinux"
    if not kernel.is_file():
        raise HarnessError("%s does not exist (scripts/fetch-linux failed?)" % kernel)
    check_args(bare, l1_args, loops, nestbed, vcpus)
    args = l1_cmdline(l1_args, loops, vcpus)
    # the Bochs model Debian's kernel boots on (harness/linux.py: it stalls on tigerlake)
    model = BOCHS_VMX_LINUX_MODEL if platform_name == "bochs-vmx" else None
    if bare:
        return RunSpec(image=kernel, args=args, bare=True, memory=memory,
                       modules=[(initramfs, "")], cpu_model=model)
    return RunSpec(image=kernel, args=args, bare=False, memory=memory, nestbed=nestbed,
                   nestbed_args=nestbed_args, modules=[(initramfs, "initrd")], cpu_model=model)
