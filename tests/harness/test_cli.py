import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv, env=None, cwd=ROOT, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "harness", *map(str, argv)], cwd=cwd,
                          env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace")


def one_error(out):
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("harness: error: "), out
    return lines[0][len("harness: error: "):]


def test_everything_after_image_belongs_to_the_image():
    opts = build_parser().parse_args(["run", "--platform", "qemu-svm", "--bare",
                                      "build/nestbed.elf", "--bogus-option", "--timeout", "1"])
    assert opts.image == "build/nestbed.elf" and opts.args == ["--bogus-option", "--timeout", "1"]
    assert opts.timeout is None and opts.bare


def test_suite_modes():
    parse = build_parser().parse_args
    assert parse(["suite"]).modes is None
    assert parse(["suite", "--bare"]).modes == ["bare"]
    assert parse(["suite", "--nestbed"]).modes == ["nestbed"]
    assert parse(["suite", "--both", "--platform", "a", "--platform", "b"]).platform == ["a", "b"]


def test_cpus_option_everywhere():
    parse = build_parser().parse_args
    assert parse(["run", "--platform", "qemu-svm", "x"]).cpus == 1
    assert parse(["run", "--platform", "qemu-svm", "--cpus", "2", "x"]).cpus == 2
    assert parse(["suite", "--cpus", "4"]).cpus == 4
    assert parse(["linux", "--platform", "qemu-svm", "--cpus", "4"]).cpus == 4
    assert parse(["kvm", "--platform", "bochs-vmx", "--cpus", "2"]).cpus == 2
    assert parse(["fuzz", "--cpus", "2"]).cpus == 2
    # after IMAGE, --cpus belongs to the image
    opts = parse(["run", "--platform", "qemu-svm", "x", "--cpus", "2"])
    assert opts.cpus == 1 and opts.args == ["--cpus", "2"]


def test_cpus_out_of_range_is_one_line():
    for bad, why in (("0", "0 CPUs is out of range (1..8)"), ("9", "9 CPUs is out of range"),
                     ("two", "'two' is not a number of CPUs")):
        rc, out = cli("run", "--platform", "qemu-svm", "--cpus", bad, "x")
        assert rc == 2 and why in one_error(out), out


def test_unknown_platform():
    rc, out = cli("run", "--platform", "nope", "x.elf")
    assert rc == 2 and one_error(out).startswith("unknown platform 'nope' (known: qemu-svm,")


def test_missing_image():
    rc, out = cli("run", "--platform", "qemu-svm", "--bare", "does/not/exist.elf")
    assert rc == 2 and one_error(out) == "image does/not/exist.elf does not exist"


def test_unreadable_image_kind(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x90" * 100)
    rc, out = cli("run", "--platform", "qemu-svm", "--bare", junk)
    assert rc == 2 and "is not a Multiboot 1 kernel" in one_error(out)


def test_missing_nestbed(tmp_path):
    guest = tmp_path / "g.elf"
    guest.write_bytes(b"x")
    rc, out = cli("run", "--platform", "qemu-svm", "--nestbed", tmp_path / "nb.elf", guest)
    assert rc == 2 and one_error(out) == "nestbed image %s does not exist" % (tmp_path / "nb.elf")


def test_usage_errors_are_one_line():
    rc, out = cli("run", "--bare", "x")
    assert rc == 2 and one_error(out) == "the following arguments are required: --platform"
    rc, out = cli("run", "--platform", "qemu-svm", "--timeout", "0", "x")
    assert rc == 2 and "timeout must be positive" in one_error(out)
    rc, out = cli("frobnicate")
    assert rc == 2 and "invalid choice" in one_error(out)


def test_missing_emulator(tmp_path):
    rc, out = cli("run", "--platform", "bochs-vmx", "--bare", "x", env={"PATH": str(tmp_path)})
    assert rc == 2
    assert one_error(out) == "bochs not found (install the Debian package bochs)"


def test_kvm_unavailable_is_exit_77():
    from harness.platforms import kvm_unavailable_reason
    why = kvm_unavailable_reason()
    if why is None:
        pytest.skip("KVM is usable here")
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("no QEMU")
    rc, out = cli("run", "--platform", "kvm", "--bare", "does/not/exist.elf")
    assert rc == 77 and out == "harness: SKIP: kvm: %s\n" % why


def test_suite_missing_guest(tmp_path):
    rc, out = cli("suite", "--image", tmp_path / "none.elf", "--out", tmp_path)
    assert rc == 2 and one_error(out).startswith("conformance guest ")


def test_report_command(tmp_path):
    rc, out = cli("report", "--out", tmp_path)
    assert rc == 0 and (tmp_path / "report.md").is_file()


def test_platforms_command():
    rc, out = cli("platforms")
    assert rc == 0 and len(out.splitlines()) == 8


@pytest.mark.emulator
def test_suite_on_qemu(tmp_path, testkernel):
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("no QEMU")
    out_dir = tmp_path / "results"
    rc, out = cli("suite", "--platform", "qemu-svm", "--platform", "kvm", "--image",
                  testkernel, "--nestbed-image", testkernel, "--out", out_dir, "--no-smp",
                  env={"NESTBED_RUN_ROOT": str(tmp_path / "runs")})
    assert rc == 0, out
    assert "[1/4] qemu-svm bare: PASS 2 passed, 0 failed, 1 skipped" in out
    assert "    ok   harness/first" in out
    for stem in ("qemu-svm-bare", "qemu-svm-nestbed"):
        data = json.loads((out_dir / (stem + ".json")).read_text())
        assert data["verdict"] == "pass" and data["emulator"].startswith("QEMU")
        assert [p["status"] for p in data["probes"]] == ["ok", "ok", "skip"]
        assert ET.parse(out_dir / (stem + ".junit.xml")).getroot().tag == "testsuites"
    kvm = json.loads((out_dir / "kvm-bare.json").read_text())
    assert kvm["verdict"] in ("skip", "pass")
    assert "| qemu-svm | AMD-V | nestbed | pass |" in (out_dir / "report.md").read_text()
