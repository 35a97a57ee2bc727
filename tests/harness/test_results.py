import json
import xml.etree.ElementTree as ET

from harness.results import (junit_tree, load_results, report_markdown, skipped_dict,
                             to_dict, write_report, write_results)
from harness.runner import RunResult
from harness.tap import parse

TAP = ("TAP version 13\nok 1 - svm/intercept/cpuid\n"
       "not ok 2 - svm/vmrun/asid0 # expected VMEXIT_INVALID\n"
       "  ---\n  diagnostics:\n    - \"got exit 0x72\"\n  exits:\n    - \"svm:0xffffffff\"\n  ...\n"
       "# the stream's line\n"
       "ok 3 - svm/vgif # SKIP no vGIF\nnot ok 4 - svm/lbr # TODO later\n1..4\n")


def result(verdict="fail", reason="1 of 4 TAP tests failed: svm/vmrun/asid0; exit-port code 1",
           platform="qemu-svm", mode="bare", tap=TAP):
    return RunResult(platform=platform, mode=mode, image="build/guests/conformance.elf",
                     args=[], command="cd x && qemu ...", emulator="QEMU emulator version 7.2",
                     tap=parse(tap), exit_code=1, status=3, timed_out=False, duration=1.5,
                     verdict=verdict, reason=reason)


def test_json_record(tmp_path):
    record = to_dict(result())
    [json_path, xml_path] = write_results(record, tmp_path)
    assert json_path.name == "qemu-svm-bare.json" and xml_path.name == "qemu-svm-bare.junit.xml"
    data = json.loads(json_path.read_text())
    assert data["platform"] == "qemu-svm" and data["mode"] == "bare"
    assert data["emulator"] == "QEMU emulator version 7.2" and data["duration"] == 1.5
    assert data["verdict"] == "fail" and data["emulator_status"] == 3
    assert data["summary"] == {"passed": 1, "failed": 1, "skipped": 2, "todo": 1, "planned": 4,
                               "bail_out": None, "problems": []}
    assert [(p["name"], p["status"]) for p in data["probes"]] == [
        ("svm/intercept/cpuid", "ok"), ("svm/vmrun/asid0", "fail"), ("svm/vgif", "skip"),
        ("svm/lbr", "skip")]
    fail = data["probes"][1]
    assert fail["reason"] == "expected VMEXIT_INVALID" and fail["diagnostics"] == ["got exit 0x72"]
    assert data["probes"][3]["todo"] is True
    assert fail["exits"] == ["svm:0xffffffff"] and data["probes"][0]["exits"] == []
    assert data["diagnostics"] == ["the stream's line"]


def test_junit(tmp_path):
    write_results(to_dict(result()), tmp_path)
    root = ET.parse(tmp_path / "qemu-svm-bare.junit.xml").getroot()
    assert root.tag == "testsuites"
    [suite] = root
    assert suite.get("name") == "qemu-svm-bare"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("5", "1", "1", "2")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("qemu-svm-bare.svm.intercept", "cpuid"), ("qemu-svm-bare.svm.vmrun", "asid0"),
        ("qemu-svm-bare.svm", "vgif"), ("qemu-svm-bare.svm", "lbr"), ("qemu-svm-bare", "run")]
    failure = cases[1].find("failure")
    assert failure.get("message") == "expected VMEXIT_INVALID"
    assert failure.text == "got exit 0x72"
    assert cases[2].find("skipped").get("message") == "no vGIF"
    assert "exit-port code 1" in cases[4].find("error").get("message")


def test_junit_passing_run_and_skipped_platform():
    tree = junit_tree(to_dict(result(verdict="pass", reason="", tap="1..1\nok 1 - a/b\n")))
    suite = tree.getroot()[0]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    tree = junit_tree(skipped_dict("kvm", "bare", "no KVM"))
    suite = tree.getroot()[0]
    assert suite.get("skipped") == "1" and suite.find("testcase/skipped").get("message") == "no KVM"


def test_report(tmp_path):
    write_results(to_dict(result()), tmp_path)
    write_results(to_dict(result(verdict="pass", reason="", platform="bochs-svm",
                                 tap="1..1\nok 1 - svm/intercept/cpuid\n")), tmp_path)
    write_results(skipped_dict("kvm", "bare", "no KVM"), tmp_path)
    (tmp_path / "junk.json").write_text("[1, 2]")
    records = load_results(tmp_path)
    assert [r["platform"] for r in records] == ["bochs-svm", "kvm", "qemu-svm"]
    path = write_report(tmp_path)
    text = path.read_text()
    assert path.name == "report.md" and text.startswith("# nestbed conformance results")
    assert "| kvm | kvm | bare | skip: no KVM |" in text
    # probe by probe: AMD-V columns (bochs-svm, qemu-svm) bare; kvm has no probes
    assert "| AMD-V (bochs-svm) | AMD-V (qemu-svm) | kvm (kvm) |" in text
    assert "| svm/intercept/cpuid | ok | ok |  |" in text
    assert "| svm/vmrun/asid0 |  | FAIL |  |" in text
    assert "## Where the platforms differ" in text and "## Failures" in text
    assert "| qemu-svm | bare | svm/vmrun/asid0 | **no** |" in text
    assert report_markdown([]).startswith("# nestbed")
