"""tests/run_all.py, the aggregator `make test` runs: its pieces and one real invocation."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run_all = load("nestbed_run_all", ROOT / "tests" / "run_all.py")
scenarios = load("nestbed_scenarios_test", ROOT / "tests" / "emulator" / "scenarios.py")
Scenario = scenarios.Scenario


def fake_unit(tmp_path, name, tap, status=None):
    script = tmp_path / name
    body = "".join("echo '%s'\n" % line for line in tap.splitlines())
    script.write_text("#!/bin/sh\n[ \"$CMOCKA_MESSAGE_OUTPUT\" = TAP ] || exit 9\n%s"
                      "exit %d\n" % (body, status or 0))
    script.chmod(0o755)
    return script


@pytest.fixture
def logs(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "LOGS", tmp_path / "logs")
    return tmp_path / "logs"


def lines(capsys):
    return capsys.readouterr().out.splitlines()


def test_unit_tap_lines(tmp_path, logs, capsys):
    binary = fake_unit(tmp_path, "test_format",
                       "1..3\nok 1 - test_integers\nnot ok 2 - test_strings\n"
                       "# 0x1 != 0x2\n# test_format.c:7: error: Failure!\n"
                       "not ok 3 # SKIP test_wide", status=1)
    tally = run_all.Tally([])
    run_all.run_unit(str(binary), tally)
    assert lines(capsys) == [
        "PASS unit/format/test_integers",
        "FAIL unit/format/test_strings : 0x1 != 0x2; test_format.c:7: error: Failure!",
        "SKIP unit/format/test_wide : skipped"]
    assert tally.counts == {"PASS": 1, "FAIL": 1, "SKIP": 1}
    assert (logs / "unit" / "format.log").is_file()


def test_unit_crash_and_missing(tmp_path, logs, capsys):
    binary = fake_unit(tmp_path, "test_boom", "1..2\nok 1 - a", status=139)
    tally = run_all.Tally([])
    run_all.run_unit(str(binary), tally)
    run_all.run_unit(str(tmp_path / "test_none"), tally)
    out = lines(capsys)
    assert out[0] == "PASS unit/boom/a"
    assert out[1].startswith("FAIL unit/boom : TAP: plan 1..2 but 1 test ran; exit status 139")
    assert out[2] == "FAIL unit/none : %s is missing or not executable (run make)" % (
        tmp_path / "test_none")


def test_only_globs():
    t = run_all.Tally(["emulator/bad-input"])
    assert t.selected("emulator/bad-input/no-guest") and not t.selected("emulator/kvm/x")
    assert not t.may_select("unit/format") and not t.may_select("harness/")
    t = run_all.Tally(["*/format/*"])
    assert t.may_select("unit/format") and t.selected("unit/format/test_integers")
    t = run_all.Tally(["unit/format/test_int*"])
    assert t.may_select("unit/format") and not t.may_select("unit/string")
    assert run_all.Tally([]).selected("anything")


def test_judge():
    judge = run_all.judge
    passing = Scenario("s", (), "pass")
    assert judge(passing, 0, False, "x\nharness: PASS: qemu-svm bare 1 passed, 0 skipped") \
        == ("PASS", "")
    assert judge(passing, 1, False, "harness: FAIL: timeout after 5s") == \
        ("FAIL", "timeout after 5s")
    assert judge(passing, 77, False, "harness: SKIP: kvm: no")[0] == "FAIL"
    assert judge(passing, None, True, "")[0] == "FAIL"
    skip_ok = Scenario("k", (), "skip-ok")
    assert judge(skip_ok, 77, False, "harness: SKIP: kvm: no vmx") == ("SKIP", "kvm: no vmx")
    assert judge(skip_ok, 0, False, "") == ("PASS", "")
    failing = Scenario("f", (), "fail", r"nestbed: no guest")
    assert judge(failing, 1, False, "nestbed: no guest: give one\nharness: FAIL: ...") == \
        ("PASS", "")
    status, why = judge(failing, 1, False, "harness: FAIL: timeout after 60s")
    assert status == "FAIL" and why.startswith("output lacks /nestbed: no guest/")
    assert judge(failing, 0, False, "harness: PASS: ...")[0] == "FAIL"
    shows = Scenario("m", (), "pass", must_show=r"^ok \d+ - isolation/dma-ahci$")
    assert judge(shows, 0, False, "ok 1 - isolation/dma-ahci\nharness: PASS: x") == ("PASS", "")
    status, why = judge(shows, 0, False,
                        "ok 1 - isolation/dma-ahci # SKIP no IOMMU\nharness: PASS: x")
    assert status == "FAIL" and why.startswith("passed, but the output lacks /")
    assert judge(shows, 1, False, "harness: FAIL: boom") == ("FAIL", "boom")


def test_junit_results(tmp_path):
    xml = tmp_path / "p.xml"
    xml.write_text(
        '<?xml version="1.0"?><testsuites><testsuite>'
        '<testcase classname="tests.harness.test_tap" name="test_a" />'
        '<testcase classname="tests.harness.test_tap" name="test_b">'
        '<failure message="assert 1 == 2">trace</failure></testcase>'
        '<testcase classname="tests.harness.test_e2e" name="test_c">'
        '<skipped message="no bochs" /></testcase>'
        '</testsuite></testsuites>')
    assert run_all.junit_results(xml) == [
        ("harness/test_tap/test_a", "PASS", ""),
        ("harness/test_tap/test_b", "FAIL", "assert 1 == 2"),
        ("harness/test_e2e/test_c", "SKIP", "no bochs")]


def test_scenario_list():
    names = [s.name for s in scenarios.SCENARIOS]
    assert len(names) == len(set(names))
    for p in ("qemu-svm", "qemu-uefi-svm", "bochs-vmx", "bochs-svm"):
        assert "emulator/selftest/" + p in names and "emulator/bare/conformance/" + p in names
    by_name = {s.name: s for s in scenarios.SCENARIOS}
    uefi = by_name["emulator/selftest/qemu-uefi-svm"]
    assert uefi.argv[-2:] == ("build/nestbed.efi", "selftest") and "--bare" in uefi.argv
    assert by_name["emulator/kvm/availability"].expect == "skip-ok"
    for s in scenarios.SCENARIOS:
        assert s.argv[0] in ("run", "linux", "fuzz", "kvm", "xen", "profile") and "--timeout" in s.argv and s.expect in (
            "pass", "fail", "skip-ok")
        assert (s.expect == "fail") == (s.regex is not None)
    broken = ROOT / scenarios.BROKEN_GUEST
    from harness.platforms import image_kind
    assert broken.is_file() and image_kind(broken) == "unknown"


def test_real_invocation(tmp_path):
    good = fake_unit(tmp_path, "test_harnessfake", "1..1\nok 1 - test_one")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "run_all.py"), "--unit",
                           str(good), "--only", "unit/harnessfake/*", "--no-emulator"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)
    out = proc.stdout.decode().splitlines()
    assert proc.returncode == 0, out
    assert out == ["PASS unit/harnessfake/test_one", "1 passed, 0 failed, 0 skipped"]
    bad = fake_unit(tmp_path, "test_harnessfake", "1..1\nnot ok 1 - test_one", status=1)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "run_all.py"), "--unit",
                           str(bad), "--only", "unit/harnessfake/*"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[-1] == "0 passed, 1 failed, 0 skipped"


def fake_fuzzer(tmp_path, output, status):
    """A stand-in libFuzzer binary named fuzz_guest_image (the real seeds exist)."""
    d = tmp_path / "fz"
    d.mkdir(exist_ok=True)
    script = d / "fuzz_guest_image"
    body = "".join("echo '%s' >&2\n" % line for line in output.splitlines())
    script.write_text("#!/bin/sh\ncase \"$1\" in -max_total_time=7) ;; *) exit 9;; esac\n"
                      "%sexit %d\n" % (body, status))
    script.chmod(0o755)
    return script


def test_fuzz_pass_and_failures(tmp_path, logs, capsys):
    tally = run_all.Tally([])
    run_all.run_fuzz(str(fake_fuzzer(tmp_path, "#2 INITED\nDone 1234 runs in 7 second(s)", 0)),
                     7, tally)
    assert lines(capsys) == ["PASS fuzz/guest_image"]
    assert (logs / "fuzz" / "guest_image.log").is_file()
    run_all.run_fuzz(str(fake_fuzzer(tmp_path, "Done 0 runs in 0 second(s)", 0)), 7, tally)
    assert lines(capsys)[0].startswith("FAIL fuzz/guest_image : the fuzzer ran no input")
    crash = ("fuzz_guest_image: invariant broken: overlapping segments (kind 4)\n"
             "==1== ERROR: libFuzzer: deadly signal\n"
             "artifact_prefix='x/'; Test unit written to build/fuzz/artifacts/guest_image-crash-ab")
    run_all.run_fuzz(str(fake_fuzzer(tmp_path, crash, 77)), 7, tally)
    assert lines(capsys)[0].startswith(
        "FAIL fuzz/guest_image : exit status 77: invariant broken: overlapping segments "
        "(kind 4); input: build/fuzz/artifacts/guest_image-crash-ab")
    asan = "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x1\nREAD of size 1"
    run_all.run_fuzz(str(fake_fuzzer(tmp_path, asan, 1)), 7, tally)
    assert lines(capsys)[0].startswith(
        "FAIL fuzz/guest_image : exit status 1: ERROR: AddressSanitizer: heap-buffer-overflow")
    run_all.run_fuzz(str(tmp_path / "fuzz_none"), 7, tally)
    assert lines(capsys)[0].startswith("FAIL fuzz/none : ")
    assert tally.counts == {"PASS": 1, "FAIL": 4, "SKIP": 0}
    # --only selects the fuzz test by name
    quiet = run_all.Tally(["unit/*"])
    run_all.run_fuzz(str(tmp_path / "fuzz_none"), 7, quiet)
    assert lines(capsys) == [] and quiet.counts["FAIL"] == 0
