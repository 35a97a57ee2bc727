"""`python3 -m harness fuzz --platform P --seed S --count N`: the VMCB12 fuzzer
(tests/emulator/nested/svm_fuzz.asm) VMRUNs N mutated VMCBs, bare (the platform's own
AMD-V) and as L1 under nestbed (nestbed's emulated AMD-V); every state whose outcome
differs is listed with its mutations. nestbed crashing or hanging is a failure; a
disagreement is a finding to explain (an emulator bug, with the APM's rule) or fix.
EXPLAINED lists the disagreements that are known emulator bugs, per platform; any other
disagreement fails the run."""

import re

from . import ROOT, HarnessError
from .platforms import RunSpec, get_platform
from .runner import run

FUZZ_IMAGE = ROOT / "build" / "tests" / "svm_fuzz.elf"
LINE = re.compile(r"^fuzz ([0-9a-f]{8}) m ([0-9a-f]{8}) exit ([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16})"
                  r"(?: vmcb ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}))?")
EFER_LME, CR0_PG = 1 << 8, 1 << 31
CR3_HIGH_MBZ_LONG = 0xfff00000      # CR3 bits 63:52 in the high half (APM vol.2 3.1.2)
# The mutation table of svm_fuzz.asm, in order.
MUTATIONS = ["efer.svme", "efer.lme", "efer.reserved", "cr0.pg", "cr0.pe", "cr0.nw/cd",
             "cr0[63:32]", "cr4.pae", "cr4[63:32]", "cr3[52]", "dr6[63:32]", "dr7[63:32]",
             "cs.l", "cs.d", "no-vmrun-intercept", "asid=0", "asid=random", "eventinj=random",
             "iopm-beyond-maxphyaddr", "msrpm-beyond-maxphyaddr", "long-mode", "rflags=random"]


def describe(mutations: str) -> str:
    ids = [int(mutations[i:i + 2], 16) for i in range(0, 8, 2)]
    # the asm shifts one byte in per mutation into 0xffffffff: ff bytes are unused
    names = [MUTATIONS[i] if i < len(MUTATIONS) else "#%d" % i for i in ids if i != 0xff]
    return "+".join(names)


def outcome(code: str) -> str:
    low = int(code, 16) & 0xffffffff     # QEMU and Bochs differ above bit 31 for INVALID
    return {0xffffffff: "VMEXIT_INVALID", 0x78: "HLT", 0x7f: "SHUTDOWN"}.get(low, "%#x" % low)


class State:
    """One fuzz line: the mutations, the #VMEXIT code and info, and the low halves of
    EFER, CR0 and CR4 and the high half of CR3 that VMRUN was given."""

    def __init__(self, groups):
        self.mutations, self.code, self.info1, self.info2 = groups[:4]
        vmcb = [int(g, 16) if g else 0 for g in groups[4:8]]
        self.efer, self.cr0, self.cr4, self.cr3_high = vmcb

    @property
    def long_mode(self) -> bool:
        return bool(self.efer & EFER_LME and self.cr0 & CR0_PG)

    def outcome(self) -> str:
        return outcome(self.code)


def qemu_cr3_checked_in_host_mode(bare: State, nested: State) -> bool:
    # bare: a legacy-mode L1 (svm_fuzz) runs a long-mode L2 whose CR3 has MBZ bits set
    return (bare.long_mode and bare.cr3_high & CR3_HIGH_MBZ_LONG != 0
            and bare.outcome() != "VMEXIT_INVALID" and nested.outcome() == "VMEXIT_INVALID")


# (platform, predicate(bare, nested), explanation): disagreements that are emulator bugs.
EXPLAINED = [
    ("qemu-svm", qemu_cr3_checked_in_host_mode,
     "QEMU checks CR3[63:52] at VMRUN against the host's EFER.LMA, not the guest's: a "
     "legacy-mode L1 gets no VMEXIT_INVALID for a long-mode L2 whose CR3 sets bits 63:52 "
     "(APM vol.2 15.5.1 'any MBZ bit of CR3 is set', 3.1.2: bits 63:52 MBZ in long mode); "
     "nestbed applies the rule"),
]


def explain(platform_name: str, bare: State, nested: State):
    for name, predicate, why in EXPLAINED:
        if name == platform_name and predicate(bare, nested):
            return why
    return None


def differs(bare: State, nested: State) -> bool:
    if bare.outcome() != nested.outcome():
        return True
    # VMEXIT_INVALID's info fields are not defined; for the rest they must match
    return bare.outcome() != "VMEXIT_INVALID" and (bare.info1, bare.info2) != (nested.info1, nested.info2)


def collect(platform, bare: bool, seed: int, count: int, timeout: float, say):
    spec = RunSpec(image=FUZZ_IMAGE, args=["seed=%d" % seed, "count=%d" % count], bare=bare)
    lines = {}

    def on_line(line, test):
        m = LINE.match(line.strip())
        if m:
            lines[int(m.group(1), 16)] = State(m.groups()[1:])
    result = run(platform, spec, timeout=timeout, on_line=on_line)
    mode = "bare" if bare else "nestbed"
    say("harness: fuzz: %s %s: %d states, verdict %s%s" % (
        platform.name, mode, len(lines), result.verdict,
        "" if result.verdict == "pass" else " (%s)" % result.reason))
    return result, lines


def run_fuzz(platform_name: str, seed: int, count: int, timeout: float, say,
             require_agreement: bool = False) -> int:
    if not FUZZ_IMAGE.is_file():
        raise HarnessError("%s does not exist (run make)" % FUZZ_IMAGE)
    platform = get_platform(platform_name)
    bare_result, bare = collect(platform, True, seed, count, timeout, say)
    nb_result, nested = collect(platform, False, seed, count, timeout, say)
    differ = []
    for i in range(count):
        b, n = bare.get(i), nested.get(i)
        if b is None or n is None:
            continue
        if differs(b, n):
            differ.append((i, b, n, explain(platform.name, b, n)))
    for i, b, n, why in differ:
        say("harness: fuzz: state %d (%s): bare %s, nestbed %s: %s" % (
            i, describe(b.mutations), b.outcome(), n.outcome(),
            "explained: " + why if why else "UNEXPLAINED"))
    unexplained = [d for d in differ if d[3] is None]
    both = min(len(bare), len(nested))
    say("harness: fuzz: %d states, %d agree, %d differ (%d explained as emulator bugs)" % (
        both, both - len(differ), len(differ), len(differ) - len(unexplained)))
    if bare_result.verdict != "pass":
        say("harness: FAIL: the bare run did not finish: %s" % bare_result.reason)
        return 1
    if nb_result.verdict != "pass" or len(nested) != count:
        say("harness: FAIL: nestbed did not finish the %d states: %s" % (count, nb_result.reason))
        return 1
    if unexplained:
        say("harness: FAIL: %d states differ from bare without an explanation" % len(unexplained))
        return 1
    if require_agreement and differ:
        say("harness: FAIL: %d of %d states differ from bare" % (len(differ), count))
        return 1
    say("harness: PASS: %s fuzz seed %d: nestbed finished all %d states; %d differ from bare, "
        "each an emulator bug" % (platform.name, seed, count, len(differ)))
    return 0
