"""Real runs of the tiny test kernel (data/testkernel.asm) and EFI application
(data/testapp.c) through `python3 -m harness run`, one per verdict the harness gives."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.emulator


def harness(tmp_path, *argv, timeout=120):
    env = dict(os.environ, NESTBED_RUN_ROOT=str(tmp_path / "runs"))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness", *map(str, argv)], cwd=ROOT,
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    out = proc.stdout.decode(errors="replace")
    lines = out.rstrip("\n").splitlines()
    return proc.returncode, lines[-1] if lines else "", out, time.monotonic() - start


def processes_in(directory: Path):
    """PIDs whose working directory is inside directory (left-over emulators)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink("/proc/%s/cwd" % entry)
            except OSError:
                continue
            if cwd.startswith(str(directory)):
                pids.append(int(entry))
    return pids


def need(*tools):
    for tool in tools:
        if not shutil.which(tool):
            pytest.skip("%s is not installed" % tool)


@pytest.fixture
def guest(testkernel, tmp_path):
    """The test kernel under another name, as a guest module."""
    path = tmp_path / "guest.bin"
    shutil.copyfile(testkernel, path)
    return path


# ---- qemu-svm

def test_qemu_pass_with_log(tmp_path, testkernel):
    need("qemu-system-x86_64")
    log = tmp_path / "console.log"
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                               "--log", log, testkernel, "a,b", "c")
    assert rc == 0, out
    assert last == "harness: PASS: qemu-svm bare 2 passed, 1 skipped"
    assert "# cmdline: testkernel.bin a,b c\n" in out      # verbatim, file name first
    assert "exit-port: 0\n" in out
    assert log.read_text().endswith("exit-port: 0\n" + last + "\n")
    assert not list((tmp_path / "runs").iterdir())           # removed on success


def test_qemu_fail(tmp_path, testkernel):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                               testkernel, "fail")
    assert rc == 1, out
    assert last == "harness: FAIL: 1 of 3 TAP tests failed: harness/second; exit-port code 1"
    assert "harness: run directory kept: " in out


def test_qemu_timeout(tmp_path, testkernel):
    need("qemu-system-x86_64")
    rc, last, out, took = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                                  "--timeout", "5", testkernel, "spin")
    assert rc == 1, out
    # the console's last line came early: silent for most of the 5 s, never more; QEMU's
    # monitor says where the CPU was: the spin is "hlt; jmp" with interrupts off
    assert re.fullmatch(r"harness: FAIL: timeout after 5s \(console: # spinning; "
                        r"console silent for the last [0-5] s; QEMU at the timeout: "
                        r"CPU 0: EIP=[0-9a-f]{8} EFL=[0-9a-f]{8} .* HLT=1 \| lapic: .*IRR .*\)",
                        last), last
    kept = [d for d in (tmp_path / "runs").iterdir()]
    assert len(kept) == 1 and "(qemu) info lapic" in \
        (kept[0] / "qemu-monitor-at-timeout.txt").read_text()
    assert took < 15
    assert processes_in(tmp_path / "runs") == []


def test_qemu_crash(tmp_path, testkernel):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                               testkernel, "crash")
    assert rc == 1, out
    assert last.startswith("harness: FAIL: emulator exited with status 0 before exit-port")


def test_qemu_exit_status_must_match_the_line(tmp_path, testkernel):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                               testkernel, "liar")
    assert rc == 1, out
    assert last == ("harness: FAIL: exit-port code 0 on the console but emulator exit "
                    "status 3 (expected 1)")


def test_qemu_fatal_and_no_plan(tmp_path, testkernel):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm", "--bare",
                               testkernel, "fatal", "noplan")
    assert rc == 1, out
    assert last == "harness: FAIL: TAP: no plan (1..N) after 3 tests; exit-port code 2"


def test_qemu_nestbed_mode(tmp_path, testkernel, guest):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-svm",
                               "--nestbed", testkernel, "--nestbed-args", "quiet heap=8",
                               guest, "g1", "g,2")
    assert rc == 0, out
    assert last == "harness: PASS: qemu-svm nestbed 2 passed, 1 skipped"
    assert "# cmdline: testkernel.bin quiet heap=8\n" in out
    assert "# module: guest.bin g1 g,2\n" in out


# ---- Bochs

def test_bochs_svm_pass(tmp_path, testkernel):
    need("bochs", "grub-mkrescue")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "bochs-svm", "--bare",
                               "--timeout", "60", testkernel, "a", "b")
    assert rc == 0, out
    assert last == "harness: PASS: bochs-svm bare 2 passed, 1 skipped"
    assert "# cmdline: testkernel.bin a b\n" in out        # same as QEMU's


def test_bochs_svm_fail(tmp_path, testkernel):
    need("bochs", "grub-mkrescue")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "bochs-svm", "--bare",
                               "--timeout", "60", testkernel, "fail")
    assert rc == 1, out
    assert last == "harness: FAIL: 1 of 3 TAP tests failed: harness/second; exit-port code 1"


def test_bochs_svm_crash(tmp_path, testkernel):
    need("bochs", "grub-mkrescue")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "bochs-svm", "--bare",
                               "--timeout", "60", testkernel, "crash")
    assert rc == 1, out
    assert last.startswith("harness: FAIL: emulator exited with status 1 before exit-port "
                           "(bochs: exception(): 3rd (13) exception with no resolution")


def test_bochs_svm_timeout_kills_bochs(tmp_path, testkernel):
    need("bochs", "grub-mkrescue")
    rc, last, out, took = harness(tmp_path, "run", "--platform", "bochs-svm", "--bare",
                                  "--timeout", "5", testkernel, "spin")
    assert rc == 1, out
    # the console's last line came early: silent for most of the 5 s, never more
    assert re.fullmatch(r"harness: FAIL: timeout after 5s \(console: # spinning; "
                        r"console silent for the last [0-5] s\)", last), last
    assert took < 20
    assert processes_in(tmp_path / "runs") == []


def test_bochs_vmx_nestbed_mode(tmp_path, testkernel, guest):
    need("bochs", "grub-mkrescue")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "bochs-vmx", "--timeout", "60",
                               "--nestbed", testkernel, "--nestbed-args", "quiet",
                               guest, "g1")
    assert rc == 0, out
    assert last == "harness: PASS: bochs-vmx nestbed 2 passed, 1 skipped"
    assert "# cmdline: testkernel.bin quiet\n" in out
    assert "# module: guest.bin g1\n" in out


# ---- UEFI

def test_uefi_multiboot_through_grub(tmp_path, testkernel):
    need("qemu-system-x86_64", "grub-mkimage")
    if not Path("/usr/lib/grub/x86_64-efi/multiboot.mod").is_file():
        pytest.skip("grub-efi-amd64-bin is not installed")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-uefi-svm", "--bare",
                               "--timeout", "60", testkernel, "u1")
    assert rc == 0, out
    assert last == "harness: PASS: qemu-uefi-svm bare 2 passed, 1 skipped"
    assert "# cmdline: testkernel.bin u1\n" in out
    assert "\x1b" not in out                                 # firmware escapes filtered


def test_uefi_efi_app_bare(tmp_path, testapp):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-uefi-svm", "--bare",
                               "--timeout", "60", testapp, "selftest", "x")
    assert rc == 0, out
    assert last == "harness: PASS: qemu-uefi-svm bare 1 passed, 0 skipped"
    assert "# cfg: selftest x" in out


def test_uefi_nestbed_mode(tmp_path, testapp, guest):
    need("qemu-system-x86_64")
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "qemu-uefi-svm",
                               "--timeout", "60", "--nestbed", testapp,
                               "--nestbed-args", "quiet", guest, "g1")
    assert rc == 0, out
    assert "# cfg: quiet --- \\guest.bin g1" in out


# ---- KVM

def test_kvm_skips_or_runs(tmp_path, testkernel):
    need("qemu-system-x86_64")
    from harness.platforms import kvm_unavailable_reason
    why = kvm_unavailable_reason()
    rc, last, out, _ = harness(tmp_path, "run", "--platform", "kvm", "--bare",
                               "--timeout", "30", testkernel)
    if why:
        assert rc == 77 and last == "harness: SKIP: kvm: " + why
    else:
        assert rc == 0, out


# ---- the conformance guest's own TAP: each probe's evidence in its own YAML block

def test_conformance_probe_diagnostics_are_its_own(tmp_path):
    """Issue 16: the guest printed a probe's "#" lines before its test line, so the results
    filed them under the previous probe. Now each probe's lines are the YAML block after
    its own test line, and results/*.json carry them under that probe."""
    need("qemu-system-x86_64")
    image = ROOT / "build" / "guests" / "conformance.elf"
    if not image.is_file():
        pytest.skip("%s is not built (make)" % image)
    from harness.platforms import RunSpec, get_platform
    from harness.results import to_dict
    from harness.runner import run
    spec = RunSpec(image=image, args=["cost/cpuid", "cost/hlt", "platform/cpu-vendor"],
                   bare=True)
    result = run(get_platform("qemu-svm"), spec, timeout=120, runs_root=tmp_path / "runs")
    assert result.verdict == "pass", result.reason
    probes = {p["name"]: p["diagnostics"] for p in to_dict(result)["probes"]}
    assert [d for d in probes["cost/cpuid"] if d.startswith("cost ")] == [
        d for d in probes["cost/cpuid"] if d.startswith("cost cpuid: 1000 round trips")]
    assert any(d.startswith("cost cpuid: ") for d in probes["cost/cpuid"])
    assert [d for d in probes["cost/hlt"] if d.startswith("cost ")][0].startswith("cost hlt: ")
    assert any(d.startswith("CPUID.0: vendor 'AuthenticAMD'")
               for d in probes["platform/cpu-vendor"])
    assert not any(d.startswith("CPUID.0") for d in probes["cost/hlt"])
    # the runtime's own lines belong to the stream, not to a probe
    assert any(d.startswith("nestbed conformance guest") for d in result.tap.diagnostics)
