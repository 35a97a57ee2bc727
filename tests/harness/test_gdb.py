"""The README's gdb recipe, run as written: `harness run --gdb` stops QEMU before the first
instruction, gdb -batch loads nestbed.elf's symbols (linked high: no offset, whatever
physical address nestbed moved itself to), breaks in nestbed at its entry and at an exit
of a chosen kind, then in the guest with the guest's own symbols."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NESTBED = ROOT / "build" / "nestbed.elf"
CONFORMANCE = ROOT / "build" / "guests" / "conformance.elf"
pytestmark = pytest.mark.emulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gdb_breaks_in_nestbed_and_in_the_guest(tmp_path):
    for tool in ("gdb", "qemu-system-x86_64"):
        if not shutil.which(tool):
            pytest.skip("%s is not installed" % tool)
    if not (NESTBED.is_file() and CONFORMANCE.is_file()):
        pytest.skip("build/nestbed.elf and build/guests/conformance.elf are not built (make)")
    port = free_port()
    env = dict(os.environ, NESTBED_RUN_ROOT=str(tmp_path / "runs"))
    harness = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--platform", "qemu-svm", "--gdb",
         "--gdb-port", str(port), "--timeout", "150", str(CONFORMANCE), "intercept/cpuid*"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        hint = [harness.stdout.readline().decode() for _ in range(2)]
        assert hint[0].startswith("harness: gdb: QEMU is stopped before the first "
                                  "instruction; its gdbstub listens on 127.0.0.1:%d" % port), hint
        assert "symbol-file build/nestbed.elf" in hint[1] and "break nestbed_main" in hint[1]
        gdb = subprocess.run(
            ["gdb", "-batch", "-nx",
             "-ex", "set pagination off",
             "-ex", "symbol-file %s" % NESTBED,
             "-ex", "target remote 127.0.0.1:%d" % port,
             "-ex", "break nestbed_main",
             "-ex", "continue",
             "-ex", "print/x $pc",
             # every exit passes trace_exit: stop at the first CPUID exit
             "-ex", "break trace_exit if e->kind == EXIT_CPUID",
             "-ex", "continue",
             "-ex", "print e->native_code",
             "-ex", "delete",
             "-ex", "add-symbol-file %s" % CONFORMANCE,
             "-ex", "break cpuid_probe",
             "-ex", "continue",
             "-ex", "print/x $pc",
             "-ex", "kill"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=150)
        out = gdb.stdout.decode(errors="replace")
        # (gdb may warn about the 32-bit boot code's frame in the middle of the line)
        assert re.search(r"^Breakpoint 1, nestbed_main \((.*\n)?.*\) at src/core/main\.c:\d+",
                         out, re.M), out
        assert re.search(r"^\$1 = 0xffffffff80[0-9a-f]{6}$", out, re.M), out   # linked high
        assert re.search(r"^Breakpoint 2, trace_exit \(.*\) at src/core/trace\.c:\d+", out,
                         re.M), out
        assert re.search(r"^\$2 = 114$", out, re.M), out          # SVM_EXIT_CPUID, 0x72
        assert re.search(r"^Breakpoint 3, cpuid_probe \(.*\) at guests/probes/", out, re.M), out
        pc = int(re.search(r"^\$3 = (0x[0-9a-f]+)$", out, re.M).group(1), 16)
        symbol = subprocess.run(["nm", str(CONFORMANCE)], stdout=subprocess.PIPE,
                                timeout=30).stdout.decode()
        assert re.search(r"^0*%x [tT] cpuid_probe$" % pc, symbol, re.M)
        rest = harness.communicate(timeout=60)[0].decode(errors="replace")
        assert "Terminated via GDBstub" in rest      # gdb's kill ended QEMU
    finally:
        if harness.poll() is None:
            os.killpg(harness.pid, signal.SIGKILL)
            harness.wait()
