"""harness/exits.py: the exit catalogue's table (pure)."""

from harness.exits import (SVM_CODES, VMX_REASONS, catalogue, coverage, exit_key, markdown,
                           parse_exit)


def test_appendices():
    # SDM vol.3D appendix C: 0..77 without the unused 35, 38, 42, 71
    assert sorted(VMX_REASONS) == [n for n in range(78) if n not in (35, 38, 42, 71)]
    assert VMX_REASONS[2] == "Triple fault" and VMX_REASONS[9] == "Task switch"
    # APM vol.2 appendix C: CR/DR read/write, exceptions, 60h..A5h, NPF, AVIC, VMGEXIT, -1..-4
    for code in list(range(0x00, 0x60)) + list(range(0x60, 0xa6)) + [0x400, 0x401, 0x402,
                                                                     0x403, 0xffffffff]:
        assert code in SVM_CODES, hex(code)
    assert SVM_CODES[0x7f][0] == "VMEXIT_SHUTDOWN" and SVM_CODES[0x7d][0] == "VMEXIT_TASK_SWITCH"
    assert SVM_CODES[0x72][0] == "VMEXIT_CPUID" and SVM_CODES[0x8d][0] == "VMEXIT_XSETBV"
    assert SVM_CODES[0xa5][0] == "VMEXIT_BUSLOCK" and SVM_CODES[0x400][0] == "VMEXIT_NPF"
    assert SVM_CODES[0x4e][0] == "VMEXIT_EXCP14 (#PF)" and SVM_CODES[0x4e][1] == ""
    assert SVM_CODES[0x01][1] == "CR1 does not exist" and SVM_CODES[0x28][1]
    assert SVM_CODES[0x42][1] and SVM_CODES[0x4f][1]        # NMI, reserved vector 15


def test_exit_keys_round_trip():
    assert exit_key("svm", 0x72) == "svm:0x72" and exit_key("vmx", 10) == "vmx:10"
    assert parse_exit("svm:0x72") == ("svm", 0x72) and parse_exit("vmx:10") == ("vmx", 10)
    assert parse_exit("svm:0xffffffff") == ("svm", 0xffffffff)
    for bad in ("svm", "arm:1", "vmx:x", ""):
        assert parse_exit(bad) is None
    keys = [row["key"] for row in catalogue()]
    assert len(keys) == len(set(keys))


def record(platform, mode, probes):
    return {"platform": platform, "mode": mode,
            "probes": [dict({"todo": False, "known": False}, **p) for p in probes]}


RECORDS = [
    record("qemu-svm", "bare", [
        {"name": "intercept/cpuid", "status": "ok", "exits": ["svm:0x72"]},
        {"name": "intercept/invd", "status": "fail", "known": True, "exits": ["svm:0x76"]},
        {"name": "event/shutdown", "status": "skip", "exits": ["svm:0x7f", "bogus:1"]},
        {"name": "platform/cpu-vendor", "status": "ok", "exits": []}]),
    record("bochs-svm", "nestbed", [
        {"name": "intercept/cpuid", "status": "ok", "exits": ["svm:0x72"]},
        {"name": "intercept/invd", "status": "ok", "exits": ["svm:0x76"]}]),
    record("bochs-vmx", "bare", [
        {"name": "intercept/cpuid", "status": "fail", "exits": ["vmx:10"]}]),
]


def test_coverage_counts_and_cells():
    table = coverage(RECORDS)
    assert table["runs"] == ["bochs-svm nestbed", "bochs-vmx bare", "qemu-svm bare"]
    rows = {row["key"]: row for row in table["rows"]}
    assert rows["svm:0x72"]["probes"] == {"intercept/cpuid": {"qemu-svm bare": "ok",
                                                             "bochs-svm nestbed": "ok"}}
    assert rows["svm:0x76"]["probes"]["intercept/invd"]["qemu-svm bare"] == "known"
    assert rows["svm:0x7f"]["probes"] == {"event/shutdown": {"qemu-svm bare": "skip"}}
    assert rows["vmx:10"]["probes"] == {"intercept/cpuid": {"bochs-vmx bare": "fail"}}
    assert table["unknown"] == ["bogus:1"]
    svm, vmx = table["totals"]["svm"], table["totals"]["vmx"]
    assert (svm["asserted"], svm["passing"]) == (3, 2)      # 72h, 76h pass; 7Fh only skips
    assert (vmx["asserted"], vmx["passing"]) == (1, 0)
    assert vmx["raisable"] == len(VMX_REASONS)


def test_markdown_rows_and_columns():
    text = markdown(coverage(RECORDS))
    lines = text.splitlines()
    assert "| exit | name | probes | bochs-vmx bare |" in lines
    assert "| exit | name | probes | bochs-svm nestbed | qemu-svm bare |" in lines
    assert "| 72h | VMEXIT_CPUID | `intercept/cpuid` | 1 ok | 1 ok |" in lines
    assert "| 76h | VMEXIT_INVD | `intercept/invd` | 1 ok | 1 known |" in lines
    assert "| 7Fh | VMEXIT_SHUTDOWN | `event/shutdown` |  | 1 skip |" in lines
    assert "| 10 | CPUID | `intercept/cpuid` | 1 fail |" in lines
    assert "| 2 | Triple fault | - |  |" in lines
    assert any(l.startswith("| 1h | VMEXIT_CR1_READ (never raised: CR1 does not exist)")
               for l in lines)
    assert "- VT-x: 1 of the 74 exits a CPU can raise are asserted by a probe" in text


def test_command_writes_both_files(tmp_path, capsys):
    import json
    from harness.__main__ import main
    for r in RECORDS:
        (tmp_path / ("%s-%s.json" % (r["platform"], r["mode"]))).write_text(json.dumps(r))
    assert main(["coverage-of-exits", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "exit-coverage.json").read_text())
    assert data["totals"]["svm"]["asserted"] == 3
    assert "| 72h | VMEXIT_CPUID |" in (tmp_path / "exit-coverage.md").read_text()
    assert "svm: 3 of" in capsys.readouterr().out
    # its own output is not taken for a results file the next time
    assert main(["coverage-of-exits", "--out", str(tmp_path)]) == 0
    assert main(["coverage-of-exits", "--out", str(tmp_path / "none")]) == 2
