"""The smp part of `harness suite`: results/<platform>-<mode>-smp.json, merged into the 1-CPU
record by load_results() for the report and the exit table."""
import json

from harness import exits, suite_smp
from harness.__main__ import build_parser
from harness.results import (combine_boots, load_records, load_results, merge_parts,
                             report_markdown, to_dict, write_results)
from harness.runner import RunResult
from harness.tap import parse

ONE_CPU = ("TAP version 13\nok 1 - vmx/intercept/cpuid\n"
           "ok 2 - smp/init-exit # SKIP needs 2+ CPUs: the MADT lists 1\n"
           "ok 3 - smp/wait-for-sipi # SKIP needs 2+ CPUs: the MADT lists 1\n1..3\n")
INIT = ("TAP version 13\nok 1 - smp/init-exit\n  ---\n  exits:\n    - \"vmx:3\"\n  ...\n")
SIPI = ("TAP version 13\nnot ok 1 - smp/wait-for-sipi # expected vector 0x9a\n"
        "  ---\n  exits:\n    - \"vmx:4\"\n  ...\n1..1\n")


def result(tap, verdict="pass", reason="", args=(), platform="bochs-vmx", mode="nestbed"):
    return RunResult(platform=platform, mode=mode, image="build/guests/conformance.elf",
                     args=list(args), command="bochs -q " + " ".join(args),
                     emulator="Bochs 2.7", tap=parse(tap), exit_code=0, status=0,
                     timed_out=False, duration=2.0, verdict=verdict, reason=reason)


def smp_record():
    return combine_boots([to_dict(result(INIT, args=["smp/init-exit"])),
                          to_dict(result(SIPI, "fail", "1 of 1 TAP tests failed",
                                         args=["smp/wait-for-sipi"]))],
                         suite_smp.PART, suite_smp.CPUS)


def test_combine_boots():
    record = smp_record()
    assert record["part"] == "smp" and record["cpus"] == 2 and record["boots"] == 2
    assert [(p["number"], p["name"], p["status"], p["cpus"]) for p in record["probes"]] == [
        (1, "smp/init-exit", "ok", 2), (2, "smp/wait-for-sipi", "fail", 2)]
    assert record["verdict"] == "fail" and record["duration"] == 4.0
    assert record["reason"] == "smp/wait-for-sipi: 1 of 1 TAP tests failed"
    assert (record["summary"]["passed"], record["summary"]["failed"]) == (1, 1)
    assert record["args"] == ["smp/init-exit", "smp/wait-for-sipi"]


def test_probe_of_a_failed_boot_is_a_failure():
    storm = to_dict(result("TAP version 13\n1..1\n", "fail", "TAP: plan 1..1 but 0 tests ran",
                           args=["smp/init-exit"]))
    record = combine_boots([storm, to_dict(result(SIPI, "fail", "sipi", ["smp/wait-for-sipi"]))],
                           "smp", 2)
    [init, sipi] = record["probes"]
    assert (init["name"], init["status"], init["exits"], init["boot_failed"]) == (
        "smp/init-exit", "fail", [], True)
    assert init["reason"].endswith("TAP: plan 1..1 but 0 tests ran") and init["number"] == 1
    assert sipi["name"] == "smp/wait-for-sipi" and "boot_failed" not in sipi
    assert record["summary"]["failed"] == 2
    assert not init["known"]
    listed = combine_boots([storm], "smp", 2, frozenset({"smp/init-exit"}))
    assert listed["probes"][0]["known"] and listed["verdict"] == "fail"
    # a passing boot or a wildcard selection adds nothing
    assert combine_boots([to_dict(result(INIT, args=["smp/*"]))], "smp", 2)["probes"][0][
        "name"] == "smp/init-exit"
    assert combine_boots([to_dict(result("TAP version 13\n1..0\n", "fail", "x",
                                         args=["smp/*"]))], "smp", 2)["probes"] == []


def test_part_files_leave_the_one_cpu_files_alone(tmp_path):
    base = to_dict(result(ONE_CPU))
    write_results(base, tmp_path)
    before = (tmp_path / "bochs-vmx-nestbed.json").read_text()
    paths = write_results(smp_record(), tmp_path)
    assert [p.name for p in paths] == ["bochs-vmx-nestbed-smp.json",
                                       "bochs-vmx-nestbed-smp.junit.xml"]
    assert (tmp_path / "bochs-vmx-nestbed.json").read_text() == before
    assert sorted(r.get("part", "") for r in load_records(tmp_path)) == ["", "smp"]
    assert json.loads(paths[0].read_text())["probes"][0]["exits"] == ["vmx:3"]


def test_load_results_merges_the_part(tmp_path):
    write_results(to_dict(result(ONE_CPU)), tmp_path)
    write_results(smp_record(), tmp_path)
    [merged] = load_results(tmp_path)
    assert [(p["name"], p["status"], p.get("cpus")) for p in merged["probes"]] == [
        ("vmx/intercept/cpuid", "ok", None), ("smp/init-exit", "ok", 2),
        ("smp/wait-for-sipi", "fail", 2)]
    s = merged["summary"]
    assert (s["passed"], s["failed"], s["skipped"]) == (2, 1, 0)
    assert merged["verdict"] == "fail" and merged["duration"] == 6.0
    assert merged["reason"] == "smp part: smp/wait-for-sipi: 1 of 1 TAP tests failed"
    assert merged["parts"] == [{"part": "smp", "cpus": 2, "verdict": "fail", "boots": 2,
                                "reason": "smp/wait-for-sipi: 1 of 1 TAP tests failed"}]
    text = report_markdown([merged])
    assert "| smp/init-exit | ok |" in text and "| smp/wait-for-sipi | FAIL |" in text


def test_exit_table_reads_the_part(tmp_path):
    write_results(to_dict(result(ONE_CPU)), tmp_path)
    without = exits.coverage(load_results(tmp_path))
    write_results(smp_record(), tmp_path)
    table = exits.coverage(load_results(tmp_path))
    rows = {r["key"]: r for r in table["rows"]}
    assert table["runs"] == ["bochs-vmx nestbed"]        # one run, not a second column
    assert rows["vmx:3"]["probes"] == {"smp/init-exit": {"bochs-vmx nestbed": "ok"}}
    assert rows["vmx:4"]["probes"] == {"smp/wait-for-sipi": {"bochs-vmx nestbed": "fail"}}
    assert {r["key"]: r for r in without["rows"]}["vmx:3"]["probes"] == {}


def test_part_without_base_and_passing_merge():
    part = combine_boots([to_dict(result(INIT, args=["smp/*"], mode="bare"))], "smp", 2)
    assert part["reason"] == "" and part["verdict"] == "pass"
    assert merge_parts([part]) == [part]
    base = to_dict(result(ONE_CPU, mode="bare"))
    [merged] = merge_parts([base, part])
    assert merged["verdict"] == "pass" and merged["reason"] == ""
    assert base["probes"][1]["status"] == "skip"          # the loaded record is not changed


def test_boots_and_options():
    assert suite_smp.boots("qemu-svm", "nestbed") == [["smp/*"]]
    assert suite_smp.boots("bochs-vmx", "bare") == [["smp/*"]]
    vmx = suite_smp.boots("bochs-vmx", "nestbed")
    assert ["smp/init-exit"] in vmx and all(len(b) == 1 for b in vmx)
    assert len(vmx) == len(suite_smp.PROBES)
    parse = build_parser().parse_args
    opts = parse(["suite"])
    assert not opts.no_smp and not opts.smp_only
    assert parse(["suite", "--smp-only"]).smp_only and parse(["suite", "--no-smp"]).no_smp
