"""`python3 -m harness linux`: Debian's Linux kernel as the guest (L1), with a busybox
initramfs whose /init reports one TAP test (it reached user space) and ends the run
through the exit protocol. Under nestbed the kernel is the ELF vmlinux (PVH entry);
bare, QEMU boots the same vmlinux through PVH and Bochs the bzImage through GRUB."""

import subprocess
from pathlib import Path

from . import ROOT, HarnessError
from .platforms import RunSpec

LINUX_DIR = ROOT / "downloads" / "linux"
INITRAMFS = ROOT / "build" / "linux" / "initramfs.cpio"
CMDLINE = "console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check panic=-1"
MEMORY = 1024
TIMEOUTS = {"qemu-svm": 120, "qemu-uefi-svm": 180, "kvm": 120, "bochs-vmx": 600,
            "bochs-svm": 600}
PREPARE_TIMEOUT = 600


def run_script(name: str, *args: str) -> None:
    """Runs scripts/NAME (a fetch or build step), bounded; its last line on failure."""
    try:
        done = subprocess.run([str(ROOT / "scripts" / name), *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=PREPARE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise HarnessError("scripts/%s took longer than %d s" % (name, PREPARE_TIMEOUT))
    if done.returncode != 0:
        last = done.stdout.decode(errors="replace").strip().splitlines()
        raise HarnessError("scripts/%s failed: %s" % (name, last[-1] if last else
                                                     "exit %d" % done.returncode))


def prepare() -> None:
    """Fetches the kernel (once) and builds the initramfs."""
    run_script("fetch-linux")
    INITRAMFS.parent.mkdir(parents=True, exist_ok=True)
    run_script("make-initramfs", str(INITRAMFS))


# Debian's 6.1 kernel stalls on Bochs' tigerlake model after "LSM: Security Framework
# initializing" (Bochs reports inconsistent XSAVE sizes there); corei7_skylake_x boots it,
# as PLATFORMS.md measured.
BOCHS_VMX_LINUX_MODEL = "corei7_skylake_x"


def cpu_check_args(cpus: int, bare: bool) -> list:
    """Kernel arguments for the initramfs's linux/cpus-online test: every one of the
    machine's CPUs online, and under nestbed each with nestbed's CPUID policy (the
    hypervisor bit) -- scripts/make-initramfs."""
    return ["nestbed.cpus=%d" % cpus] + ([] if bare else ["nestbed.hv=1"])


def spec_for(platform_name: str, bare: bool, memory: int = MEMORY, nestbed_args: str = "",
             nestbed=None) -> RunSpec:
    if bare and platform_name.startswith("bochs"):
        kernel = LINUX_DIR / "vmlinuz"
    else:
        kernel = LINUX_DIR / "vmlinux"
    if not kernel.is_file():
        raise HarnessError("%s does not exist (scripts/fetch-linux failed?)" % kernel)
    model = BOCHS_VMX_LINUX_MODEL if platform_name == "bochs-vmx" else None
    if bare:
        return RunSpec(image=kernel, args=CMDLINE.split(), bare=True, memory=memory,
                       modules=[(INITRAMFS, "")], cpu_model=model)
    return RunSpec(image=kernel, args=CMDLINE.split(), bare=False, memory=memory,
                   nestbed=nestbed, nestbed_args=nestbed_args,
                   modules=[(INITRAMFS, "initrd")], cpu_model=model)
