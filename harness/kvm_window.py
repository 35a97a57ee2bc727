"""KVM's L2 loops measured alone: the `nestbed-mark` lines nestbed prints (option `marks`,
README.md "Measurement marks") when guests/linux/kvm_l2_runner.c brackets each of its
loops with a mark CPUID, turned into per-loop figures. Pure (no emulator): tested by
tests/harness/test_kvm_window.py.

Tags (kvm_l2_runner.c MARK_*): 1 and 2 around the CPUID loop (N CPUIDs KVM answers in
the kernel), 3 and 4 around the I/O loop (N OUTs to user space); bits 8 and up name the
L2 vCPU (only vCPU 0's marks are used: with several vCPUs the windows overlap)."""

import json
import re
from typing import Dict, List, Optional

MARK = re.compile(r"nestbed-mark (\{.*\})")
LOOPS = {"cpuid": (1, 2), "io": (3, 4)}

# What each L1 exit of KVM's loop is (issue 13's accounting): the four that KVM's
# __svm_vcpu_run does on every entry (VMLOAD guest, VMRUN, VMSAVE guest, VMLOAD host)
# exit on any CPU without virtual VMLOAD/VMSAVE; the rest are named by why they exit.
WHY = {
    "VMRUN": "KVM's VMRUN: nestbed runs L2 (always an exit)",
    "VMLOAD": "KVM's VMLOADs around VMRUN (no virtual VMLOAD/VMSAVE on this CPU)",
    "VMSAVE": "KVM's VMSAVE after VMRUN, and of its host state on return from user space",
    "CLGI": "CLGI intercepted while physical interrupts go straight to L1 (l1_gif.h)",
    "STGI": "STGI intercepted while an interrupt or NMI waits for L1's GIF (l1_gif.h)",
    "INTR": "physical interrupt while INTR is intercepted (L1's GIF may be 0: l1_gif.h)",
    "NPF": "L1's write to its xAPIC page (read-only: ICR writes must exit)",
    "CPUID": "L1's CPUID (nestbed's CPUID policy)",
    "IOIO": "L1's I/O to a port nestbed intercepts",
    "MSR": "L1's RDMSR/WRMSR of an MSR nestbed intercepts",
    "HLT": "L1's HLT",
}


def parse_marks(lines) -> List[dict]:
    """Every mark's JSON, in order (lines that do not parse are left out)."""
    marks = []
    for line in lines:
        m = MARK.search(line)
        if not m:
            continue
        try:
            marks.append(json.loads(m.group(1)))
        except ValueError:
            continue
    return marks


def _diff(a: Dict[str, int], b: Dict[str, int]) -> Dict[str, int]:
    keys = set(a) | set(b)
    out = {k: b.get(k, 0) - a.get(k, 0) for k in keys}
    return {k: v for k, v in sorted(out.items()) if v}


def _less_one(counts: Dict[str, int], key: str) -> Dict[str, int]:
    if counts.get(key):
        counts[key] -= 1
    return {k: v for k, v in counts.items() if v}


def window(begin: dict, end: dict, iterations: Optional[int] = None) -> dict:
    """The figures between two marks: L0 exits by level and kind, by native code, L1's
    xAPIC writes by register, reflected exits, L0 exits per reflected exit, physical
    interrupts per reflected exit, and nestbed's ticks (its instructions under -icount)
    in all, per reflected exit and per iteration of the loop."""
    # a mark's counters stand before its own exit (an L1 CPUID): the first mark's exit
    # is inside the window, and not part of what it measures
    l1 = _diff(begin["l1"], end["l1"])
    for key in ("total", "cpuid"):
        if l1.get(key):
            l1[key] -= 1
    l1 = {k: v for k, v in l1.items() if v}
    l2 = _diff(begin["l2"], end["l2"])
    reflected = _diff(begin["reflected"], end["reflected"])
    l0 = l1.get("total", 0) + l2.get("total", 0)
    nref = reflected.get("total", 0)
    ticks = end["ticks"] - begin["ticks"]
    guest = end["guest_ticks"] - begin["guest_ticks"]
    out = {
        "l0_exits": l0,
        "reflected": nref,
        "l1": l1,
        "l2": l2,
        "reflected_by_kind": reflected,
        "l1_codes": _less_one(_diff(begin.get("l1_codes", {}), end.get("l1_codes", {})),
                              "CPUID"),
        "l2_codes": _diff(begin.get("l2_codes", {}), end.get("l2_codes", {})),
        "l1_apic_writes": _diff(begin.get("l1_apic_writes", {}),
                                end.get("l1_apic_writes", {})),
        # nestbed's ticks (instructions under -icount) by the exit that caused them
        "l1_code_ticks": _diff(begin.get("l1_code_ticks", {}), end.get("l1_code_ticks", {})),
        "l2_code_ticks": _diff(begin.get("l2_code_ticks", {}), end.get("l2_code_ticks", {})),
        "ticks": ticks,
        "nestbed_ticks": ticks - guest,
    }
    if nref:
        out["l0_exits_per_reflected"] = round(l0 / nref, 3)
        out["l1_exits_per_reflected_by_code"] = {
            k: round(v / nref, 3) for k, v in out["l1_codes"].items()}
        intr = l1.get("intr", 0) + l2.get("intr", 0)
        out["physical_interrupts_per_reflected"] = round(intr / nref, 3)
        out["nestbed_ticks_per_reflected"] = round((ticks - guest) / nref)
        out["l1_code_ticks_each"] = {
            k: round(v / out["l1_codes"][k]) for k, v in out["l1_code_ticks"].items()
            if out["l1_codes"].get(k)}
        out["l2_code_ticks_each"] = {
            k: round(v / out["l2_codes"][k]) for k, v in out["l2_code_ticks"].items()
            if out["l2_codes"].get(k)}
    out["l1_exits_why"] = {k: WHY.get(k, "see nestbed's trace") for k in out["l1_codes"]}
    if iterations:
        out["iterations"] = iterations
        out["nestbed_ticks_per_iteration"] = round((ticks - guest) / iterations)
        out["ticks_per_iteration"] = round(ticks / iterations)
    return out


def loop_windows(marks: List[dict], iterations: Optional[int] = None) -> Dict[str, dict]:
    """{"cpuid": window, "io": window} from vCPU 0's marks (a loop whose marks are
    missing is left out)."""
    by_tag = {}
    for m in marks:
        tag = m.get("tag", 0)
        if tag >> 8 == 0:
            by_tag[tag & 0xff] = m
    out = {}
    for name, (a, b) in LOOPS.items():
        if a in by_tag and b in by_tag:
            out[name] = window(by_tag[a], by_tag[b], iterations)
    return out


def loops_together(windows: Dict[str, dict]) -> Optional[float]:
    """L0 exits per reflected exit over both loops (the L2 part of a whole run, without
    L1's boot): the figure issue 13's whole-run target describes."""
    l0 = sum(w.get("l0_exits", 0) for w in windows.values())
    ref = sum(w.get("reflected", 0) for w in windows.values())
    return round(l0 / ref, 3) if ref else None
