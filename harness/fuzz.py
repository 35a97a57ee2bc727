"""`python3 -m harness fuzz --platform P --seed S --count N`: the VMCB12 fuzzer
(tests/emulator/nested/svm_fuzz.asm) VMRUNs N mutated VMCBs, bare (the platform's own
AMD-V) and as L1 under nestbed (nestbed's emulated AMD-V); every state whose outcome
differs is listed with its mutations. nestbed crashing or hanging is a failure; a
disagreement is a finding to explain (an emulator bug, with the APM's rule) or fix."""

import re

from . import ROOT, HarnessError
from .platforms import RunSpec, get_platform
from .runner import run

FUZZ_IMAGE = ROOT / "build" / "tests" / "svm_fuzz.elf"
LINE = re.compile(r"^fuzz ([0-9a-f]{8}) m ([0-9a-f]{8}) exit ([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16})")
# The mutation table of svm_fuzz.asm, in order.
MUTATIONS = ["efer.svme", "efer.lme", "efer.reserved", "cr0.pg", "cr0.pe", "cr0.nw/cd",
             "cr0[63:32]", "cr4.pae", "cr4[63:32]", "cr3[52]", "dr6[63:32]", "dr7[63:32]",
             "cs.l", "cs.d", "no-vmrun-intercept", "asid=0", "asid=random", "eventinj=random",
             "iopm-beyond-maxphyaddr", "msrpm-beyond-maxphyaddr", "long-mode", "rflags=random"]


def describe(mutations: str) -> str:
    ids = [int(mutations[i:i + 2], 16) for i in range(0, 8, 2)]
    # the asm shifts one byte in per mutation: the low bytes are the mutations made
    names = [MUTATIONS[i] if i < len(MUTATIONS) else "#%d" % i for i in ids]
    return "+".join(names)


def outcome(code: str) -> str:
    low = int(code, 16) & 0xffffffff     # QEMU and Bochs differ above bit 31 for INVALID
    return {0xffffffff: "VMEXIT_INVALID", 0x78: "HLT", 0x7f: "SHUTDOWN"}.get(low, "%#x" % low)


def collect(platform, bare: bool, seed: int, count: int, timeout: float, say):
    spec = RunSpec(image=FUZZ_IMAGE, args=["seed=%d" % seed, "count=%d" % count], bare=bare)
    lines = {}

    def on_line(line, test):
        m = LINE.match(line.strip())
        if m:
            lines[int(m.group(1), 16)] = m.groups()[1:]
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
        if outcome(b[1]) != outcome(n[1]) or (outcome(b[1]) not in ("VMEXIT_INVALID",) and b[2:] != n[2:]):
            differ.append((i, b, n))
    for i, b, n in differ:
        say("harness: fuzz: state %d (%s): bare %s, nestbed %s" % (
            i, describe(b[0]), outcome(b[1]), outcome(n[1])))
    say("harness: fuzz: %d states, %d agree, %d differ" % (
        min(len(bare), len(nested)), min(len(bare), len(nested)) - len(differ), len(differ)))
    if bare_result.verdict != "pass":
        say("harness: FAIL: the bare run did not finish: %s" % bare_result.reason)
        return 1
    if nb_result.verdict != "pass" or len(nested) != count:
        say("harness: FAIL: nestbed did not finish the %d states: %s" % (count, nb_result.reason))
        return 1
    if require_agreement and differ:
        say("harness: FAIL: %d of %d states differ from bare" % (len(differ), count))
        return 1
    say("harness: PASS: %s fuzz seed %d: nestbed finished all %d states; %d differ from bare" % (
        platform.name, seed, count, len(differ)))
    return 0
