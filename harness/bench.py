"""`python3 -m harness bench`: cost figures, written to results/bench.json.

Seconds vary on shared machines, so every wall-clock figure is the median of several
boots and comes with what is deterministic: exit counts from nestbed's stats line."""

import datetime
import json
import re
import resource
import statistics
import subprocess
import time

from . import ROOT
from . import linux
from .platforms import RunSpec, get_platform
from .runner import run

STATS = re.compile(r"nestbed-stats (\{.*\})")
STATS_CPU = re.compile(r"nestbed-stats-cpu (\d+) (\{.*\})")   # one per CPU, with several


def _git_version() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              timeout=10).stdout.decode().strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


class _Collect:
    def __init__(self):
        self.stats = None
        self.per_cpu = {}

    def __call__(self, line, test):
        m = STATS_CPU.search(line)
        if m:
            try:
                self.per_cpu[int(m.group(1))] = json.loads(m.group(2))
            except ValueError:
                pass
            return
        m = STATS.search(line)
        if m:
            try:
                self.stats = json.loads(m.group(1))
            except ValueError:
                pass


def _boot(platform, spec, timeout, collect=None):
    collect = collect or _Collect()
    start = time.monotonic()
    result = run(platform, spec, timeout=timeout, on_line=collect)
    seconds = time.monotonic() - start
    if result.verdict != "pass":
        raise RuntimeError("%s %s: %s" % (platform.name, spec.mode, result.reason))
    return seconds, collect.stats


# What the Linux scenario's /init prints first (guests/linux/boot_marker.c): the TSC at
# /init, which under -icount shift=0,sleep=off is the virtual nanoseconds since power-on
BOOT_MARKER = re.compile(r"# boot-marker: tsc (0x[0-9a-f]+) idle_cs (-?\d+) uptime_cs (-?\d+)")


class _CollectMarker(_Collect):
    def __init__(self):
        super().__init__()
        self.marker = None

    def __call__(self, line, test):
        super().__call__(line, test)
        m = BOOT_MARKER.search(line)
        if m:
            self.marker = {"tsc_at_init": int(m.group(1), 16), "idle_cs": int(m.group(2)),
                           "uptime_cs": int(m.group(3))}


def _children_cpu_seconds() -> float:
    """user + sys of every child process this one has waited for (the emulators)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _boot_cpu(platform, spec, timeout):
    """A boot's wall seconds, the emulator's CPU seconds (user + sys: what a loaded
    machine changes least), its stats and its boot marker."""
    collect = _CollectMarker()
    before = _children_cpu_seconds()
    seconds, stats = _boot(platform, spec, timeout, collect)
    if stats is not None and collect.per_cpu:
        stats = dict(stats, per_cpu=collect.per_cpu)
    return seconds, _children_cpu_seconds() - before, stats, collect.marker


# QEMU 7.2's TCG under -icount (one thread for every vCPU) does not bring Linux's APs up,
# bare as under nestbed: Linux stops after "x86: Booting SMP configuration:" (measured
# 2026-12, sleep=on and sleep=off alike), so the virtual-time figure is for 1 CPU only.
ICOUNT_SMP_SKIP = ("QEMU 7.2 TCG under -icount does not bring up Linux's APs (bare too: the "
                   "boot stops after 'x86: Booting SMP configuration:')")
ICOUNT_RTC = ["-rtc", "base=2026-01-01T00:00:00,clock=vm"]


def linux_boot_icount(platform_name: str, say, cpus: int = 1) -> dict:
    """Deterministic: the TSC at Linux's /init under -icount shift=0,sleep=off (virtual
    nanoseconds from power-on: one per retired instruction plus the idle time QEMU warped
    over), bare and under nestbed, and their ratio. The RTC runs on virtual time from a
    fixed date, so nothing of the host's clock reaches the guest."""
    if cpus > 1:
        return {"skip": ICOUNT_SMP_SKIP}
    platform = get_platform(platform_name)
    linux.prepare()
    timeout = linux.TIMEOUTS.get(platform_name, 600) * 3   # -icount runs on one thread
    figures = {"how": "-accel tcg,thread=single -icount shift=0,sleep=off -rtc clock=vm: the "
               "TSC at /init (guests/linux/boot_marker.c) = virtual ns from power-on"}
    for mode in ("bare", "nestbed"):
        spec = linux.spec_for(platform_name, mode == "bare")
        spec.cpus = cpus
        spec.args += linux.cpu_check_args(cpus, mode == "bare")
        spec.icount = spec.icount_nosleep = True
        spec.qemu_extra = list(ICOUNT_RTC)
        seconds, cpu, stats, marker = _boot_cpu(platform, spec, timeout)
        if not marker:
            raise RuntimeError("%s %s: no boot marker from /init" % (platform_name, mode))
        figures[mode] = dict(marker, cpu_seconds=round(cpu, 3), seconds=round(seconds, 3))
        if stats:
            figures[mode]["exits"] = stats.get("exits")
        say("bench: linux %s %s -icount: TSC at /init %d (%.2f s CPU)" % (
            platform_name, mode, marker["tsc_at_init"], cpu))
    figures["ratio_nestbed_to_bare"] = round(
        figures["nestbed"]["tsc_at_init"] / figures["bare"]["tsc_at_init"], 4)
    return figures


def linux_boot(platform_name: str, runs: int, say, cpus: int = 1) -> dict:
    """Linux boot to /init and power-off, bare and under nestbed: median seconds, ratio;
    with cpus > 1 the initramfs also checks that every CPU came online."""
    platform = get_platform(platform_name)
    linux.prepare()
    timeout = linux.TIMEOUTS.get(platform_name, 600)
    figures = {}
    times = {"bare": [], "nestbed": []}
    cpu_times = {"bare": [], "nestbed": []}
    stats = {}
    # bare and nestbed runs alternate, so that a change of the machine's load (other
    # emulators on the same cores) weighs on both medians alike
    for i in range(runs):
        for mode in ("bare", "nestbed"):
            spec = linux.spec_for(platform_name, mode == "bare")
            spec.cpus = cpus
            spec.args += linux.cpu_check_args(cpus, mode == "bare")
            seconds, cpu, stats[mode], _ = _boot_cpu(platform, spec, timeout)
            times[mode].append(seconds)
            cpu_times[mode].append(cpu)
            say("bench: linux %s %s %d CPU(s) run %d/%d: %.2f s, %.2f s CPU" % (
                platform_name, mode, cpus, i + 1, runs, seconds, cpu))
    for mode in ("bare", "nestbed"):
        figures[mode] = {"seconds_median": round(statistics.median(times[mode]), 3),
                         "seconds": [round(t, 3) for t in times[mode]],
                         "cpu_seconds_median": round(statistics.median(cpu_times[mode]), 3),
                         "cpu_seconds": [round(t, 3) for t in cpu_times[mode]]}
        if stats.get(mode):
            figures[mode]["exits"] = stats[mode].get("exits")
            figures[mode]["exits_by_kind"] = {k: v for k, v in stats[mode].get("l1", {}).items()
                                              if k != "total"}
            if stats[mode].get("per_cpu"):   # how the APs come up and idle: exits per CPU
                figures[mode]["exits_by_kind_per_cpu"] = {
                    str(cpu): {k: v for k, v in st.get("l1", {}).items() if k != "total"}
                    for cpu, st in sorted(stats[mode]["per_cpu"].items())}
    figures["ratio_nestbed_to_bare"] = round(
        figures["nestbed"]["seconds_median"] / figures["bare"]["seconds_median"], 3)
    # the emulator's user + sys seconds (a loaded machine stretches wall seconds, not these)
    figures["cpu_ratio_nestbed_to_bare"] = round(
        figures["nestbed"]["cpu_seconds_median"] / figures["bare"]["cpu_seconds_median"], 3)
    if platform_name.startswith("qemu"):
        figures["icount"] = linux_boot_icount(platform_name, say, cpus)
    spec = linux.spec_for(platform_name, True)
    figures["boot_paths"] = {
        "bare": "%s (%s)" % (spec.image.name, "GRUB, Linux boot protocol, decompressed in the guest"
                             if spec.image.name == "vmlinuz" else "QEMU's PVH loader"),
        "nestbed": "vmlinux (nestbed's PVH loader, uncompressed)"}
    return figures


CPUID_LOOP = ROOT / "build" / "tests" / "svm_cpuid_loop.elf"
VMX_CPUID_LOOP = ROOT / "build" / "tests" / "vmx_cpuid_loop.elf"   # its VT-x twin
# How the VT-x loop bails out when its platform offers no VT-x (under nestbed: while nestbed
# hides VMX from its guest, as before its nested VT-x layer exists)
NO_VMX_BAILS = ("no VMX", "VMX disabled")
TICKS = re.compile(r"round trips (0x[0-9a-f]+), ticks (0x[0-9a-f]+), ticks per round trip (0x[0-9a-f]+)")


def l2_cpuid_loop(platform_name: str, say, image=CPUID_LOOP) -> dict:
    """The minimal L1 (tests/emulator/nested/svm_cpuid_loop.asm, or vmx_cpuid_loop.asm):
    L2 CPUID intercepted by L1, bare (the platform's SVM or VT-x) and under nestbed.
    Deterministic: exit counts, and on QEMU the TSC ticks per round trip under -icount
    (instructions retired). A nestbed without nested VT-x is recorded with the reason."""
    platform = get_platform(platform_name)
    icount = platform_name.startswith("qemu")
    figures = {"icount": icount}
    for mode in ("bare", "nestbed"):
        spec = RunSpec(image=image, bare=(mode == "bare"), icount=icount)
        collect = _Collect()
        result = run(platform, spec, timeout=600, on_line=collect)
        bail = result.tap.bail_out or ""
        if result.verdict != "pass" and mode == "nestbed" and bail.startswith(NO_VMX_BAILS):
            figures[mode] = {"missing": "nestbed offers no VT-x to its guest (%s)" % bail}
            say("bench: l2 cpuid loop %s %s: %s" % (platform_name, mode, figures[mode]["missing"]))
            continue
        if result.verdict != "pass":
            raise RuntimeError("l2 cpuid loop %s %s: %s" % (platform_name, mode, result.reason))
        entry = {}
        for test in result.tap.tests:
            m = TICKS.search(test.reason or "")
            if m:
                entry["round_trips"] = int(m.group(1), 16)
                entry["ticks_per_round_trip"] = int(m.group(3), 16)
        if collect.stats:
            st = collect.stats
            entry["l0_exits"] = st.get("exits")
            entry["reflected"] = st.get("reflected", {}).get("total")
            entry["l0_exits_per_reflected"] = st.get("l0_exits_per_reflected")
            entry["l1_exits_by_kind"] = {k: v for k, v in st.get("l1", {}).items() if k != "total"}
        figures[mode] = entry
        say("bench: l2 cpuid loop %s %s: %s" % (platform_name, mode, entry))
    if figures["bare"].get("ticks_per_round_trip") and figures["nestbed"].get("ticks_per_round_trip"):
        figures["ticks_ratio_nestbed_to_bare"] = round(
            figures["nestbed"]["ticks_per_round_trip"] / figures["bare"]["ticks_per_round_trip"], 2)
    return figures


CONFORMANCE = ROOT / "build" / "guests" / "conformance.elf"
COST_LINE = re.compile(r"cost ([a-z0-9-]+): (\d+) round trips, (\d+) ticks, (\d+) ticks per round trip")


def cost_per_exit_kind(platform_name: str, say) -> dict:
    """The conformance guest's cost/* probes (guests/probes/cost/cost.c): L2 -> L1 -> L2
    round trips per exit kind, bare and under nestbed, ticks per round trip by probe.
    On QEMU under -icount, so the ticks are instructions retired and repeat exactly."""
    platform = get_platform(platform_name)
    icount = platform_name.startswith("qemu")
    figures = {}
    for mode in ("bare", "nestbed"):
        spec = RunSpec(image=CONFORMANCE, args=["cost/*"], bare=(mode == "bare"), icount=icount)
        result = run(platform, spec, timeout=600)
        if result.verdict != "pass":
            raise RuntimeError("cost probes %s %s: %s" % (platform_name, mode, result.reason))
        # each cost/* probe's line is in its own YAML block (guests/lib/tap.h)
        entry = {}
        for test in result.tap.tests:
            for text in test.diagnostics:
                m = COST_LINE.search(text)
                if m and test.name == "cost/" + m.group(1):
                    entry[m.group(1)] = int(m.group(4))
        if not entry:
            raise RuntimeError("cost probes %s %s: no cost lines" % (platform_name, mode))
        figures[mode] = dict(sorted(entry.items()))
        say("bench: cost per exit kind %s %s: %s" % (platform_name, mode, figures[mode]))
    return figures


LOOP_RATE = re.compile(r"L2 (CPUID|I/O) loop: (\d+) .* in ([0-9.]+) s: (\d+)/s, ([0-9.]+) us each")


# Linux KVM's two-dimensional paging on and off, per vendor module.
KVM_TDP_SETTINGS = {"svm": (("npt1", ""), ("npt0", "kvm_amd.npt=0")),
                    "vmx": (("ept1", ""), ("ept0", "kvm_intel.ept=0"))}


def kvm_l1(platform_name: str, say) -> dict:
    """Linux KVM as L1 under nestbed (with nested paging on and off): the whole run's L0
    exits per reflected exit, and the L2 loops' rates as the KVM-API program measures them."""
    from . import kvm
    platform = get_platform(platform_name)
    kvm.prepare()
    figures = {}
    vendor = "vmx" if platform_name.endswith("vmx") else "svm"
    for npt, l1_args in KVM_TDP_SETTINGS[vendor]:
        collect = _Collect()
        rates = {}

        def on_line(line, test, collect=collect, rates=rates):
            collect(line, test)
            m = LOOP_RATE.search(line)
            if m:
                rates[m.group(1).lower().replace("/", "")] = {
                    "count": int(m.group(2)), "seconds": float(m.group(3)),
                    "per_second": int(m.group(4)), "us_each": float(m.group(5))}
        spec = kvm.spec_for(platform_name, False, l1_args=l1_args)
        result = run(platform, spec, timeout=kvm.timeout_for(platform_name), on_line=on_line)
        if result.verdict != "pass":
            raise RuntimeError("kvm %s %s: %s" % (platform_name, npt, result.reason))
        st = collect.stats or {}
        figures[npt] = {"l0_exits": st.get("exits"), "reflected": st.get("reflected", {}),
                        "l0_exits_per_reflected": st.get("l0_exits_per_reflected"),
                        "l1_exits_by_kind": {k: v for k, v in st.get("l1", {}).items() if k != "total"},
                        "l2_loops": rates}
        say("bench: kvm L1 %s %s: %s per reflected exit, loops %s" % (
            platform_name, npt, figures[npt]["l0_exits_per_reflected"], rates))
    return figures


# Issue 13's targets for Linux KVM as L1 on qemu-svm (qemu-svm-vgif for the exits)
KVM_TARGETS = {"l0_exits_per_reflected": 5.6, "nestbed_instructions_per_l2_cpuid_round_trip": 6000,
               "l2_loops_nestbed_to_bare": 2.5}
KVM_WINDOW_LOOPS = 10000


def _kvm_loop_run(platform, platform_name, bare, l1_args, icount, loops):
    """One KVM run with marks (under nestbed): the loops' rates as the runner timed them
    and, under nestbed, the windows between the marks (harness/kvm_window.py)."""
    from . import kvm, kvm_window
    lines, rates = [], {}

    def on_line(line, test):
        if "nestbed-mark" in line:
            lines.append(line)
        m = LOOP_RATE.search(line)
        if m:
            rates[m.group(1).lower().replace("/", "")] = {
                "count": int(m.group(2)), "seconds": float(m.group(3)),
                "per_second": int(m.group(4)), "us_each": float(m.group(5))}
    spec = kvm.spec_for(platform_name, bare, l1_args=l1_args, loops=loops,
                        nestbed_args="" if bare else "marks")
    spec.icount = icount
    timeout = kvm.timeout_for(platform_name) * (4 if icount else 2)
    result = run(platform, spec, timeout=timeout, on_line=on_line)
    if result.verdict != "pass":
        raise RuntimeError("kvm %s %s %s%s: %s" % (platform_name, spec.mode, l1_args or "npt1",
                                                   " -icount" if icount else "", result.reason))
    entry = {"l2_loops": rates}
    if icount:
        # the TSC counts instructions (1 per ns of the guest's clock): the runner's
        # microseconds per iteration are thousands of instructions (L1, L2 and nestbed)
        entry["instructions_per_iteration"] = {k: round(v["us_each"] * 1000)
                                               for k, v in rates.items()}
    if not bare:
        entry["windows"] = kvm_window.loop_windows(kvm_window.parse_marks(lines), loops)
        if not entry["windows"]:
            raise RuntimeError("kvm %s: no nestbed-mark lines (the runner's marks?)" %
                               platform_name)
    return entry


def _split_cost(wall, instructions, switches):
    """Part of issue 13's question: how much of the L2 loops' slowdown is QEMU's world
    switches (each VMRUN and #VMEXIT under TCG flushes its TLB) and how much is
    instructions. Per iteration, wall = instructions * a + switches * b, solved from the
    bare and the nestbed run (two equations, two unknowns: a ns per instruction, b ns
    per world switch pair); None when the solution is not positive (noise)."""
    (tb, tn), (ib, in_), (sb, sn) = wall, instructions, switches
    det = ib * sn - in_ * sb
    if not det:
        return None
    a = (tb * sn - tn * sb) / det
    b = (ib * tn - in_ * tb) / det
    if a <= 0 or b <= 0:
        return None
    extra = tn - tb
    return {"ns_per_instruction": round(a, 3), "us_per_world_switch": round(b / 1000, 2),
            "extra_us_per_iteration": round(extra / 1000, 1),
            "share_of_extra_world_switches": round((sn - sb) * b / extra, 3) if extra else None,
            "share_of_extra_instructions": round((in_ - ib) * a / extra, 3) if extra else None}


def _split_at_bare_speed(wall_ratio, instructions_ratio):
    """The loops' slowdown split without fitting (a fit of two noisy wall-clock runs can
    fail): had nestbed's extra instructions run at the bare loop's average speed (its
    world switch included), they would explain (instructions_ratio - 1) of the
    (wall_ratio - 1) extra; the rest is the extra world switches (TCG flushes its TLB at
    each VMRUN and #VMEXIT, so the code after each runs slower)."""
    if not wall_ratio or wall_ratio <= 1 or not instructions_ratio:
        return None
    share = (instructions_ratio - 1) / (wall_ratio - 1)
    return {"share_of_extra_instructions": round(share, 3),
            "share_of_extra_world_switches": round(1 - share, 3)}


def kvm_l2_loop_window(platform_name: str, say, icount: bool = True, wall: bool = True,
                       loops: int = KVM_WINDOW_LOOPS, wall_runs: int = 3) -> dict:
    """Linux KVM as L1, its two L2 loops measured alone (issue 13): nestbed's marks
    around each loop give the L0 exits by level, kind and native code, per reflected
    exit, and nestbed's own ticks. Under -icount (deterministic) those ticks are
    instructions: nestbed's per L2 CPUID round trip; without it (wall clock, bare and
    nestbed one after the other) the loops' ratio nestbed / bare, and its split into
    QEMU's world switches and instructions. Physical timer interrupts per reflected exit
    follow the guest's clock: deterministic under -icount, the emulator's speed (and the
    machine's load) otherwise; both are recorded."""
    from . import kvm, kvm_window
    platform = get_platform(platform_name)
    kvm.prepare()
    vendor = "vmx" if platform_name.endswith("vmx") else "svm"
    figures = {"loops": loops, "targets": KVM_TARGETS}
    for npt, l1_args in KVM_TDP_SETTINGS[vendor]:
        entry = {}
        if icount and platform_name.startswith("qemu"):
            ic = {mode: _kvm_loop_run(platform, platform_name, mode == "bare", l1_args, True,
                                      loops) for mode in ("bare", "nestbed")}
            w = ic["nestbed"]["windows"]
            ic["nestbed_instructions_per_l2_cpuid_round_trip"] = \
                w.get("cpuid", {}).get("nestbed_ticks_per_iteration")
            ic["l0_exits_per_reflected_both_loops"] = kvm_window.loops_together(w)
            ic["instructions_ratio_nestbed_to_bare"] = {
                k: round(v / ic["bare"]["instructions_per_iteration"][k], 2)
                for k, v in ic["nestbed"]["instructions_per_iteration"].items()
                if ic["bare"]["instructions_per_iteration"].get(k)}
            entry["icount"] = ic
            say("bench: kvm window %s %s -icount: per reflected exit %s, nestbed instructions "
                "per L2 CPUID round trip %s, instructions nestbed/bare %s" % (
                    platform_name, npt,
                    {k: v.get("l0_exits_per_reflected") for k, v in w.items()},
                    ic["nestbed_instructions_per_l2_cpuid_round_trip"],
                    ic["instructions_ratio_nestbed_to_bare"]))
        if wall:
            # bare and nestbed alternate, so a change of the machine's load weighs on both
            runs = {"bare": [], "nestbed": []}
            for _ in range(wall_runs):
                for mode in ("bare", "nestbed"):
                    runs[mode].append(_kvm_loop_run(platform, platform_name, mode == "bare",
                                                    l1_args, False, loops))
            wl = {"runs": wall_runs}
            for mode, got in runs.items():
                wl[mode] = {"us_each": {k: [r["l2_loops"][k]["us_each"] for r in got
                                            if k in r["l2_loops"]] for k in ("cpuid", "io")}}
                wl[mode]["us_each_median"] = {k: statistics.median(v)
                                              for k, v in wl[mode]["us_each"].items() if v}
            # the windows of the nestbed run whose CPUID loop took the median time
            nb = sorted(runs["nestbed"], key=lambda r: r["l2_loops"].get("cpuid", {})
                        .get("us_each", 0))[len(runs["nestbed"]) // 2]
            wl["nestbed"]["windows"] = nb["windows"]
            wl["nestbed"]["l0_exits_per_reflected"] = [
                {k: w.get("l0_exits_per_reflected") for k, w in r["windows"].items()}
                for r in runs["nestbed"]]
            wl["us_ratio_nestbed_to_bare"] = {
                k: round(v / wl["bare"]["us_each_median"][k], 2)
                for k, v in wl["nestbed"]["us_each_median"].items()
                if wl["bare"]["us_each_median"].get(k)}
            if "icount" in entry:
                ic = entry["icount"]
                split = {}
                for k in wl["us_ratio_nestbed_to_bare"]:
                    win = ic["nestbed"]["windows"].get(k)
                    ib = ic["bare"]["instructions_per_iteration"].get(k)
                    in_ = ic["nestbed"]["instructions_per_iteration"].get(k)
                    if not win or not ib or not in_:
                        continue
                    # bare: the L2 exit is QEMU's one world switch per iteration
                    sn = win["l0_exits"] / loops
                    split[k] = _split_cost((wl["bare"]["us_each_median"][k] * 1000,
                                            wl["nestbed"]["us_each_median"][k] * 1000),
                                           (ib, in_), (1.0, sn))
                wl["slowdown_split"] = split
                wl["slowdown_split_at_bare_speed"] = {
                    k: _split_at_bare_speed(r, ic["instructions_ratio_nestbed_to_bare"].get(k))
                    for k, r in wl["us_ratio_nestbed_to_bare"].items()}
            entry["wall"] = wl
            say("bench: kvm window %s %s wall clock (median of %d): per reflected exit %s, "
                "loops nestbed/bare %s" % (
                    platform_name, npt, wall_runs,
                    wl["nestbed"]["l0_exits_per_reflected"], wl["us_ratio_nestbed_to_bare"]))
        figures[npt] = entry
    return figures


def record_kvm_window(out_dir, say, platforms=("qemu-svm-vgif", "qemu-svm"), icount=True,
                      wall=True) -> "Path":
    """kvm_l2_loop_window on each platform, merged into bench.json
    (exit_multiplication.kvm_l2_loop_window.<platform>)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    version = _git_version()
    for name in platforms:
        fig = kvm_l2_loop_window(name, say, icount=icount, wall=wall)
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        old = data.setdefault("exit_multiplication", {}).setdefault(
            "kvm_l2_loop_window", {}).get(name, {})
        # the part not measured now (-icount or wall clock) stays as it was, with its version
        for key, entry in fig.items():
            if key in ("loops", "targets"):
                old[key] = entry
                continue
            merged = old.setdefault(key, {})
            for part, figures in entry.items():
                merged[part] = dict(figures, measured_with=version, date=when)
        data["exit_multiplication"]["kvm_l2_loop_window"][name] = old
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


XEN_LOOP_RATE = re.compile(r"# (CPUID|I/O) loop: (\d+) exits in ([0-9.]+) s: (\d+)/s, "
                           r"([0-9.]+) us each")


XEN_DOMU_ROUNDS = 150     # 2 s rounds (by dom0's clock) the domU gets in a bench run


def xen_l1(platform_name: str, say, modes=("bare", "nestbed")) -> dict:
    """Xen 4.17 as L1 with a PV dom0 that starts a PVH domU (an SVM guest of Xen: L2 under
    nestbed; a PVH dom0 cannot start under nestbed, harness/xen.py) running its exit loops
    (guests/linux/xen_exit_loops.c). Bare: the loops' rates. Under nestbed: the whole run's
    L0 exits per reflected exit, by kind, and the loops' rates when the domU got that far;
    the run waits for nestbed's counters (dom0 ends it through the exit port once the domU
    ends or has had XEN_DOMU_ROUNDS rounds), and records whether the domU passed. A run
    that does not finish is recorded with its reason rather than stopping the bench."""
    from . import xen
    from .runner import Watch
    platform = get_platform(platform_name)
    xen.prepare("pv", domu=True)
    figures = {"xen_args": None, "guest": "PVH domU started by xl in a PV dom0"}
    for mode in modes:
        collect = _Collect()
        rates = {}
        verdict = {}

        def on_line(line, test, collect=collect, rates=rates, verdict=verdict):
            collect(line, test)
            m = XEN_LOOP_RATE.search(line)
            if m:
                rates[m.group(1).lower().replace("/", "")] = {
                    "exits": int(m.group(2)), "seconds": float(m.group(3)),
                    "per_second": int(m.group(4)), "us_each": float(m.group(5))}
            m = re.search(r"^xen-loops: (PASS|FAIL) xen/domU(.*)", line)
            if m and "domu" not in verdict:
                verdict["domu"] = (m.group(1) + m.group(2)).strip()
        spec = xen.spec_for(mode == "bare", platform_name=platform_name, dom0="pv", domu=True)
        spec.modules[0] = (spec.modules[0][0],
                           spec.modules[0][1] + " xen_loops.domu_rounds=%d" % XEN_DOMU_ROUNDS)
        figures["xen_args"] = " ".join(spec.args)
        if mode == "bare":
            watch = xen.watch_for(platform_name, dom0="pv", domu=True)
        else:
            # the counters come after the exit-port line, whatever the domU did
            fatal = [p for p in xen.FATAL if p != r"^exit-port:"]
            watch = Watch([xen.SVM_ENABLED, xen.DOM0_STARTED, r"nestbed-stats \{"], fatal)
        timeout = xen.TIMEOUTS.get(platform_name, 420) + xen.DOMU_EXTRA_TIMEOUT * 2
        result = run(platform, spec, timeout=timeout, on_line=on_line, watch=watch)
        entry = {"domu_loops": rates, "seconds": round(result.duration, 1),
                 "domu": verdict.get("domu", "no verdict line")}
        if result.verdict != "pass":
            entry["missing"] = "run did not finish: %s" % result.reason
        if mode == "nestbed" and collect.stats:
            st = collect.stats
            entry.update({"l0_exits": st.get("exits"), "reflected": st.get("reflected", {}),
                          "l0_exits_per_reflected": st.get("l0_exits_per_reflected"),
                          "l1_exits_by_kind": {k: v for k, v in st.get("l1", {}).items()
                                               if k != "total"}})
        figures[mode] = entry
        say("bench: xen L1 %s %s: %s per reflected exit, domU %s, loops %s%s" % (
            platform_name, mode, entry.get("l0_exits_per_reflected"), entry["domu"], rates,
            "; " + entry["missing"] if "missing" in entry else ""))
    if "bare" in figures and "nestbed" in figures:
        for kind in ("cpuid", "io"):
            b = figures["bare"]["domu_loops"].get(kind, {}).get("us_each")
            n = figures["nestbed"]["domu_loops"].get(kind, {}).get("us_each")
            if b and n:
                figures["%s_us_ratio_nestbed_to_bare" % kind] = round(n / b, 2)
    return figures


PROFILE_ARGS = ["cost/own-*"]   # the exits nestbed handles itself (guests/probes/cost/own.c)


def record_profile(out_dir, platform_name: str, figures: dict, what: str,
                   kinds=("own_exit_cost", "nested_round_trip"), key: str = ""):
    """harness profile's summary into bench.json: `profile.<platform>` whole, and its own
    exits and nested round trip (nestbed's instructions each, target beside, and the run
    that measured them) as `own_exit_cost.<platform>` and
    `nested_round_trip_l0_instructions.<platform>` (those of `kinds`); `key` names the
    whole summary under `profile` (default: the platform)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data.setdefault("profile", {})[key or platform_name] = dict(figures, run=what, date=date)
    if "own_exit_cost" in figures and "own_exit_cost" in kinds:
        data.setdefault("own_exit_cost", {})[platform_name] = dict(figures["own_exit_cost"],
                                                                   run=what)
    if "nested_round_trip" in figures and "nested_round_trip" in kinds:
        data.setdefault("nested_round_trip_l0_instructions", {})[platform_name] = dict(
            figures["nested_round_trip"], run=what)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def profile_figures(out_dir, say, platform_name: str = "qemu-svm"):
    """`harness profile` of the conformance guest's cost/own-* (exits nestbed handles
    itself) and of the minimal L1 (a nested round trip): results/profile.md is the
    latter's, with the own exits' tables appended."""
    from . import profile
    path = None
    texts = []
    version = _git_version()   # before this function's own writes make the tree dirty
    for image, args, key, kind in ((CONFORMANCE, PROFILE_ARGS, platform_name, "own_exit_cost"),
                                   (CPUID_LOOP, [], platform_name + "/minimal-l1",
                                    "nested_round_trip")):
        result, prof = profile.profile_run(platform_name, image, args, timeout=3600)
        if result.verdict != "pass":
            raise RuntimeError("profile %s %s: %s" % (platform_name, image.name, result.reason))
        what = "%s on %s, %s %s" % (version, platform_name, image.name, " ".join(args))
        texts.append(profile.render(prof, what.strip()))
        figures = profile.summary(prof)
        say("bench: profile %s: own exits %s, nested round trip %s" % (
            what, figures.get("own_exit_cost"), figures.get("nested_round_trip")))
        path = record_profile(out_dir, platform_name, figures, what.strip(), (kind,), key)
    (out_dir / "profile.md").write_text("\n\n".join(reversed(texts)) + "\n")
    return path


def run_all(out_dir, runs: int, say, bochs: bool = False):
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.update({
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nestbed": _git_version(),
        "runs_per_figure": runs,
        "linux_boot_4cpus": {"qemu-svm": linux_boot("qemu-svm", runs, say, cpus=4)},
        "linux_boot": dict({"qemu-svm": linux_boot("qemu-svm", runs, say)},
                           **({"bochs-vmx": linux_boot("bochs-vmx", 1, say)} if bochs else
                              {k: v for k, v in data.get("linux_boot", {}).items()
                               if k != "qemu-svm"})),
        "exit_multiplication": {
            "minimal_l1_cpuid_loop": {
                "qemu-svm": l2_cpuid_loop("qemu-svm", say),
                "bochs-svm": l2_cpuid_loop("bochs-svm", say),
                "bochs-vmx": l2_cpuid_loop("bochs-vmx", say, VMX_CPUID_LOOP)},
            # qemu-svm-vgif: the same CPU with vGIF, which nestbed gives L1 (its CLGI/STGI
            # then run without exits); no TCG model has virtual VMLOAD/VMSAVE
            "kvm_l1_whole_run": {"qemu-svm": kvm_l1("qemu-svm", say),
                                 "qemu-svm-vgif": kvm_l1("qemu-svm-vgif", say),
                                 "bochs-vmx": kvm_l1("bochs-vmx", say)},
            "xen_l1_whole_run": {"qemu-svm": xen_l1("qemu-svm", say)},
            "kvm_l2_loop_window": data.get("exit_multiplication", {}).get("kvm_l2_loop_window", {}),
        },
        "cost_per_exit_kind": {"qemu-svm": cost_per_exit_kind("qemu-svm", say)},
    })
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    record_kvm_window(out_dir, say)
    return profile_figures(out_dir, say)


def run_linux_boot(out_dir, runs: int, say):
    """Only the Linux boot figures on qemu-svm (1 and 4 CPUs: seconds, CPU seconds,
    the -icount virtual time), merged into the existing bench.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.setdefault("linux_boot", {})["qemu-svm"] = linux_boot("qemu-svm", runs, say)
    data["linux_boot_4cpus"] = {"qemu-svm": linux_boot("qemu-svm", runs, say, cpus=4)}
    data["linux_boot_parts"] = {
        "nestbed": _git_version(), "runs_per_figure": runs,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "figures": ["linux_boot.qemu-svm", "linux_boot_4cpus"]}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def run_deterministic(out_dir, say):
    """The figures that do not depend on the machine's load (QEMU -icount instructions,
    Bochs ticks, exit counts), re-measured and merged into bench.json; the wall-clock
    figures stay as the last full run left them, and `deterministic_parts` says which
    version measured these."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "bench.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    loops = data.setdefault("exit_multiplication", {}).setdefault("minimal_l1_cpuid_loop", {})
    loops["qemu-svm"] = l2_cpuid_loop("qemu-svm", say)
    loops["bochs-svm"] = l2_cpuid_loop("bochs-svm", say)
    loops["bochs-vmx"] = l2_cpuid_loop("bochs-vmx", say, VMX_CPUID_LOOP)
    data["cost_per_exit_kind"] = {"qemu-svm": cost_per_exit_kind("qemu-svm", say)}
    data["deterministic_parts"] = {
        "nestbed": _git_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "figures": ["exit_multiplication.minimal_l1_cpuid_loop", "cost_per_exit_kind",
                    "profile", "own_exit_cost", "nested_round_trip_l0_instructions",
                    "exit_multiplication.kvm_l2_loop_window.*.*.icount"]}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    record_kvm_window(out_dir, say, wall=False)
    return profile_figures(out_dir, say)
