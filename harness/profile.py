"""`python3 -m harness profile --platform qemu-svm IMAGE [ARGS]`: nestbed's instructions per
exit, per function, per exit kind.

QEMU runs nestbed with IMAGE as its guest under -icount on one TCG thread, one instruction
per translation block (-singlestep) and no block chaining, and logs every executed
instruction (`-d exec,nochain`) and every translation's disassembly (`-d in_asm`) into a
FIFO that this module reads as QEMU writes it (a run writes gigabytes otherwise). The BIOS
is filtered out (-dfilter).

Each `Trace` line gives the PC and the translation block's flags, which carry QEMU's
HF_GUEST_MASK: set while the CPU is in SVM guest mode (target/i386/cpu.h, HF_GUEST_SHIFT
21). Instructions without it, after the first guest instruction, are nestbed's: one
*episode* is the host-mode run between two guest instructions, that is one exit from VMRUN
to VMRUN. An episode's kind is the mnemonic of the guest instruction that exited (the last
guest PC before it, disassembled by in_asm), its level 2 when nestbed asked its nested
layer whether L1 wants the exit (the `*reflect_if_wanted` hook runs for L2 exits only), and
"reflected" when it reflected it (the nested layer's `reflect`). Nestbed's PCs are mapped
to functions with `nm -n build/nestbed.elf`.

The parsing and the attribution are pure (tests/harness/test_profile.py); `profile_run`
runs QEMU."""

import bisect
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from . import ROOT, HarnessError

HF_GUEST = 1 << 21          # QEMU target/i386/cpu.h HF_GUEST_SHIFT: in SVM guest mode
# What the BIOS runs (SeaBIOS: 0xe0000-0xfffff and its ROM alias below 4 GiB) is filtered
# out; everything else is logged: the guest anywhere in low memory, nestbed anywhere.
DFILTER = "0x0..0xdffff,0x100000..0xfffbffff,0x100000000..0xffffffffffffffff"

TRACE = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[([0-9a-f]+)/([0-9a-f]+)/([0-9a-f]+)/")
IN_ASM = re.compile(r"^0x([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*([a-z][a-z0-9.]*)")
L2_MARK = re.compile(r"reflect_if_wanted$")        # the nested hook asked: an L2 exit
REFLECT_MARK = re.compile(r"^(reflect|nvmx_reflect|nsvm_reflect)$")  # it went to L1

# Targets of issue 13 (nestbed instructions per exit, qemu-svm, no NRIPS)
OWN_EXIT_TARGETS = {"cpuid": 300, "rdmsr": 300, "out": 150}
NESTED_ROUND_TRIP_TARGET = 1500


def parse_trace(line: str) -> Optional[Tuple[int, int]]:
    """(pc, flags) of an exec log line, or None."""
    m = TRACE.match(line)
    if not m:
        return None
    return int(m.group(2), 16), int(m.group(3), 16)


def parse_in_asm(line: str) -> Optional[Tuple[int, str]]:
    """(pc, mnemonic) of an in_asm disassembly line, or None."""
    m = IN_ASM.match(line)
    if not m:
        return None
    mnemonic = m.group(2)
    # AT&T suffixes QEMU's disassembler adds (`outb`, `rdmsr` has none)
    if mnemonic.startswith(("out", "in")) and mnemonic[-1] in "bwl" and len(mnemonic) in (4, 3):
        mnemonic = mnemonic[:-1]
    return int(m.group(1), 16), mnemonic


class SymbolMap:
    """PC -> function name from `nm -n` output (text symbols only)."""

    def __init__(self, nm_text: str):
        starts, names = [], []
        for line in nm_text.splitlines():
            parts = line.split()
            if len(parts) != 3 or parts[1] not in "tTwW":
                continue
            addr = int(parts[0], 16)
            if starts and starts[-1] == addr:
                continue            # an alias at the same address: the first name wins
            starts.append(addr)
            # a local label (nasm's `func.label`) or a compiler's part (`func.part.0`,
            # `func.cold`) counts as its function
            names.append(parts[2].split(".")[0] or parts[2])
        self.starts, self.names = starts, names
        self.cache: Dict[int, str] = {}

    @classmethod
    def of_elf(cls, elf: Path) -> "SymbolMap":
        try:
            out = subprocess.run(["nm", "-n", str(elf)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=60, check=True).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise HarnessError("nm %s: %s" % (elf, e))
        return cls(out.decode())

    def name(self, pc: int) -> str:
        hit = self.cache.get(pc)
        if hit is None:
            i = bisect.bisect_right(self.starts, pc) - 1
            hit = self.names[i] if i >= 0 else "?"
            self.cache[pc] = hit
        return hit


@dataclass
class KindStats:
    episodes: int = 0
    instructions: int = 0
    by_function: Dict[str, int] = field(default_factory=dict)

    def per_episode(self) -> float:
        return self.instructions / self.episodes if self.episodes else 0.0


class Profiler:
    """Feed it the log's lines; it attributes nestbed's instructions to episodes."""

    def __init__(self, symbols: SymbolMap):
        self.symbols = symbols
        self.mnemonics: Dict[int, str] = {}
        self.kinds: Dict[str, KindStats] = {}
        self.seen_guest = False
        self.boot_instructions = 0
        self.last_guest_pc: Optional[int] = None
        self.episode: Dict[str, int] = {}
        self.episode_len = 0

    def feed(self, line: str) -> None:
        if line.startswith("Trace "):
            t = parse_trace(line)
            if t:
                self.instruction(*t)
            return
        if line.startswith("0x"):
            a = parse_in_asm(line)
            if a:
                self.mnemonics[a[0]] = a[1]

    def instruction(self, pc: int, flags: int) -> None:
        if flags & HF_GUEST:
            if self.episode_len:
                self.close_episode()
            self.seen_guest = True
            self.last_guest_pc = pc
            return
        if not self.seen_guest:
            self.boot_instructions += 1
            return
        name = self.symbols.name(pc)
        self.episode[name] = self.episode.get(name, 0) + 1
        self.episode_len += 1

    def episode_kind(self) -> str:
        insn = self.mnemonics.get(self.last_guest_pc, "?") if self.last_guest_pc is not None else "?"
        level2 = any(L2_MARK.search(f) for f in self.episode)
        reflected = any(REFLECT_MARK.match(f) for f in self.episode)
        return "%s %s%s" % ("L2" if level2 else "L1", insn, " reflected" if reflected else "")

    def close_episode(self) -> None:
        k = self.kinds.setdefault(self.episode_kind(), KindStats())
        k.episodes += 1
        k.instructions += self.episode_len
        for f, n in self.episode.items():
            k.by_function[f] = k.by_function.get(f, 0) + n
        self.episode, self.episode_len = {}, 0

    def finish(self) -> None:
        """The run ended in nestbed (the exit port): that episode is no round trip."""
        self.episode, self.episode_len = {}, 0


def function_table(stats: Iterable[KindStats], top: int = 25) -> List[Tuple[str, float]]:
    """Mean instructions per function over the kinds given (one episode of each):
    [(function, instructions)], largest first."""
    total: Dict[str, float] = {}
    for k in stats:
        for f, n in k.by_function.items():
            total[f] = total.get(f, 0.0) + n / k.episodes
    rows = sorted(total.items(), key=lambda r: (-r[1], r[0]))
    return rows[:top] if top else rows


ROUND_TRIP_PARTS = ("L2 cpuid reflected", "L1 vmrun")


def summary(p: Profiler) -> dict:
    """What bench.json records: instructions per episode by kind, the own exits against
    their targets, the nested round trip (L2 CPUID reflected + L1's VMRUN)."""
    out = {"by_kind": {k: {"episodes": s.episodes, "instructions_each": round(s.per_episode(), 1)}
                       for k, s in sorted(p.kinds.items())}}
    own = {}
    for insn, target in OWN_EXIT_TARGETS.items():
        s = p.kinds.get("L1 " + insn)
        if s and s.episodes:
            own[insn] = {"instructions": round(s.per_episode(), 1), "target": target,
                         "met": s.per_episode() <= target}
    if own:
        out["own_exit_cost"] = own
    parts = [p.kinds.get(k) for k in ROUND_TRIP_PARTS]
    if all(s and s.episodes for s in parts):
        n = sum(s.per_episode() for s in parts)
        out["nested_round_trip"] = {"instructions": round(n, 1), "parts": list(ROUND_TRIP_PARTS),
                                    "target": NESTED_ROUND_TRIP_TARGET,
                                    "met": n <= NESTED_ROUND_TRIP_TARGET}
    return out


def _table(title: str, rows: List[Tuple[str, float]], total: float) -> List[str]:
    lines = ["### " + title, "", "| function | instructions | share |", "|---|---:|---:|"]
    for f, n in rows:
        lines.append("| `%s` | %.1f | %.1f%% |" % (f, n, 100.0 * n / total if total else 0.0))
    lines += ["| **total** | **%.1f** | |" % total, ""]
    return lines


def render(p: Profiler, title: str, top: int = 25) -> str:
    """Markdown: the episodes by kind, then each kind's per-function table (mean
    instructions per episode), the nested round trip first."""
    lines = ["# nestbed instructions per exit: %s" % title, "",
             "Counted from QEMU's execution log under -icount (harness/profile.py): nestbed's",
             "instructions between a guest instruction that exited and the guest's next one,",
             "mean per exit, per function (`nm` of nestbed.elf).", "",
             "| exit (level, guest instruction) | exits | nestbed instructions each |",
             "|---|---:|---:|"]
    for k, s in sorted(p.kinds.items(), key=lambda kv: -kv[1].episodes):
        lines.append("| %s | %d | %.1f |" % (k, s.episodes, s.per_episode()))
    lines.append("")
    parts = [p.kinds.get(k) for k in ROUND_TRIP_PARTS]
    if all(s and s.episodes for s in parts):
        total = sum(s.per_episode() for s in parts)
        lines += _table("nested round trip (%s)" % " + ".join(ROUND_TRIP_PARTS),
                        function_table(parts, top), total)
    for k, s in sorted(p.kinds.items(), key=lambda kv: -kv[1].episodes):
        lines += _table("%s (%d exits)" % (k, s.episodes), function_table([s], top),
                        s.per_episode())
    return "\n".join(lines)


def terminal_tables(p: Profiler, top: int = 15) -> str:
    """What the command prints: a nested round trip's table and an L1 CPUID exit's."""
    out = []
    parts = [p.kinds.get(k) for k in ROUND_TRIP_PARTS]
    if all(s and s.episodes for s in parts):
        total = sum(s.per_episode() for s in parts)
        out.append("nested round trip (%s): %.1f nestbed instructions" %
                   (" + ".join(ROUND_TRIP_PARTS), total))
        out += ["  %8.1f  %s" % (n, f) for f, n in function_table(parts, top)]
    else:
        out.append("nested round trip: none in this run (no %s)" % " and ".join(ROUND_TRIP_PARTS))
    s = p.kinds.get("L1 cpuid")
    if s and s.episodes:
        out.append("L1 cpuid exit (%d): %.1f nestbed instructions" % (s.episodes, s.per_episode()))
        out += ["  %8.1f  %s" % (n, f) for f, n in function_table([s], top)]
    else:
        out.append("L1 cpuid exit: none in this run")
    for k, s in sorted(p.kinds.items(), key=lambda kv: -kv[1].episodes):
        out.append("  %-28s %7d exits %9.1f each" % (k, s.episodes, s.per_episode()))
    return "\n".join(out)


def feed_stream(p: Profiler, stream) -> None:
    """Lines of a binary stream into the profiler (QEMU writes ASCII)."""
    feed = p.feed
    for raw in stream:
        feed(raw.decode("ascii", "replace"))


def profile_run(platform_name: str, image: Path, args: List[str], timeout: float,
                nestbed: Optional[Path] = None, nestbed_args: str = "", say=print):
    """Run IMAGE under nestbed on QEMU with the execution log into a FIFO read here.
    Returns (RunResult, Profiler)."""
    from .platforms import RunSpec, get_platform
    from .runner import run
    platform = get_platform(platform_name)
    if not platform.name.startswith("qemu"):
        raise HarnessError("profile needs QEMU's execution log: %s is no QEMU platform"
                           % platform.name)
    elf = nestbed or platform.default_nestbed()
    symbols = SymbolMap.of_elf(elf)
    profiler = Profiler(symbols)
    tmp = Path(tempfile.mkdtemp(prefix="nestbed-profile-"))
    fifo = tmp / "exec.log"
    os.mkfifo(fifo)
    errors: List[BaseException] = []

    def reader():
        try:
            with open(fifo, "rb", buffering=1 << 20) as f:
                feed_stream(profiler, f)
        except BaseException as e:   # reported after the run
            errors.append(e)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    spec = RunSpec(image=image, args=args, icount=True, nestbed=nestbed,
                   nestbed_args=nestbed_args,
                   qemu_extra=["-singlestep", "-d", "in_asm,exec,nochain", "-dfilter", DFILTER,
                               "-D", str(fifo)])
    try:
        result = run(platform, spec, timeout=timeout)
    finally:
        # QEMU that never opened the FIFO (refused to start) leaves the reader waiting
        if thread.is_alive():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        thread.join(timeout=600)
        try:
            fifo.unlink()
            tmp.rmdir()
        except OSError:
            pass
    if errors:
        raise HarnessError("reading QEMU's execution log: %s" % errors[0])
    profiler.finish()
    return result, profiler


def write_profile(p: Profiler, out: Path, title: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(p, title) + "\n")
    return out
