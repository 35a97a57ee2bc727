"""harness profile: parsing QEMU's exec and in_asm log lines, mapping PCs to functions,
cutting the log into exits (episodes) and naming their kind, and the summary bench.json
records. Pure: a made-up log, no emulator."""

import json

import pytest

from harness import bench, profile

NM = """\
ffffffff80200000 T vcpu_loop
ffffffff80200100 t handle_cpuid
ffffffff80200200 T svm_world_switch
ffffffff80200230 t svm_world_switch.interrupts_stay_off
ffffffff80200300 t nsvm_reflect_if_wanted
ffffffff80200400 t reflect
ffffffff80200500 T nsvm_emulate_vm_insn
ffffffff80200600 t walk.part.0
ffffffff80300000 D some_data
ffffffff80200600 T walk_alias
"""

HOST = 0x0010c0b0      # 64-bit host mode with EFER.SVME, QEMU's hflags
GUEST = 0x0030c0b0     # the same in SVM guest mode (HF_GUEST_MASK, bit 21)


def trace(pc, flags):
    return "Trace 0: 0x7f605c000100 [0000000000000000/%016x/%08x/ff020201] \n" % (pc, flags)


def in_asm(pc, text):
    return ["----------------\n", "IN: \n", "0x%08x:  %s\n" % (pc, text), "\n"]


def test_parse_trace_and_in_asm():
    assert profile.parse_trace(trace(0xffffffff8020d1f2, 0xc0b0)) == (0xffffffff8020d1f2, 0xc0b0)
    assert profile.parse_trace("Trace 0: garbage") is None
    assert profile.parse_in_asm("0x000e98ea:  0f a2                    cpuid    ") == \
        (0xe98ea, "cpuid")
    assert profile.parse_in_asm("0x00103bf0:  ee                       outb     %al, %dx") == \
        (0x103bf0, "out")
    assert profile.parse_in_asm("0x00103bf0:  0f 01 d8                 vmrun    ") == \
        (0x103bf0, "vmrun")
    assert profile.parse_in_asm("0x00103bf0:  cc                       int3     ") == \
        (0x103bf0, "int3")
    assert profile.parse_in_asm("IN: ") is None


def test_symbols_fold_local_labels_and_ignore_data():
    s = profile.SymbolMap(NM)
    assert s.name(0xffffffff80200000) == "vcpu_loop"
    assert s.name(0xffffffff802000ff) == "vcpu_loop"
    assert s.name(0xffffffff80200231) == "svm_world_switch"     # nasm's local label
    assert s.name(0xffffffff80200601) == "walk"                 # gcc's .part.0, alias dropped
    assert s.name(0x1000) == "?"
    assert s.name(0xffffffff80300010) == "walk"                 # data is no function


def feed(p, lines):
    for line in lines:
        p.feed(line)


def round_trip_log(n):
    """Boot, then n times: L1 CPUID (own exit, 3 nestbed instructions), L1 VMRUN
    (4 nestbed instructions), L2 CPUID reflected (5)."""
    lines = [trace(0x200000, 0xb0), trace(0xffffffff80200000, HOST)]   # boot: not counted
    lines += in_asm(0x101000, "0f a2                    cpuid    ")
    lines += in_asm(0x101002, "0f 01 d8                 vmrun    ")
    lines += in_asm(0x102000, "0f a2                    cpuid    ")
    for _ in range(n):
        lines += [trace(0x101000, GUEST),
                  trace(0xffffffff80200000, HOST), trace(0xffffffff80200101, HOST),
                  trace(0xffffffff80200231, HOST),
                  trace(0x101002, GUEST),
                  trace(0xffffffff80200000, HOST), trace(0xffffffff80200500, HOST),
                  trace(0xffffffff80200501, HOST), trace(0xffffffff80200200, HOST),
                  trace(0x102000, GUEST),
                  trace(0xffffffff80200000, HOST), trace(0xffffffff80200300, HOST),
                  trace(0xffffffff80200400, HOST), trace(0xffffffff80200401, HOST),
                  trace(0xffffffff80200200, HOST)]
    lines.append(trace(0x101000, GUEST))
    lines += [trace(0xffffffff80200000, HOST)] * 50     # the exit port: no round trip
    return lines


def test_episodes_by_kind():
    p = profile.Profiler(profile.SymbolMap(NM))
    feed(p, round_trip_log(3))
    p.finish()
    assert p.boot_instructions == 2
    kinds = {k: (s.episodes, s.instructions) for k, s in p.kinds.items()}
    assert kinds == {"L1 cpuid": (3, 9), "L1 vmrun": (3, 12), "L2 cpuid reflected": (3, 15)}
    assert p.kinds["L1 cpuid"].by_function == {"vcpu_loop": 3, "handle_cpuid": 3,
                                                "svm_world_switch": 3}
    rows = profile.function_table([p.kinds["L2 cpuid reflected"], p.kinds["L1 vmrun"]])
    assert rows[0] == ("nsvm_emulate_vm_insn", 2.0) or rows[0] == ("reflect", 2.0)
    assert dict(rows) == {"reflect": 2.0, "nsvm_emulate_vm_insn": 2.0, "vcpu_loop": 2.0,
                          "svm_world_switch": 2.0, "nsvm_reflect_if_wanted": 1.0}


def test_summary_targets_and_render():
    p = profile.Profiler(profile.SymbolMap(NM))
    feed(p, round_trip_log(2))
    p.finish()
    s = profile.summary(p)
    assert s["own_exit_cost"] == {"cpuid": {"instructions": 3.0, "target": 300, "met": True}}
    assert s["nested_round_trip"]["instructions"] == 9.0
    assert s["nested_round_trip"]["target"] == 1500
    assert s["by_kind"]["L1 vmrun"] == {"episodes": 2, "instructions_each": 4.0}
    md = profile.render(p, "test")
    assert "### nested round trip (L2 cpuid reflected + L1 vmrun)" in md
    assert "| `reflect` | 2.0 | 22.2% |" in md
    text = profile.terminal_tables(p)
    assert text.splitlines()[0] == ("nested round trip (L2 cpuid reflected + L1 vmrun): "
                                    "9.0 nestbed instructions")
    assert "L1 cpuid exit (2): 3.0 nestbed instructions" in text


def test_over_target_and_missing_parts():
    p = profile.Profiler(profile.SymbolMap(NM))
    lines = [trace(0x101000, GUEST)] + in_asm(0x101000, "ee                       outb     %al, %dx")
    lines += [trace(0xffffffff80200000, HOST)] * 151 + [trace(0x101001, GUEST)]
    feed(p, lines)
    s = profile.summary(p)
    assert s["own_exit_cost"] == {"out": {"instructions": 151.0, "target": 150, "met": False}}
    assert "nested_round_trip" not in s
    assert "nested round trip: none in this run" in profile.terminal_tables(p)


def test_record_profile_merges_into_bench_json(tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps({"linux_boot": {"x": 1}}))
    figures = {"own_exit_cost": {"cpuid": {"instructions": 250.0, "target": 300, "met": True}},
               "nested_round_trip": {"instructions": 1400.0, "target": 1500, "met": True}}
    path = bench.record_profile(tmp_path, "qemu-svm", figures, "a run")
    data = json.loads(path.read_text())
    assert data["linux_boot"] == {"x": 1}
    assert data["own_exit_cost"]["qemu-svm"]["cpuid"]["instructions"] == 250.0
    assert data["nested_round_trip_l0_instructions"]["qemu-svm"]["instructions"] == 1400.0
    assert data["profile"]["qemu-svm"]["run"] == "a run"


@pytest.mark.parametrize("platform", ["bochs-svm"])
def test_profile_refuses_other_platforms(platform, tmp_path):
    with pytest.raises(profile.HarnessError):
        profile.profile_run(platform, tmp_path / "x.elf", [], 10)
