"""`python3 -m harness fuzz --platform P --seed S --count N`: a VM-entry fuzzer runs N
mutated states, bare (the platform's own virtualization) and as L1 under nestbed
(nestbed's emulated one); every state whose outcome differs is listed with its mutations.
On AMD-V platforms it is the VMCB12 fuzzer (tests/emulator/nested/svm_fuzz.asm: VMRUN,
#VMEXIT code and EXITINFO), on VT-x platforms the VMCS12 fuzzer (vmx_fuzz.asm: VMLAUNCH,
VMfailInvalid / VMfailValid error / exit reason and qualification). nestbed crashing or
hanging is a failure; a disagreement is a finding to explain (an emulator bug, with the
manual's rule) or fix. EXPLAINED lists the disagreements that are known emulator bugs,
per platform; any other disagreement fails the run."""

import re

from pathlib import Path
from typing import Optional

from . import ROOT, HarnessError, fuzz_vmx
from .platforms import RunSpec, get_platform
from .runner import run

FUZZ_IMAGE = ROOT / "build" / "tests" / "svm_fuzz.elf"
VMX_FUZZ_IMAGE = ROOT / "build" / "tests" / "vmx_fuzz.elf"
LINE = re.compile(r"^fuzz ([0-9a-f]{8}) m ([0-9a-f]{8}) exit ([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16})"
                  r"(?: vmcb ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})(?: ([0-9a-f]{8}))?)?")
EFER_LME, CR0_PG, RFLAGS_TF = 1 << 8, 1 << 31, 1 << 8
CR3_HIGH_MBZ_LONG = 0xfff00000      # CR3 bits 63:52 in the high half (APM vol.2 3.1.2)
# The mutation table of svm_fuzz.asm, in order.
MUTATIONS = ["efer.svme", "efer.lme", "efer.reserved", "cr0.pg", "cr0.pe", "cr0.nw/cd",
             "cr0[63:32]", "cr4.pae", "cr4[63:32]", "cr3[52]", "dr6[63:32]", "dr7[63:32]",
             "cs.l", "cs.d", "no-vmrun-intercept", "asid=0", "asid=random", "eventinj=random",
             "iopm-beyond-maxphyaddr", "msrpm-beyond-maxphyaddr", "long-mode", "rflags=random"]


def describe(mutations: str, table=None) -> str:
    table = MUTATIONS if table is None else table
    ids = [int(mutations[i:i + 2], 16) for i in range(0, 8, 2)]
    # the asm shifts one byte in per mutation into 0xffffffff: ff bytes are unused
    names = [table[i] if i < len(table) else "#%d" % i for i in ids if i != 0xff]
    return "+".join(names)


def outcome(code: str) -> str:
    low = int(code, 16) & 0xffffffff     # QEMU and Bochs differ above bit 31 for INVALID
    return {0xffffffff: "VMEXIT_INVALID", 0x78: "HLT", 0x7f: "SHUTDOWN"}.get(low, "%#x" % low)


class State:
    """One fuzz line: the mutations, the #VMEXIT code and info, and the low halves of
    EFER, CR0, CR4 and RFLAGS and the high half of CR3 that VMRUN was given."""

    def __init__(self, groups):
        self.mutations, self.code, self.info1, self.info2 = groups[:4]
        vmcb = [int(g, 16) if g else 0 for g in groups[4:9]]
        self.efer, self.cr0, self.cr4, self.cr3_high, self.rflags = vmcb

    @property
    def long_mode(self) -> bool:
        return bool(self.efer & EFER_LME and self.cr0 & CR0_PG)

    def outcome(self) -> str:
        return outcome(self.code)


# A platform whose emulator dies on some states (a panic instead of VMEXIT_INVALID) is
# restarted at the state it died on, to see it die there again (a run lost to a loaded
# machine is no finding), then from the state after; at most this many restarts a run.
MAX_RESTARTS = 100


class Died:
    """A state the emulator did not survive: no #VMEXIT, only the reason it stopped."""

    def __init__(self, reason: str):
        self.reason = reason
        self.mutations = "ffffffff"       # not printed: the nestbed run's line names them
        self.code, self.info1, self.info2 = "died", "", ""
        self.efer = self.cr0 = self.cr4 = self.cr3_high = self.rflags = 0
        self.fields = {}

    long_mode = False

    def outcome(self) -> str:
        return "DIED"


def collect(platform, bare: bool, seed: int, count: int, timeout: float, say,
            fuzzer=None, nestbed: Optional[Path] = None, cpus: int = 1):
    """{state index: State or Died}, and the reason the last run did not finish (None
    when every state ran). nestbed is never restarted: dying there is the failure.
    The states carry the run's capabilities (`caps`, VT-x only) for the explanations."""
    fuzzer = fuzzer or SVM_FUZZER
    lines = {}
    caps = {}
    announced, rules = {}, {}       # state index: mutations, nestbed's rule (VT-x)
    current = [None]
    first, restarts, failure = 0, 0, None
    suspected = {}                  # state index: why the first run that reached it died
    while first < count:
        spec = RunSpec(image=fuzzer.image, bare=bare, nestbed=None if bare else nestbed,
                       args=["seed=%d" % seed, "count=%d" % count, "first=%d" % first],
                       cpus=cpus)

        def on_line(line, test):
            text = line.strip()
            got = fuzzer.parse_caps(text)
            if got is not None:
                caps.update(got)
                return
            m = fuzzer.state_line.match(text) if fuzzer.state_line else None
            if m:
                current[0] = int(m.group(1), 16)
                announced[current[0]] = m.group(2)
                return
            m = fuzzer.rule_line.match(text) if fuzzer.rule_line else None
            if m and current[0] is not None:
                rules[current[0]] = m.group(1)
                return
            m = fuzzer.line.match(text)
            if m:
                index = int(m.group(1), 16)
                lines[index] = fuzzer.state(m.groups()[1:])
                lines[index].rule = rules.get(index)
        result = run(platform, spec, timeout=timeout, on_line=on_line)
        if result.verdict == "pass":
            failure = None
            break
        failure = result.reason
        died_at = max([i for i in lines if i >= first], default=first - 1) + 1
        if not bare or died_at >= count or restarts == MAX_RESTARTS:
            break
        restarts += 1
        if died_at not in suspected:
            # a state is the emulator's death only when a run starting at it dies there
            # again: a run lost to the machine (a timeout under load) is not a finding
            suspected[died_at] = result.reason
            first = died_at
            failure = None
            continue
        say("harness: fuzz: %s bare died on state %d: %s" % (platform.name, died_at, result.reason))
        lines[died_at] = Died(result.reason)
        lines[died_at].mutations = announced.get(died_at, "ffffffff")
        first = died_at + 1
        failure = None
    for state in lines.values():
        state.caps = caps
    mode = "bare" if bare else "nestbed"
    died = sum(1 for x in lines.values() if isinstance(x, Died))
    say("harness: fuzz: %s %s: %d states%s, %s" % (
        platform.name, mode, len(lines),
        " (the emulator died on %d and was restarted after each)" % died if died else "",
        "finished" if failure is None else "did not finish (%s)" % failure))
    return failure, lines


def qemu_cr3_checked_in_host_mode(bare, nested) -> bool:
    # bare: a legacy-mode L1 (svm_fuzz) runs a long-mode L2 whose CR3 has MBZ bits set
    return (bare.long_mode and bare.cr3_high & CR3_HIGH_MBZ_LONG != 0
            and bare.outcome() != "VMEXIT_INVALID" and nested.outcome() == "VMEXIT_INVALID")


def bochs_skips_cr3_check(bare, nested) -> bool:
    return (bare.long_mode and bare.cr3_high & CR3_HIGH_MBZ_LONG != 0
            and bare.outcome() != "VMEXIT_INVALID" and nested.outcome() == "VMEXIT_INVALID")


def bochs_steps_into_host(bare, nested) -> bool:
    # bare: the single-step #DB reaches svm_fuzz, which has no IDT: a triple fault
    return (isinstance(bare, Died) and "exception with no resolution" in bare.reason
            and nested.rflags & RFLAGS_TF != 0 and nested.outcome() == "HLT")


def bochs_panics_on_lma_without_pe(bare, nested) -> bool:
    return (isinstance(bare, Died) and "EFER.LMA is set when CR0.PE=0" in bare.reason
            and nested.outcome() == "VMEXIT_INVALID")


def bochs_refuses_cs_l_outside_long_mode(bare, nested) -> bool:
    names = describe(bare.mutations).split("+")
    return ("cs.l" in names and not bare.long_mode and bare.outcome() == "VMEXIT_INVALID"
            and nested.outcome() != "VMEXIT_INVALID")


# (platform, predicate(bare, nested), explanation): disagreements that are emulator bugs.
EXPLAINED = [
    ("qemu-svm", qemu_cr3_checked_in_host_mode,
     "QEMU checks CR3[63:52] at VMRUN against the host's EFER.LMA, not the guest's: a "
     "legacy-mode L1 gets no VMEXIT_INVALID for a long-mode L2 whose CR3 sets bits 63:52 "
     "(APM vol.2 15.5.1 'any MBZ bit of CR3 is set', 3.1.2: bits 63:52 MBZ in long mode); "
     "nestbed applies the rule"),
    ("bochs-svm", bochs_skips_cr3_check,
     "Bochs loads CR3 at VMRUN without checking it: a long-mode L2 whose CR3 sets bits "
     "63:52 runs (APM vol.2 15.5.1 'any MBZ bit of CR3 is set', 3.1.2); nestbed applies "
     "the rule"),
    ("bochs-svm", bochs_steps_into_host,
     "Bochs delivers the single-step #DB of an L2 running with RFLAGS.TF to the host after "
     "the #VMEXIT (the intercepted HLT completes no instruction, so there is no #DB at "
     "all); the bare L1 has no IDT and triple-faults; nestbed ignores that #DB"),
    ("bochs-svm", bochs_panics_on_lma_without_pe,
     "Bochs panics on EFER.LME and CR0.PG set with CR0.PE clear instead of refusing the "
     "state (APM vol.2 15.5.1: VMRUN exits with VMEXIT_INVALID); nestbed refuses it"),
    ("bochs-svm", bochs_refuses_cs_l_outside_long_mode,
     "Bochs refuses the VMRUN of a guest outside long mode whose CS.L is set (VMEXIT_INVALID); "
     "CS.L means nothing there and the APM refuses it only with EFER.LME, CR0.PG, CR4.PAE and "
     "CS.D (APM vol.2 15.5.1, 4.8.1): nestbed runs the state"),
] + fuzz_vmx.EXPLAINED


def explain(platform_name: str, bare, nested):
    for name, predicate, why in EXPLAINED:
        if name == platform_name and predicate(bare, nested):
            return why
    return None


def differs(bare, nested) -> bool:
    if bare.outcome() != nested.outcome():
        return True
    # VMEXIT_INVALID's info fields are not defined; for the rest they must match
    return bare.outcome() not in ("VMEXIT_INVALID", "DIED") and \
        (bare.info1, bare.info2) != (nested.info1, nested.info2)


class Fuzzer:
    """One vendor's fuzzer: its image, its outcome line, its state class, its mutation
    names, how two states compare, and how the capability line reads."""

    def __init__(self, image, line, state, mutations, differs, parse_caps=lambda text: None,
                 state_line=None, rule_line=None, detail=lambda state: ""):
        self.image, self.line, self.state, self.mutations = image, line, state, mutations
        self.differs, self.parse_caps, self.detail = differs, parse_caps, detail
        # optional: the line a state announces itself with before it runs, and nestbed's
        # report of the rule a failed entry broke (its group 1), which follows that line
        self.state_line, self.rule_line = state_line, rule_line

    def with_image(self, image):
        return Fuzzer(image, self.line, self.state, self.mutations, self.differs,
                      self.parse_caps, self.state_line, self.rule_line, self.detail)

    def describe(self, mutations: str) -> str:
        return describe(mutations, self.mutations)


SVM_FUZZER = Fuzzer(FUZZ_IMAGE, LINE, State, MUTATIONS, differs)


VMX_FUZZER = Fuzzer(VMX_FUZZ_IMAGE, fuzz_vmx.LINE, fuzz_vmx.State, fuzz_vmx.MUTATIONS,
                    fuzz_vmx.differs, fuzz_vmx.parse_caps, fuzz_vmx.STATE, fuzz_vmx.NESTBED_RULE,
                    fuzz_vmx.after_text)
VMX_PLATFORMS = ("bochs-vmx",)


def fuzzer_for(platform_name: str) -> Fuzzer:
    return VMX_FUZZER if platform_name in VMX_PLATFORMS else SVM_FUZZER


def run_fuzz(platform_name: str, seed: int, count: int, timeout: float, say,
             require_agreement: bool = False, image: Optional[Path] = None,
             nestbed: Optional[Path] = None, cpus: int = 1) -> int:
    fuzzer = fuzzer_for(platform_name)
    if image is not None:
        fuzzer = fuzzer.with_image(image)
    if not fuzzer.image.is_file():
        raise HarnessError("%s does not exist (run make)" % fuzzer.image)
    if nestbed is not None and not nestbed.is_file():
        raise HarnessError("nestbed image %s does not exist" % nestbed)
    platform = get_platform(platform_name)
    bare_failure, bare = collect(platform, True, seed, count, timeout, say, fuzzer, cpus=cpus)
    nb_failure, nested = collect(platform, False, seed, count, timeout, say, fuzzer, nestbed,
                                 cpus)
    differ = []
    for i in range(count):
        b, n = bare.get(i), nested.get(i)
        if b is None or n is None:
            continue
        if fuzzer.differs(b, n):
            differ.append((i, b, n, explain(platform.name, b, n)))
    for i, b, n, why in differ:
        mutations = n.mutations if isinstance(b, Died) else b.mutations
        rule = getattr(n, "rule", None)
        same = b.outcome() == n.outcome()       # then the details differ: show them
        say("harness: fuzz: state %d (%s): bare %s%s, nestbed %s%s%s: %s" % (
            i, fuzzer.describe(mutations), b.outcome(),
            " [%s]" % fuzzer.detail(b) if same else "", n.outcome(),
            " [%s]" % fuzzer.detail(n) if same else "", " (%s)" % rule if rule else "",
            "explained: " + why if why else "UNEXPLAINED"))
    unexplained = [d for d in differ if d[3] is None]
    both = len([i for i in bare if i in nested])
    say("harness: fuzz: %d states, %d agree, %d differ (%d explained)" % (
        both, both - len(differ), len(differ), len(differ) - len(unexplained)))
    if bare_failure is not None:
        say("harness: FAIL: the bare run did not finish: %s" % bare_failure)
        return 1
    if nb_failure is not None or len(nested) != count:
        say("harness: FAIL: nestbed did not finish the %d states: %s" % (count, nb_failure))
        return 1
    if unexplained:
        say("harness: FAIL: %d states differ from bare without an explanation" % len(unexplained))
        return 1
    if require_agreement and differ:
        say("harness: FAIL: %d of %d states differ from bare" % (len(differ), count))
        return 1
    say("harness: PASS: %s fuzz seed %d: nestbed finished all %d states; %d differ from bare, "
        "each explained" % (platform.name, seed, count, len(differ)))
    return 0
