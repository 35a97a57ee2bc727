"""Emulator scenarios for `make test` (tests/run_all.py runs them, at most 2 at a time).

A scenario is a `python3 -m harness` command line and the outcome it must have:
    pass     the harness exits 0
    fail     the harness exits non-zero (not 77) and `regex` appears in its output
             (bad-input tests: the image must refuse the input with a clear message)
    skip-ok  exit 0 passes, exit 77 ("harness: SKIP: ...") counts as skipped
A passing scenario with `must_show` also needs that regex in its output (e.g. a probe's
`ok` line without `# SKIP`, where the platform must run it).
Every scenario passes --timeout to the harness; run_all kills it a minute after that.
Paths are relative to the repository root (run_all runs there).
"""

import importlib.util
import os
import re
from dataclasses import dataclass
from typing import Optional, Tuple

# The harness's own timeout per platform, in seconds: the slowest expected run (Bochs at
# ~100 M instructions per second, OVMF's ~4 s boot) with a wide margin.
TIMEOUTS = {"qemu-svm": 60, "qemu-svm-vgif": 120, "qemu-q35-svm": 90, "qemu-q35-amdvi-svm": 90,
            "qemu-uefi-svm": 120, "bochs-vmx": 180, "bochs-svm": 180, "kvm": 60}
NESTBED_ELF = "build/nestbed.elf"
NESTBED_EFI = "build/nestbed.efi"
CONFORMANCE = "build/guests/conformance.elf"
CONFORMANCE_EFI = "build/guests/conformance.efi"   # the same catalogue as a UEFI application
SVM_SMOKE = "build/tests/svm_smoke.elf"    # tests/emulator/nested/svm_smoke.asm
VMX_SMOKE = "build/tests/vmx_smoke.elf"    # tests/emulator/nested/vmx_smoke.asm
BROKEN_GUEST = "tests/emulator/data/broken-guest.bin"   # 1 KiB of junk, no Multiboot header
BAD_IMAGES_DIR = "build/tests/bad-images"   # tests/fuzz/guest_images.py bad (make test)
EMULATED = ("qemu-svm", "qemu-uefi-svm", "bochs-vmx", "bochs-svm")


@dataclass(frozen=True)
class Scenario:
    name: str
    argv: Tuple[str, ...]           # arguments of `python3 -m harness`
    expect: str                     # "pass", "fail" or "skip-ok"
    regex: Optional[str] = None     # for "fail": must appear in the output
    timeout: float = 60             # the harness's --timeout
    must_show: Optional[str] = None  # for "pass": must appear in the output too


def run(name, platform, *rest, expect="pass", regex=None, must_show=None):
    timeout = TIMEOUTS[platform]
    argv = ("run", "--platform", platform, "--timeout", "%g" % timeout) + rest
    return Scenario(name, argv, expect, regex, timeout, must_show)


# The platforms where nestbed runs guests (an L0 backend exists for their vendor);
# on qemu-uefi-svm it is nestbed.efi, which exits boot services first.
NESTBED_L0 = ("qemu-svm", "qemu-uefi-svm", "bochs-svm", "bochs-vmx")
IOMMU_PLATFORMS = ("qemu-q35-svm", "qemu-q35-amdvi-svm")
_DMA_PROBES = r"^ok \d+ - isolation/dma-ahci\n(.*\n)*ok \d+ - isolation/iommu-hidden\n"
IOMMU_MUST_SHOW = {
    "qemu-q35-svm": _DMA_PROBES + r"(.*\n)*nestbed: iommu fault: unit 0x[0-9a-f]+ recorded "
                    r"\d+ blocked DMA request\(s\), the first a write by 00:1f\.2 at ",
    "qemu-q35-amdvi-svm": r"^nestbed: iommu amd-vi: 1 of 1 unit\(s\) translating .*\n(.*\n)*"
                          + _DMA_PROBES}
VIOMMU_MUST_SHOW = (r"^nestbed: viommu: the guest programs a virtual AMD-Vi at .*\n(.*\n)*"
                   r"^ok \d+ - isolation/viommu-dma\n(.*\n)*"
                   r"^nestbed: viommu: L1 did not enable its AMD-Vi unit: \d+ register accesses, "
                   r"[1-9]\d* commands, [1-9]\d* page-table copies built \([1-9]\d* leaves, "
                   r"[1-9]\d* entries left out\)")
# The exit trace (README.md "Traces"): L1's VMRUN/VMLAUNCH by the manual's name as a
# kvm_exit, then L2's CPUID as a kvm_nested_vmexit that nestbed reflects to L1.
SVM_TRACE_MUST_SHOW = (
    r"^nestbed-trace cpu0 l1 vm_insn kvm_exit: vcpu 0 reason VMRUN code 0x80 rip 0x[0-9a-f]+ "
    r"info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} error_code 0x[0-9a-f]{8}\n"
    r"(.*\n)*^nestbed-trace cpu0 l2 cpuid kvm_nested_vmexit: vcpu 0 reason CPUID code 0x72 "
    r"rip 0x[0-9a-f]+ .*\n^nestbed-trace cpu0 l2 cpuid kvm_nested_vmexit_inject: vcpu 0 "
    r"reason CPUID code 0x72 info1 ")
VMX_TRACE_MUST_SHOW = (
    r"^nestbed-trace cpu0 l1 vm_insn kvm_exit: vcpu 0 reason VMLAUNCH code 0x14 rip 0x[0-9a-f]+ "
    r"info1 0x[0-9a-f]{16} info2 0x[0-9a-f]{16} intr_info 0x[0-9a-f]{8} error_code 0x[0-9a-f]{8}\n"
    r"(.*\n)*^nestbed-trace cpu0 l2 cpuid kvm_nested_vmexit: vcpu 0 reason CPUID code 0xa "
    r"rip 0x[0-9a-f]+ .*\n^nestbed-trace cpu0 l2 cpuid kvm_nested_vmexit_inject: vcpu 0 "
    r"reason CPUID code 0xa info1 ")
PROFILE_TIMEOUT = 300          # every instruction logged: ~25 s alone
FUZZ_TIMEOUT = 120             # one emulator run of a fuzzer
FUZZ_SCENARIO_TIMEOUT = 480    # the whole fuzz: bare Bochs is restarted after each death
LINUX_TIMEOUT = 120
# Four TCG vCPU threads on a 2-core machine while other emulator runs share it: a boot of
# ~30 s quiet once took over 120 s bare in make test (no console line to show a hang).
LINUX_4CPUS_TIMEOUT = 300


# Probes a platform fails because the emulator departs from the manual (each with its
# rule in the file and in guests/README.md): they do not fail the conformance runs, any
# other failure does. qemu-uefi-svm is the same QEMU.
KNOWN_FAILURES = {"qemu-svm": "tests/emulator/known-failures/qemu-svm.txt",
                  "qemu-svm-vgif": "tests/emulator/known-failures/qemu-svm.txt",
                  "qemu-q35-svm": "tests/emulator/known-failures/qemu-svm.txt",
                  "qemu-q35-amdvi-svm": "tests/emulator/known-failures/qemu-svm.txt",
                  "qemu-uefi-svm": "tests/emulator/known-failures/qemu-svm.txt",
                  "bochs-svm": "tests/emulator/known-failures/bochs-svm.txt",
                  "bochs-vmx": "tests/emulator/known-failures/bochs-vmx.txt"}


def conformance(name, platform, *rest):
    known = KNOWN_FAILURES.get(platform)
    extra = ("--known-failures", known) if known else ()
    return run(name, platform, *(extra + rest + (CONFORMANCE,)))


# The smp/ probes with two CPUs, bare (the emulator's own SMP): the selection keeps the run
# short; with one CPU (every other conformance run) they SKIP.
SMP_PLATFORMS = ("qemu-svm", "bochs-svm", "bochs-vmx")


def smp_conformance(name, platform, *rest):
    return run(name, platform, "--known-failures", KNOWN_FAILURES[platform], "--cpus", "2",
               *(rest + (CONFORMANCE, "smp/*")))


# Under nestbed: nestbed starts every AP itself and parks it in guest mode; the guest's
# INIT and SIPI go through nestbed (AMD-V: emulated; VT-x: the waiting CPU's SIPI exit).
# Bochs 2.7's VT-x never consumes an INIT that reached a CPU in guest mode (SDM 25.2: the
# INIT exit does), so there an AP the guest already ran cannot be INITed again under any
# hypervisor: each probe gets a boot of its own (~10 s each).
SMP_PROBES = ("smp/ap-guest-mode", "smp/ap-startup", "smp/init-exit", "smp/ipi",
              "smp/nested-l2-on-ap", "smp/probe-on-ap", "smp/self-init", "smp/wait-for-sipi")
SMP_NESTBED_SCENARIOS = (
    [smp_conformance("emulator/nestbed/smp/" + p, p) for p in ("qemu-svm", "bochs-svm")]
    + [run("emulator/nestbed/smp/bochs-vmx/" + probe.split("/")[1], "bochs-vmx",
           "--known-failures", KNOWN_FAILURES["bochs-vmx"], "--cpus", "2", CONFORMANCE, probe)
       for probe in SMP_PROBES if probe != "smp/init-exit"]
    # the INIT Bochs never consumes keeps the AP from running at all: nestbed says so
    # (init-exit; logical-init INITs the AP it started, as ap-startup would a second time)
    + [run("emulator/nestbed/smp/bochs-vmx/" + probe.split("/")[1], "bochs-vmx", "--cpus", "2",
           CONFORMANCE, probe, expect="fail",
           regex=r"nestbed: guest failure: CPU 1 delivers the same INIT as an exit at every entry")
       for probe in ("smp/init-exit", "smp/logical-init")]
    + [run("emulator/nestbed/smp/qemu-uefi-svm", "qemu-uefi-svm", "--known-failures",
           KNOWN_FAILURES["qemu-uefi-svm"], "--cpus", "2", CONFORMANCE, "smp/*")])


def linux(name, platform, *rest, timeout=LINUX_TIMEOUT):
    argv = ("linux", "--platform", platform, "--timeout", "%g" % timeout) + rest
    return Scenario(name, argv, "pass", None, timeout)


# Linux KVM as L1 runs a small L2 through /dev/kvm (`harness kvm`), with kvm_amd's NPT
# (kvm_intel's EPT) on and off. ~5 s bare on qemu-svm, ~8 s under nestbed; on bochs-vmx
# (corei7_skylake_x) ~70 s bare (GRUB and the bzImage) and ~45 s under nestbed (PVH).
# Bochs' AMD model does not boot Debian's kernel (guests/README.md): no bochs-svm runs.
KVM_TIMEOUT = {"qemu-svm": 180, "qemu-svm-vgif": 180, "qemu-uefi-svm": 240, "bochs-vmx": 400}
KVM_NPT = {"npt1": (), "npt0": ("--l1-args", "kvm_amd.npt=0")}
KVM_EPT = {"ept1": (), "ept0": ("--l1-args", "kvm_intel.ept=0")}


def kvm_l2(name, platform, *rest):
    timeout = KVM_TIMEOUT[platform]
    argv = ("kvm", "--platform", platform, "--timeout", "%g" % timeout) + rest
    return Scenario(name, argv, "pass", None, timeout)


# Linux KVM as L1 under nestbed, with kvm_amd npt=1 (nestbed's shadow NPT) and npt=0
# (KVM's shadow paging of a paged-real-mode L2). Three nested-SVM bugs kept these off
# (L2's GPRs across #VMEXIT, VMCB12 written through L1's NPT, paged real mode in the
# page walker); all fixed.
KVM_UNDER_NESTBED_PASSES = True
# An L2 with 2 vCPUs on an L1 with one CPU (kvm_l2.pin=0: the runner's threads take turns
# on it, its SMP pinning and concurrency tests skip): each vCPU's exits and the L2 token
# ring through shared memory; under nestbed, L1 switches between two VMCB12s on one CPU.
# ~30 s each on qemu-svm with 2000 loops.
KVM_VCPUS2_1CPU = ("--vcpus", "2", "--l1-args", "kvm_l2.pin=0", "--loops", "2000")
# An L1 with 2 CPUs (each started through nestbed) runs an L2 with 2 vCPUs, one thread
# pinned to each CPU, both inside KVM_RUN at once (kvm/smp-pinned, kvm/smp-concurrent):
# nestbed's nested layer on both CPUs at the same time. ~10 s each on qemu-svm.
KVM_SMP = ("--cpus", "2", "--vcpus", "2")
KVM_SCENARIOS = ([kvm_l2("emulator/kvm-l2/qemu-svm/bare/" + npt, "qemu-svm", "--bare", *args)
                  for npt, args in KVM_NPT.items()]
                 + [kvm_l2("emulator/kvm-l2/qemu-svm/bare/vcpus2-1cpu", "qemu-svm", "--bare",
                           *KVM_VCPUS2_1CPU),
                    kvm_l2("emulator/kvm-l2/qemu-svm/bare/cpus2-vcpus2", "qemu-svm", "--bare",
                           *KVM_SMP)])
KVM_NESTBED_SCENARIOS = ([kvm_l2("emulator/kvm-l2/qemu-svm/nestbed/" + npt, "qemu-svm", *args)
                          for npt, args in KVM_NPT.items()]
                         + [kvm_l2("emulator/kvm-l2/qemu-svm/nestbed/vcpus2-1cpu", "qemu-svm",
                                   *KVM_VCPUS2_1CPU),
                            kvm_l2("emulator/kvm-l2/qemu-svm/nestbed/cpus2-vcpus2", "qemu-svm",
                                   *KVM_SMP)]
                         # the same under nestbed.efi, booted by OVMF (~17 s)
                         + [kvm_l2("emulator/kvm-l2/qemu-uefi-svm/nestbed/npt1",
                                   "qemu-uefi-svm")]
                         # on a CPU with vGIF, which nestbed gives L1: KVM's CLGI/STGI
                         # run without exits (~60 s)
                         + [kvm_l2("emulator/kvm-l2/qemu-svm-vgif/nestbed/npt1",
                                   "qemu-svm-vgif")])
# kvm_intel as L1: bare (Bochs' own nested VT-x) and under nestbed (nestbed's nested VT-x,
# its shadow EPT with ept=1, KVM's shadow paging of the L2 with ept=0)
# An L1 with 2 CPUs runs an L2 with 2 vCPUs on Bochs' VT-x under nestbed: its token ring
# spins with IF = 0, which Bochs 2.7 enters with interrupts blocked (event/external-
# interrupt-if0): nestbed's interrupt poll gives CPU 1 back to L1 for the IPI that CPU 0
# waits on. ~3 min on an idle machine (two Bochs CPUs, one host thread); 50 loops.
KVM_VMX_SMP_TIMEOUT = 900
KVM_VMX_SCENARIOS = (
    [kvm_l2("emulator/kvm-l2/bochs-vmx/bare/ept1", "bochs-vmx", "--bare")]
    + [kvm_l2("emulator/kvm-l2/bochs-vmx/nestbed/" + ept, "bochs-vmx", *args)
       for ept, args in KVM_EPT.items()]
    + [Scenario("emulator/kvm-l2/bochs-vmx/nestbed/cpus2-vcpus2",
                ("kvm", "--platform", "bochs-vmx", "--timeout", "%g" % KVM_VMX_SMP_TIMEOUT)
                + KVM_SMP + ("--loops", "50"), "pass", None, KVM_VMX_SMP_TIMEOUT)])

def _bad_images():
    """name -> regex of nestbed's reason, from the generator of the malformed images."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz",
                        "guest_images.py")
    spec = importlib.util.spec_from_file_location("nestbed_guest_images", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: regex for name, (_, regex) in module.BAD_IMAGES.items()}


# Malformed guest images (issue 11): each must give one `nestbed: guest image NAME: reason`
# line and the exit port, never a hang or an exception in nestbed. All on qemu-svm (~1 s
# each); the wrapping PVH segment and the segment over nestbed's memory on
# bochs-vmx too (~2 s), the wrapping segment also under nestbed.efi (~20 s).
BAD_IMAGE_MORE_PLATFORMS = {"pvh-wrap.elf": ("bochs-vmx", "qemu-uefi-svm"),
                            "pvh-over-nestbed.elf": ("bochs-vmx",)}


def _bad_image_scenarios():
    out = []
    for name, regex in _bad_images().items():
        line = r"^nestbed: guest image %s: %s" % (re.escape(name), regex)
        platforms = ("qemu-svm",) + BAD_IMAGE_MORE_PLATFORMS.get(name, ())
        for p in platforms:
            out.append(run("emulator/bad-input/image/%s/%s" % (name.rsplit(".", 1)[0], p), p,
                           os.path.join(BAD_IMAGES_DIR, name), expect="fail",
                           regex=line + r"[^\n]*\n(.*\n)?exit-port: 2$"))
    return out
# Xen 4.17 as the guest (`harness xen`, harness/xen.py). Bare on q35 with AMD-Vi, with
# Xen's default options (dom0=pvh only): a PVH dom0 runs its exit loops (CPUID, the PCI
# configuration ports, HLT) and checks them, ~2 min on a loaded machine. Under nestbed
# Xen 4.17 gets the IOMMU it needs for a PVH dom0 as nestbed's virtual AMD-Vi (option
# viommu, which the harness adds): 5 of 5 runs passed (40-70 s) once nestbed completed
# L1's pending-interrupt "STI; HLT" (below); emulator/iommu/viommu-dma checks the virtual
# AMD-Vi itself. Bare on qemu-svm a PV dom0 (smap=0 for QEMU TCG's SMAP) starts a PVH domU with
# Xen's toolstack (xl) and the domU runs the same loops, ~4 min. Under nestbed the same
# (the domU is then L2): ~4-6 min, 5 of 5 runs passed once the CPU model dropped XSAVE
# (QEMU ignores the XSETBV intercept, harness/xen.py) and nestbed completed a
# pending-interrupt "STI; HLT" of L1 itself (QEMU's VMRUN ignores the interrupt shadow,
# src/svm/svm_backend.c); it replaces the PV-dom0-only run, which it contains.
XEN_TIMEOUT = 600
XEN_DOMU_TIMEOUT = 900


def xen(name, platform, timeout, must_show, *rest):
    argv = ("xen", "--platform", platform, "--timeout", "%g" % timeout) + rest
    return Scenario(name, argv, "pass", None, timeout, must_show)


XEN_SCENARIOS = [
    xen("emulator/xen/qemu-q35-amdvi-svm/bare-pvh-dom0", "qemu-q35-amdvi-svm", XEN_TIMEOUT,
        r"ok 7 - xen/dom0/hlt-wakes", "--bare"),
    xen("emulator/xen/qemu-q35-amdvi-svm/nestbed-pvh-dom0", "qemu-q35-amdvi-svm", XEN_TIMEOUT,
        r"ok 7 - xen/dom0/hlt-wakes"),
    xen("emulator/xen/qemu-svm/bare-pv-dom0-pvh-domu", "qemu-svm", XEN_DOMU_TIMEOUT,
        r"ok 7 - xen/domU/hlt-wakes", "--bare", "--dom0", "pv", "--domu"),
    xen("emulator/xen/qemu-svm/nestbed-pv-dom0-pvh-domu", "qemu-svm", XEN_DOMU_TIMEOUT,
        r"ok 7 - xen/domU/hlt-wakes", "--dom0", "pv", "--domu"),
]


def _selftest(platform):
    image = NESTBED_EFI if platform == "qemu-uefi-svm" else NESTBED_ELF
    return run("emulator/selftest/" + platform, platform, "--bare", image, "selftest")


SCENARIOS = (
    # nestbed's own L0 self-tests, booted bare on every emulated platform
    [_selftest(p) for p in EMULATED]
    # the conformance guest on the platform itself (no nestbed): the baseline
    + [conformance("emulator/bare/conformance/" + p, p, "--bare") for p in EMULATED]
    # several CPUs: AP start-up, IPIs, self-INIT, probes on an AP
    + [smp_conformance("emulator/bare/smp/" + p, p, "--bare") for p in SMP_PLATFORMS]
    + [run("emulator/bare/smp-efi/qemu-uefi-svm", "qemu-uefi-svm", "--bare", "--known-failures",
           KNOWN_FAILURES["qemu-uefi-svm"], "--cpus", "2", CONFORMANCE_EFI, "smp/*")]
    # the catalogue's UEFI build, booted by OVMF itself (no GRUB, no Multiboot)
    + [run("emulator/bare/conformance-efi/qemu-uefi-svm", "qemu-uefi-svm", "--bare",
           "--known-failures", KNOWN_FAILURES["qemu-uefi-svm"], CONFORMANCE_EFI)]
    + [
        # bad input must give a one-line reason, never a hang
        run("emulator/bad-input/nestbed-cmdline", "qemu-svm", "--bare", NESTBED_ELF,
            "--bogus-option", expect="fail", regex=r"nestbed: bad command line"),
        run("emulator/bad-input/no-guest", "qemu-svm", "--bare", NESTBED_ELF,
            expect="fail", regex=r"nestbed: no guest"),
        run("emulator/bad-input/broken-guest", "qemu-svm", BROKEN_GUEST,
            expect="fail", regex=r"nestbed: guest image"),
        # nestbed.efi: no guest named, a guest file missing from the boot volume, a guest
        # that is junk
        run("emulator/bad-input/uefi-no-guest", "qemu-uefi-svm", "--bare", NESTBED_EFI,
            expect="fail", regex=r"nestbed: no guest: name it .* \\nestbed\.cfg"),
        run("emulator/bad-input/uefi-missing-guest", "qemu-uefi-svm", "--bare", NESTBED_EFI,
            "---", "\\missing.elf", expect="fail",
            regex=r"nestbed: module \\missing\.elf: not found"),
        run("emulator/bad-input/uefi-broken-guest", "qemu-uefi-svm", BROKEN_GUEST,
            expect="fail", regex=r"nestbed: guest image broken-guest\.bin: not a Multiboot"),
        *_bad_image_scenarios(),
        run("emulator/bad-input/harness-missing-image", "qemu-svm", "--bare",
            "does/not/exist.elf", expect="fail", regex=r"harness: error"),
        # require-iommu on a machine without an IOMMU (qemu-svm: i440fx, no DMAR)
        run("emulator/bad-input/require-iommu", "qemu-svm", "--nestbed-args", "require-iommu",
            CONFORMANCE, expect="fail",
            regex=r"^nestbed: require-iommu: no IOMMU keeps device DMA out of nestbed's "
                  r"memory \(no ACPI DMAR or IVRS table\)"),
        # KVM runs only where the host has VT-x/AMD-V; elsewhere it must skip, not fail
        run("emulator/kvm/availability", "kvm", "--bare", CONFORMANCE, expect="skip-ok"),
    ]
    # nestbed as L0: the conformance guest as its L1, on every backend it has
    + [conformance("emulator/nestbed/conformance/" + p, p) for p in NESTBED_L0]
    # q35 with an IOMMU (VT-d; AMD-Vi) and an AHCI disk: the conformance guest bare and
    # under nestbed (same QEMU, same known failures), and under require-iommu the DMA
    # probe and the ACPI-view probe must run, not skip: the guest's own DMA works, DMA
    # aimed at nestbed's image does not arrive, no RSDT/XSDT entry names the IOMMU's
    # table. VT-d also records the AHCI's blocked write, which nestbed prints (QEMU 7.2's
    # AMD-Vi logs no events: its status test is always true, so there is no such line).
    + [conformance("emulator/%s/conformance/%s" % (mode, p), p,
                   *(("--bare",) if mode == "bare" else ()))
       for p in IOMMU_PLATFORMS for mode in ("bare", "nestbed")]
    + [run("emulator/iommu/dma-ahci/" + p, p, "--nestbed-args", "require-iommu", CONFORMANCE,
           "isolation/*", must_show=IOMMU_MUST_SHOW[p]) for p in IOMMU_PLATFORMS]
    # the virtual AMD-Vi (nestbed's viommu option): the guest programs it to aim the AHCI
    # disk's DMA at nestbed's image (through its own mapping and through an identity map
    # over it); the canary stays, the translated DMA into its own buffer arrives
    + [run("emulator/iommu/viommu-dma/qemu-q35-amdvi-svm", "qemu-q35-amdvi-svm",
           "--nestbed-args", "require-iommu viommu", CONFORMANCE, "isolation/viommu-dma",
           "isolation/dma-ahci", must_show=VIOMMU_MUST_SHOW)]
    # a CPU with vGIF (QEMU's +vgif): bare, its own GIF and vGIF; under nestbed, L1 on the
    # CPU's vGIF (its CLGI/STGI unintercepted) must still hold its interrupts and NMIs
    # while its GIF is 0, and the nested probes must pass as on qemu-svm (~40 s each)
    + [run("emulator/%s/vgif/qemu-svm-vgif" % mode, "qemu-svm-vgif",
           *(("--bare",) if mode == "bare" else ()), "--known-failures",
           KNOWN_FAILURES["qemu-svm-vgif"], CONFORMANCE, "event/*", "vminsn/*", "inject/*")
       for mode in ("bare", "nestbed")]
    # nested AMD-V: a minimal L1 hypervisor checks exact #VMEXIT values, bare (the
    # platform's own SVM) and under nestbed (nestbed's emulated SVM)
    # (under nestbed with the exit trace: each exit by the manual's name, KVM's events)
    + [run("emulator/nested/svm-smoke/%s/%s" % (p, mode), p,
           *(("--bare",) if mode == "bare" else ("--nestbed-args", "trace")), SVM_SMOKE,
           must_show=None if mode == "bare" else SVM_TRACE_MUST_SHOW)
       for p in ("qemu-svm", "bochs-svm") for mode in ("bare", "nestbed")]
    # harness profile (issue 13): nestbed's instructions per exit and function from QEMU's
    # execution log, on the minimal L1 (a nested round trip, and L1's own CPUID exits)
    + [Scenario("emulator/profile/qemu-svm/svm-smoke",
                ("profile", "--platform", "qemu-svm", "--timeout", "%g" % PROFILE_TIMEOUT,
                 "--out", "build/test-profile", SVM_SMOKE), "pass", None, PROFILE_TIMEOUT,
                must_show=r"^nested round trip \(L2 cpuid reflected \+ L1 vmrun\): \d+\.\d "
                          r"nestbed instructions\n(.*\n)*^L1 cpuid exit \(2\): \d+\.\d nestbed "
                          r"instructions\n")]
    # nested VT-x: its twin, bare on Bochs' tigerlake and on Penryn (IA32_VMX_MISC[29]
    # clear there: VMWRITE to EXIT_REASON must fail with error 13), and under nestbed
    # (nestbed's emulated VT-x; not on Penryn: no EPT or unrestricted guest, which
    # nestbed's L0 needs)
    + [run("emulator/nested/vmx-smoke/bochs-vmx/bare", "bochs-vmx", "--bare", VMX_SMOKE),
       run("emulator/nested/vmx-smoke/bochs-vmx-penryn/bare", "bochs-vmx", "--bare",
           "--cpu-model", "core2_penryn_t9600", VMX_SMOKE),
       run("emulator/nested/vmx-smoke/bochs-vmx/nestbed", "bochs-vmx", "--nestbed-args",
           "trace", VMX_SMOKE, must_show=VMX_TRACE_MUST_SHOW),
       # nested=0: nestbed hides VT-x (CPUID.1:ECX.VMX clear), and the L1 says so
       run("emulator/nested/vmx-smoke/bochs-vmx/nestbed-nested0", "bochs-vmx",
           "--nestbed-args", "nested=0", VMX_SMOKE, expect="fail", regex=r"Bail out! no VMX")]
    # the VMCB12 fuzzer bare and under nestbed, 10,000 states on QEMU (~6 s) and 1,000 on
    # Bochs (~40 s: bare Bochs is rerun at each state it dies on, to see it die there
    # again, then from the next one): nestbed must finish
    # every state, and every disagreement with bare must be a known emulator bug
    # (harness/fuzz.py EXPLAINED, guests/README.md)
    + [Scenario("emulator/nested/svm-fuzz/" + p,
                ("fuzz", "--platform", p, "--seed", "1", "--count", str(n),
                 "--timeout", "%g" % FUZZ_TIMEOUT), "pass", None, FUZZ_SCENARIO_TIMEOUT)
       for p, n in (("qemu-svm", 10000), ("bochs-svm", 1000))]
    # the VMCS12 fuzzer (tests/emulator/nested/vmx_fuzz.asm), 2,000 states bare and under
    # nestbed on Bochs' VT-x (~20 s): nestbed must finish every state, and every
    # disagreement must be a Bochs departure from the SDM, a feature nestbed does not
    # offer, or an order the SDM leaves open (harness/fuzz_vmx.py EXPLAINED)
    + [Scenario("emulator/nested/vmx-fuzz/bochs-vmx",
                ("fuzz", "--platform", "bochs-vmx", "--seed", "1", "--count", "2000",
                 "--timeout", "%g" % FUZZ_TIMEOUT), "pass", None, FUZZ_SCENARIO_TIMEOUT)]
    # Debian's Linux as L1 (PVH entry), bare and under nestbed (nestbed.elf, and
    # nestbed.efi from OVMF with vmlinux and the initramfs on the ESP)
    + [linux("emulator/linux/qemu-svm/bare", "qemu-svm", "--bare"),
       linux("emulator/linux/qemu-svm/nestbed", "qemu-svm"),
       linux("emulator/linux/qemu-uefi-svm/nestbed", "qemu-uefi-svm")]
    # several CPUs: every CPU online, each with nestbed's CPUID policy (linux/cpus-online)
    + [linux("emulator/linux/qemu-svm/nestbed-4cpus", "qemu-svm", "--cpus", "4",
             timeout=LINUX_4CPUS_TIMEOUT),
       linux("emulator/linux/qemu-svm/bare-4cpus", "qemu-svm", "--bare", "--cpus", "4",
             timeout=LINUX_4CPUS_TIMEOUT),
       # ~90 s: the PVH vmlinux on Bochs' VT-x, CPU 1 started through nestbed
       Scenario("emulator/linux/bochs-vmx/nestbed-2cpus",
                ("linux", "--platform", "bochs-vmx", "--cpus", "2", "--timeout", "400"),
                "pass", None, 400)]
    + SMP_NESTBED_SCENARIOS
    + KVM_SCENARIOS
    + (KVM_NESTBED_SCENARIOS if KVM_UNDER_NESTBED_PASSES else [])
    + KVM_VMX_SCENARIOS
    + XEN_SCENARIOS
)
