"""nestbed's exit trace (the `trace` / `trace=KINDS` options): split it off the console
into a file (`harness run --trace FILE`) and count it (`harness trace-stats FILE`).

One line per exit, named after KVM's tracepoints (README.md "Traces"):
    nestbed-trace cpu0 l1 cpuid kvm_exit: vcpu 0 reason CPUID code 0x72 rip 0x103387
        info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000
        error_code 0x00000000
(one line); l2 exits are kvm_nested_vmexit, and an L2 exit reflected to L1 is followed by
a kvm_nested_vmexit_inject line (no rip: the exit L1 sees).
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, List, Optional

from . import HarnessError

PREFIX = b"nestbed-trace "

LINE = re.compile(
    r"nestbed-trace cpu(?P<cpu>\d+) l(?P<level>\d+) (?P<kind>\w+) (?P<event>kvm_\w+): "
    r"vcpu \d+ reason (?P<reason>\S+) code (?P<code>0x[0-9a-f]+)"
    r"(?: rip (?P<rip>0x[0-9a-f]+))? info1 (?P<info1>0x[0-9a-f]+) info2 (?P<info2>0x[0-9a-f]+) "
    r"intr_info (?P<intr_info>0x[0-9a-f]+) error_code (?P<error_code>0x[0-9a-f]+)\s*$")

EVENTS = ("kvm_exit", "kvm_nested_vmexit", "kvm_nested_vmexit_inject")


@dataclass(frozen=True)
class TraceLine:
    cpu: int
    level: int
    kind: str        # nestbed's neutral kind: cpuid, io, vm_insn, ...
    event: str       # kvm_exit, kvm_nested_vmexit, kvm_nested_vmexit_inject
    reason: str      # the manual's name: CPUID, IOIO, VMRUN, EPT_VIOLATION, ...
    code: int
    rip: Optional[int]
    info1: int
    info2: int
    intr_info: int
    error_code: int


def parse_line(text: str) -> Optional[TraceLine]:
    """The trace line in text (it may have console noise before it), or None."""
    at = text.find("nestbed-trace ")
    if at < 0:
        return None
    m = LINE.match(text[at:].rstrip("\r\n"))
    if not m or m.group("event") not in EVENTS:
        return None
    g = m.groupdict()
    return TraceLine(cpu=int(g["cpu"]), level=int(g["level"]), kind=g["kind"],
                     event=g["event"], reason=g["reason"], code=int(g["code"], 16),
                     rip=int(g["rip"], 16) if g["rip"] else None,
                     info1=int(g["info1"], 16), info2=int(g["info2"], 16),
                     intr_info=int(g["intr_info"], 16), error_code=int(g["error_code"], 16))


class TraceSplitter:
    """A binary stream in front of another: whole lines that start with `nestbed-trace `
    go to the trace file, everything else to the stream (None: dropped). Lines are cut
    at newlines; a partial line waits for its end (or close)."""

    def __init__(self, trace: BinaryIO, stream: Optional[BinaryIO] = None):
        self.trace = trace
        self.stream = stream
        self.lines = 0
        self._partial = b""
        self._midline = False   # the stream got part of a line: the rest is not a trace line

    def write(self, data: bytes) -> int:
        self._partial += data
        *complete, self._partial = self._partial.split(b"\n")
        for line in complete:
            self._route(line + b"\n")
        # a partial line that cannot be a trace line is shown at once
        head = self._partial.lstrip(b"\r")[:len(PREFIX)]
        if self._partial and (self._midline or not PREFIX.startswith(head)):
            self._route(self._partial)
            self._partial = b""
        return len(data)

    def _route(self, line: bytes) -> None:
        midline, self._midline = self._midline, not line.endswith(b"\n")
        if not midline and line.lstrip(b"\r").startswith(PREFIX):
            self.trace.write(line.lstrip(b"\r"))
            self.lines += 1
        elif self.stream is not None:
            self.stream.write(line)

    def flush(self) -> None:
        self.trace.flush()
        if self.stream is not None:
            self.stream.flush()

    def close(self) -> None:
        if self._partial:
            self._route(self._partial if self._partial.endswith(b"\n")
                        else self._partial + b"\n")
            self._partial = b""
        self.flush()


def stats(lines: Iterable[str]) -> dict:
    """Counts per exit (level, event, reason, kind), per CPU, and the RIPs that exit most."""
    by_exit: Counter = Counter()
    by_rip: Counter = Counter()
    by_cpu: Counter = Counter()
    by_level: Counter = Counter()
    reflected = 0
    total = 0
    unparsed = 0
    for text in lines:
        if "nestbed-trace " not in text:
            continue
        t = parse_line(text)
        if t is None:
            unparsed += 1
            continue
        if t.event == "kvm_nested_vmexit_inject":
            reflected += 1
            by_exit[(t.level, t.event, t.reason, t.kind)] += 1
            continue
        total += 1
        by_level[t.level] += 1
        by_cpu[t.cpu] += 1
        by_exit[(t.level, t.event, t.reason, t.kind)] += 1
        by_rip[(t.level, t.rip, t.reason)] += 1
    return {"exits": total, "by_level": dict(by_level), "reflected": reflected,
            "by_cpu": dict(by_cpu), "unparsed": unparsed,
            "by_exit": sorted(by_exit.items(), key=lambda kv: (-kv[1], kv[0])),
            "by_rip": sorted(by_rip.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or 0))}


def format_stats(s: dict, top: int = 10) -> List[str]:
    levels = ", ".join("L%d %d" % (l, n) for l, n in sorted(s["by_level"].items()))
    out = ["%d exits (%s), %d reflected to L1, on %d CPU(s)%s" % (
        s["exits"], levels or "none", s["reflected"], len(s["by_cpu"]),
        ", %d unreadable trace lines" % s["unparsed"] if s["unparsed"] else "")]
    out += ["", "%8s  %-5s %-25s %-20s %s" % ("count", "level", "event", "reason", "kind")]
    for (level, event, reason, kind), n in s["by_exit"]:
        out.append("%8d  L%-4d %-25s %-20s %s" % (n, level, event, reason, kind))
    out += ["", "top %d RIPs" % top, "%8s  %-5s %-18s %s" % ("count", "level", "rip", "reason")]
    for (level, rip, reason), n in s["by_rip"][:top]:
        out.append("%8d  L%-4d %-18s %s" % (n, level, "%#x" % rip if rip is not None else "-",
                                            reason))
    return out


def read_trace(path: Path) -> List[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError as e:
        raise HarnessError("cannot read the trace %s: %s" % (path, e.strerror))


def with_trace_option(nestbed_args: str) -> str:
    """nestbed's command line with the trace option: kept if it has one (trace or
    trace=KINDS), else `trace` added."""
    words = nestbed_args.split()
    if any(w == "trace" or w.startswith("trace=") for w in words):
        return nestbed_args
    return " ".join(words + ["trace"])
