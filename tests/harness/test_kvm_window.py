"""harness/kvm_window.py: KVM's L2 loops measured between nestbed's marks, and the
bench's split of the loops' slowdown (no emulator)."""

import json

from harness import bench, kvm_window


def mark(tag, ticks, guest, l1, l2, reflected, l1_codes, l1_code_ticks=None, apic=None,
         l2_codes=None, l2_code_ticks=None):
    body = {"tag": tag, "cpu": 0, "ticks": ticks, "guest_ticks": guest,
            "l1": l1, "l2": l2, "reflected": reflected, "l1_codes": l1_codes,
            "l2_codes": l2_codes or {}, "l1_code_ticks": l1_code_ticks or {},
            "l2_code_ticks": l2_code_ticks or {}, "l1_apic_writes": apic or {}}
    return "nestbed-mark " + json.dumps(body)


# Two marks around 10 L2 CPUIDs, each reflected: per CPUID KVM's VMLOAD, VMRUN, VMSAVE,
# VMLOAD (4 L1 exits) and one timer interrupt in the window (INTR, EOI and TMICT writes).
BEGIN = mark(1, 1000, 400,
             {"total": 100, "cpuid": 50, "vm_insn": 50},
             {"total": 5, "cpuid": 5}, {"total": 5, "cpuid": 5},
             {"CPUID": 50, "VMRUN": 10, "VMLOAD": 40}, {"VMRUN": 5000, "CPUID": 100},
             {"0xb0": 3}, l2_codes={"CPUID": 5})
END = mark(2, 101000, 20400,
           {"total": 145, "cpuid": 51, "vm_insn": 90, "intr": 1, "tdp_fault": 2},
           {"total": 15, "cpuid": 15}, {"total": 15, "cpuid": 15},
           {"CPUID": 51, "VMRUN": 20, "VMLOAD": 60, "VMSAVE": 20, "INTR": 1, "NPF": 2},
           {"VMRUN": 15000, "CPUID": 100, "VMLOAD": 20000, "VMSAVE": 15000, "NPF": 2400,
            "INTR": 500},
           {"0xb0": 4, "0x380": 1},
           l2_codes={"CPUID": 15}, l2_code_ticks={"CPUID": 16000})


def test_parse_marks_skips_other_lines_and_bad_json():
    lines = ["# L2 CPUID loop: ...", BEGIN, "nestbed-mark {not json", "x " + END]
    marks = kvm_window.parse_marks(lines)
    assert [m["tag"] for m in marks] == [1, 2]


def test_window_figures():
    b, e = kvm_window.parse_marks([BEGIN, END])
    w = kvm_window.window(b, e, iterations=10)
    # the first mark's own CPUID exit is inside the window and left out
    assert w["l1"] == {"intr": 1, "tdp_fault": 2, "total": 44, "vm_insn": 40}
    assert w["l1_codes"] == {"INTR": 1, "NPF": 2, "VMLOAD": 20, "VMRUN": 10, "VMSAVE": 20}
    assert w["l2"] == {"cpuid": 10, "total": 10}
    assert w["l0_exits"] == 54
    assert w["reflected"] == 10
    assert w["l0_exits_per_reflected"] == 5.4
    assert w["l1_exits_per_reflected_by_code"]["VMLOAD"] == 2.0
    assert w["physical_interrupts_per_reflected"] == 0.1
    assert w["l1_apic_writes"] == {"0x380": 1, "0xb0": 1}
    # 100000 ticks, 20000 of them in guest mode
    assert w["ticks"] == 100000 and w["nestbed_ticks"] == 80000
    assert w["nestbed_ticks_per_iteration"] == 8000
    assert w["nestbed_ticks_per_reflected"] == 8000
    assert w["l1_code_ticks_each"] == {"INTR": 500, "NPF": 1200, "VMLOAD": 1000,
                                       "VMRUN": 1000, "VMSAVE": 750}
    assert w["l2_code_ticks_each"] == {"CPUID": 1600}
    assert set(w["l1_exits_why"]) == set(w["l1_codes"])
    assert "VMLOAD/VMSAVE" in w["l1_exits_why"]["VMLOAD"]


def test_loop_windows_uses_vcpu0_and_complete_pairs():
    other_vcpu = BEGIN.replace('"tag": 1', '"tag": 257')
    marks = kvm_window.parse_marks([BEGIN, other_vcpu, END,
                                    mark(3, 0, 0, {"total": 0}, {"total": 0}, {"total": 0}, {})])
    w = kvm_window.loop_windows(marks, 10)
    assert list(w) == ["cpuid"]          # the I/O loop's end mark is missing
    assert w["cpuid"]["reflected"] == 10


def test_split_at_bare_speed():
    assert bench._split_at_bare_speed(5.0, 3.0) == {"share_of_extra_instructions": 0.5,
                                                    "share_of_extra_world_switches": 0.5}
    assert bench._split_at_bare_speed(1.0, 3.0) is None
    assert bench._split_at_bare_speed(5.0, None) is None


def test_loops_together():
    assert kvm_window.loops_together({"cpuid": {"l0_exits": 50, "reflected": 10},
                                      "io": {"l0_exits": 60, "reflected": 10}}) == 5.5
    assert kvm_window.loops_together({}) is None


def test_split_cost_solves_both_runs():
    # bare: 1000 instructions and 1 switch take 12 us; nestbed: 11000 and 3 take 52 us
    # -> 2 ns per instruction, 10 us per switch
    s = bench._split_cost((12000, 52000), (1000, 11000), (1.0, 3.0))
    assert s["ns_per_instruction"] == 2.0
    assert s["us_per_world_switch"] == 10.0
    assert s["extra_us_per_iteration"] == 40.0
    assert s["share_of_extra_world_switches"] == 0.5
    assert s["share_of_extra_instructions"] == 0.5
    # a negative solution (noise) is no answer
    assert bench._split_cost((12000, 13000), (1000, 11000), (1.0, 3.0)) is None


def test_kvm_l2_loop_window_structure(monkeypatch):
    """The bench's figures from fake runs: -icount instructions, wall-clock medians of
    alternating runs, the ratio and its split (no emulator)."""
    from harness import kvm
    monkeypatch.setattr(kvm, "prepare", lambda: None)
    monkeypatch.setattr(bench, "get_platform", lambda name: name)
    win = {"cpuid": {"l0_exits": 50000, "l0_exits_per_reflected": 5.0,
                     "nestbed_ticks_per_iteration": 7000},
           "io": {"l0_exits": 60000, "l0_exits_per_reflected": 6.0}}
    calls = []

    def fake(platform, name, bare, l1_args, icount, loops):
        calls.append((bare, l1_args, icount))
        n = sum(1 for c in calls if not c[0] and not c[2])   # nestbed wall-clock runs
        if icount:
            us = {"cpuid": 2.5 if bare else 9.0, "io": 4.0 if bare else 12.0}
        else:   # wall clock: 12 us bare; nestbed 52, 60, 56 us (median 56)
            us = {"cpuid": 12.0 if bare else [52.0, 60.0, 56.0][(n - 1) % 3],
                  "io": 20.0 if bare else 80.0}
        entry = {"l2_loops": {k: {"us_each": v} for k, v in us.items()}}
        if icount:
            entry["instructions_per_iteration"] = {k: round(v * 1000) for k, v in us.items()}
        if not bare:
            entry["windows"] = win
        return entry
    monkeypatch.setattr(bench, "_kvm_loop_run", fake)
    f = bench.kvm_l2_loop_window("qemu-svm-vgif", lambda *a: None, loops=10000)
    assert [c[1] for c in calls].count("") == 8 and len(calls) == 16
    ic = f["npt1"]["icount"]
    assert ic["nestbed_instructions_per_l2_cpuid_round_trip"] == 7000
    assert ic["instructions_ratio_nestbed_to_bare"] == {"cpuid": 3.6, "io": 3.0}
    assert ic["l0_exits_per_reflected_both_loops"] is None   # the fake windows have none
    wl = f["npt1"]["wall"]
    assert wl["nestbed"]["us_each_median"]["cpuid"] == 56.0
    assert wl["us_ratio_nestbed_to_bare"] == {"cpuid": 4.67, "io": 4.0}
    assert set(wl["slowdown_split"]) == {"cpuid", "io"}
    # instructions 3.6x, time 4.67x: (3.6 - 1) / (4.67 - 1) of the extra is instructions
    assert wl["slowdown_split_at_bare_speed"]["cpuid"] == {
        "share_of_extra_instructions": 0.708, "share_of_extra_world_switches": 0.292}
    assert f["targets"]["l0_exits_per_reflected"] == 5.6
