"""The exit trace: parsing its lines, splitting them off the console (run --trace FILE),
trace-stats, and one real run on qemu-svm whose trace must agree with nestbed's own
counters (the nestbed-stats line)."""

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import trace

ROOT = Path(__file__).resolve().parents[2]

L1_CPUID = ("nestbed-trace cpu0 l1 cpuid kvm_exit: vcpu 0 reason CPUID code 0x72 rip 0x103387 "
            "info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 "
            "error_code 0x00000000")
L2_NPF = ("nestbed-trace cpu1 l2 tdp_fault kvm_nested_vmexit: vcpu 1 reason NPF code 0x400 "
          "rip 0xffffffff81000000 info1 0x0000000100000006 info2 0x00000000fee00000 "
          "intr_info 0x80000b0e error_code 0x00000002")
L2_NPF_INJECT = ("nestbed-trace cpu1 l2 tdp_fault kvm_nested_vmexit_inject: vcpu 1 reason NPF "
                 "code 0x400 info1 0x0000000100000006 info2 0x00000000fee00000 "
                 "intr_info 0x80000b0e error_code 0x00000002")


def test_parse_kvm_exit():
    t = trace.parse_line(L1_CPUID)
    assert (t.cpu, t.level, t.kind, t.event, t.reason, t.code, t.rip) == (
        0, 1, "cpuid", "kvm_exit", "CPUID", 0x72, 0x103387)
    assert (t.info1, t.info2, t.intr_info, t.error_code) == (0, 0, 0, 0)


def test_parse_nested_and_inject():
    t = trace.parse_line("\r" + L2_NPF + "\r\n")
    assert (t.cpu, t.level, t.event, t.reason, t.rip) == (1, 2, "kvm_nested_vmexit", "NPF",
                                                          0xffffffff81000000)
    assert (t.info1, t.info2, t.intr_info, t.error_code) == (0x100000006, 0xfee00000,
                                                             0x80000b0e, 2)
    i = trace.parse_line(L2_NPF_INJECT)
    assert i.event == "kvm_nested_vmexit_inject" and i.rip is None and i.info2 == 0xfee00000


@pytest.mark.parametrize("bad", [
    "", "ok 1 - cpuid", "nestbed-trace cpu0 l1 cpuid code=0x72 rip=0x1",   # the old format
    L1_CPUID.replace("kvm_exit", "kvm_entry"), L1_CPUID.replace(" rip 0x103387", " rip zz"),
    L1_CPUID.rsplit(" error_code", 1)[0]])
def test_parse_rejects(bad):
    assert trace.parse_line(bad) is None


def test_splitter_routes_whole_lines():
    tr, out = io.BytesIO(), io.BytesIO()
    s = trace.TraceSplitter(tr, out)
    data = ("nestbed: hello\n" + L1_CPUID + "\nok 1 - x\n" + L2_NPF + "\n" + "exit-port: 0\n").encode()
    # fed in awkward pieces, as a console arrives
    for i in range(0, len(data), 7):
        s.write(data[i:i + 7])
    s.close()
    assert tr.getvalue().decode() == L1_CPUID + "\n" + L2_NPF + "\n"
    assert out.getvalue().decode() == "nestbed: hello\nok 1 - x\nexit-port: 0\n"
    assert s.lines == 2


def test_splitter_shows_a_partial_line_that_is_not_trace():
    tr, out = io.BytesIO(), io.BytesIO()
    s = trace.TraceSplitter(tr, out)
    s.write(b"grub> ")
    assert out.getvalue() == b"grub> "          # a prompt is not held back
    s.write(b"nestbed-tr")
    assert out.getvalue() == b"grub> nestbed-tr"  # after a prompt it is not a line start
    s.write(b"\nnestbed-tr")
    assert out.getvalue() == b"grub> nestbed-tr\n"   # this one might be a trace line
    s.write(b"ace cpu0\n")
    s.close()
    assert tr.getvalue() == b"nestbed-trace cpu0\n"


def test_stats_counts_and_top_rips():
    lines = [L1_CPUID] * 3 + [L1_CPUID.replace("0x103387", "0x2000")] + [L2_NPF, L2_NPF_INJECT,
             "noise", "nestbed-trace garbage"]
    s = trace.stats(lines)
    assert s["exits"] == 5 and s["by_level"] == {1: 4, 2: 1} and s["reflected"] == 1
    assert s["by_cpu"] == {0: 4, 1: 1} and s["unparsed"] == 1
    assert s["by_exit"][0] == ((1, "kvm_exit", "CPUID", "cpuid"), 4)
    assert s["by_rip"][0] == ((1, 0x103387, "CPUID"), 3)
    text = "\n".join(trace.format_stats(s, top=2))
    assert text.startswith("5 exits (L1 4, L2 1), 1 reflected to L1, on 2 CPU(s), "
                           "1 unreadable trace lines")
    assert re.search(r"^\s+4  L1\s+kvm_exit\s+CPUID\s+cpuid$", text, re.M)
    assert re.search(r"^\s+1  L2\s+kvm_nested_vmexit_inject\s+NPF\s+tdp_fault$", text, re.M)
    assert re.search(r"^\s+3  L1\s+0x103387\s+CPUID$", text, re.M)
    assert "0xffffffff81000000" not in text.split("top 2 RIPs")[1]   # only the top 2


@pytest.mark.parametrize("given,wanted", [
    ("", "trace"), ("quiet", "quiet trace"), ("trace=cpuid,io", "trace=cpuid,io"),
    ("quiet trace", "quiet trace"), ("tracex", "tracex trace")])
def test_with_trace_option(given, wanted):
    assert trace.with_trace_option(given) == wanted


def harness(*argv, timeout=60):
    proc = subprocess.run([sys.executable, "-m", "harness", *map(str, argv)], cwd=ROOT,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace")


def test_trace_stats_cli(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("\n".join([L1_CPUID, L1_CPUID, L2_NPF]) + "\n")
    status, out = harness("trace-stats", "--top", "1", f)
    assert status == 0, out
    assert "3 exits (L1 2, L2 1), 0 reflected to L1, on 2 CPU(s)" in out
    empty = tmp_path / "e.txt"
    empty.write_text("nestbed: nothing\n")
    status, out = harness("trace-stats", empty)
    assert status == 2 and "has no nestbed-trace lines" in out
    status, out = harness("trace-stats", tmp_path / "missing.txt")
    assert status == 2 and "cannot read the trace" in out


def test_run_trace_refuses_bare(tmp_path):
    status, out = harness("run", "--platform", "qemu-svm", "--bare", "--trace",
                          tmp_path / "t", "build/guests/conformance.elf")
    assert status == 2 and "--trace is nestbed's exit trace: it needs nestbed" in out


CONFORMANCE = ROOT / "build" / "guests" / "conformance.elf"
NESTBED = ROOT / "build" / "nestbed.elf"


def _need_build():
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("qemu-system-x86_64 is not installed")
    if not (CONFORMANCE.is_file() and NESTBED.is_file()):
        pytest.skip("build/nestbed.elf and build/guests/conformance.elf are not built (make)")


@pytest.mark.emulator
def test_run_trace_agrees_with_nestbeds_counters(tmp_path):
    """Every exit nestbed counts is one trace line, by the manual's name; the trace file
    gets them and the console does not."""
    _need_build()
    f = tmp_path / "trace.txt"
    status, out = harness("run", "--platform", "qemu-svm", "--timeout", "90", "--trace", f,
                          CONFORMANCE, "intercept/cpuid*", "tdp/*", timeout=150)
    assert status == 0, out
    assert "nestbed-trace " not in out
    stats_line = [l for l in out.splitlines() if l.startswith("nestbed-stats ")][-1]
    counted = json.loads(stats_line.split(" ", 1)[1])
    lines = f.read_text().splitlines()
    assert re.search(r"^harness: trace: %d lines in " % len(lines), out, re.M)
    s = trace.stats(lines)
    assert s["unparsed"] == 0
    assert s["exits"] == counted["exits"]
    assert s["reflected"] == counted["reflected"]["total"] > 0
    for level in (1, 2):
        kinds = {}
        for (lvl, event, reason, kind), n in s["by_exit"]:
            if lvl == level and event != "kvm_nested_vmexit_inject":
                kinds[kind] = kinds.get(kind, 0) + n
        want = {k: v for k, v in counted["l%d" % level].items() if k != "total"}
        assert kinds == want, "L%d" % level
    # APM appendix C names: one per exit code
    names = {}
    for text in lines:
        t = trace.parse_line(text)
        assert names.setdefault(t.code, t.reason) == t.reason
    assert names[0x72] == "CPUID" and names[0x80] == "VMRUN" and names[0x7c] == "MSR"
    status, text = harness("trace-stats", f)
    assert status == 0 and re.search(r"^\s+\d+  L1\s+kvm_exit\s+VMRUN\s+vm_insn$", text, re.M)


@pytest.mark.emulator
def test_trace_filter_keeps_only_the_kinds_asked(tmp_path):
    _need_build()
    f = tmp_path / "trace.txt"
    status, out = harness("run", "--platform", "qemu-svm", "--timeout", "90", "--trace", f,
                          "--nestbed-args", "trace=cpuid,io", CONFORMANCE, "intercept/cpuid*",
                          timeout=150)
    assert status == 0, out
    kinds = {trace.parse_line(l).kind for l in f.read_text().splitlines()}
    assert kinds == {"cpuid", "io"}
