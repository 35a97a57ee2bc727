"""nestbed's own coverage under its suite (`make coverage-l0`, README "nestbed's own coverage").

The coverage build (build/cov-l0/nestbed.elf) prints its gcov counters at the end of every
run as framed console lines (src/core/gcov_stream.h):

    nestbed-gcov-begin 1
    nestbed-gcov <seq> <base64 of up to 96 bytes> <crc32 of those bytes>
    nestbed-gcov-end <lines> <bytes> <crc32 of all bytes>

This module checks the frames, decodes the stream (per object: its .gcda path, version,
stamp, checksum, and per function its ident, checksums and arc counters), adds the
counters of every run, writes one .gcda per object in gcc 12's format beside its .gcno,
and runs lcov and genhtml. As a command it runs the emulator scenarios of `make test`
that boot nestbed, with the coverage build in place of build/nestbed.elf:

    python3 -m harness.coverage_l0 [--nestbed PATH] [--nestbed-efi PATH] [--budget S]
                                   [--jobs N] [--only GLOB ...] [--add] [--out FILE]
                                   [--html DIR] [--consoles DIR] [--gcda-root DIR]
    python3 -m harness.coverage_l0 --from-consoles DIR ...   # no runs: the saved consoles

Each run's console is saved (harness/runner.py saves it under NESTBED_CONSOLE_DIR);
a run whose frames are missing or damaged counts as a run without counters.
"""

import argparse
import base64
import fnmatch
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from . import ROOT, HarnessError

STREAM_FORMAT = 1
GCOV_DATA_MAGIC = 0x67636461          # "gcda", gcc/gcov-io.h
GCOV_TAG_FUNCTION = 0x01000000
GCOV_TAG_COUNTER_BASE = 0x01a10000
GCOV_TAG_OBJECT_SUMMARY = 0xa1000000
GCOV_COUNTERS = 8                     # gcc 12 gcov-counter.def
COV_NESTBED = ROOT / "build" / "cov-l0" / "nestbed.elf"
COV_NESTBED_EFI = ROOT / "build" / "cov-l0" / "nestbed.efi"
COV_BUILD = ROOT / "build" / "cov-l0"
DEFAULT_BUDGET = 5400                 # seconds for the whole suite
TIMEOUT_FACTOR = 2                    # the coverage build is slower and dumps at the end
FORMAT = "nestbed-coverage-l0/1"
LARGEST = 40                          # the never-reached functions listed by size
RUNS_FILE = "runs.json"               # beside the consoles: the scenarios' outcomes
DIRECTORIES = ("src/boot/multiboot", "src/boot/efi", "src/core", "src/iommu", "src/svm", "src/vmx",
               "src/nested", "src/nested/svm", "src/nested/vmx")

BEGIN = re.compile(r"^nestbed-gcov-begin (\d+)$")
DATA = re.compile(r"^nestbed-gcov (\d+) ([A-Za-z0-9+/=]+) ([0-9a-f]{8})$")
END = re.compile(r"^nestbed-gcov-end (\d+) (\d+) ([0-9a-f]{8})$")


class FrameError(Exception):
    """A damaged or incomplete counter stream."""


# ---------------------------------------------------------------------------- frames

def extract_streams(lines: Iterable[str]) -> List[bytes]:
    """Every complete, intact stream in a console, in order. A stream with a bad line
    (CRC, sequence, length) is dropped: a run's counters are whole or not at all."""
    streams = []
    current: Optional[List[bytes]] = None
    bad = False
    for raw in lines:
        line = raw.strip()
        if not line.startswith("nestbed-gcov"):
            continue
        m = BEGIN.match(line)
        if m:
            current, bad = ([], False) if int(m.group(1)) == STREAM_FORMAT else (None, False)
            continue
        if current is None:
            continue
        m = DATA.match(line)
        if m:
            try:
                chunk = base64.b64decode(m.group(2), validate=True)
            except ValueError:
                bad = True
                continue
            if int(m.group(1)) != len(current) or zlib.crc32(chunk) != int(m.group(3), 16):
                bad = True
            current.append(chunk)
            continue
        m = END.match(line)
        if m:
            data = b"".join(current)
            if not bad and int(m.group(1)) == len(current) and int(m.group(2)) == len(data) \
                    and zlib.crc32(data) == int(m.group(3), 16):
                streams.append(data)
            current = None
            continue
        bad = True          # a nestbed-gcov line of no known shape
    return streams


# ---------------------------------------------------------------------------- stream

@dataclass
class Function:
    present: bool
    ident: int = 0
    lineno_checksum: int = 0
    cfg_checksum: int = 0
    counters: Dict[int, List[int]] = field(default_factory=dict)   # kind -> values


@dataclass
class GcovObject:
    filename: str
    version: int
    stamp: int
    checksum: int
    mask: int
    functions: List[Function]

    def key(self) -> Tuple:
        return (self.version, self.stamp, self.checksum, self.mask, len(self.functions))


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise FrameError("the stream ends inside a record (at byte %d)" % self.pos)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def varint(self) -> int:
        value = shift = 0
        while True:
            b = self.u8()
            value |= (b & 0x7f) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise FrameError("a counter longer than 64 bits")


def decode_stream(data: bytes) -> List[GcovObject]:
    r = Reader(data)
    objects = []
    for _ in range(r.u32()):
        version, stamp, checksum, mask, n_functions = (r.u32() for _ in range(5))
        filename = r.take(r.u16()).decode("utf-8", errors="strict")
        functions = []
        for _ in range(n_functions):
            if not r.u8():
                functions.append(Function(present=False))
                continue
            fn = Function(True, r.u32(), r.u32(), r.u32())
            for kind in range(GCOV_COUNTERS):
                if mask & (1 << kind):
                    fn.counters[kind] = [r.varint() for _ in range(r.u32())]
            functions.append(fn)
        objects.append(GcovObject(filename, version, stamp, checksum, mask, functions))
    if r.pos != len(data):
        raise FrameError("%d bytes after the last object" % (len(data) - r.pos))
    return objects


class Merged:
    """The counters of every run added, per object (.gcda path)."""

    def __init__(self):
        self.objects: Dict[str, GcovObject] = {}
        self.runs = 0

    def add(self, objects: List[GcovObject]) -> None:
        for obj in objects:     # checked whole first: a mismatch adds nothing
            old = self.objects.get(obj.filename)
            if old is not None and (old.key() != obj.key() or any(
                    (a.present, a.ident, a.cfg_checksum) != (b.present, b.ident, b.cfg_checksum)
                    or any(len(a.counters.get(k, [])) != len(v) for k, v in b.counters.items())
                    for a, b in zip(old.functions, obj.functions))):
                raise FrameError("%s: counters of another build (stamp %#x, not %#x)" % (
                    obj.filename, obj.stamp, old.stamp))
        for obj in objects:
            old = self.objects.get(obj.filename)
            if old is None:
                self.objects[obj.filename] = obj
                continue
            for a, b in zip(old.functions, obj.functions):
                for kind, values in b.counters.items():
                    a.counters[kind] = [x + y for x, y in zip(a.counters[kind], values)]
        self.runs += 1


# ---------------------------------------------------------------------------- .gcda

def gcda_bytes(obj: GcovObject, runs: int) -> bytes:
    """gcc 12's .gcda (gcov-io.h; lengths in bytes): header with the object's checksum,
    the object summary, then per function its record and its counters."""
    out = [struct.pack("<4I", GCOV_DATA_MAGIC, obj.version, obj.stamp, obj.checksum)]
    peak = max((v for fn in obj.functions for vals in fn.counters.values() for v in vals),
               default=0)
    out.append(struct.pack("<4I", GCOV_TAG_OBJECT_SUMMARY, 8, runs, min(peak, 0xffffffff)))
    for fn in obj.functions:
        if not fn.present:
            out.append(struct.pack("<2I", GCOV_TAG_FUNCTION, 0))
            continue
        out.append(struct.pack("<5I", GCOV_TAG_FUNCTION, 12, fn.ident, fn.lineno_checksum,
                               fn.cfg_checksum))
        for kind in sorted(fn.counters):
            values = fn.counters[kind]
            tag = GCOV_TAG_COUNTER_BASE + (kind << 17)
            if not any(values):     # as libgcov 12 writes them: a negative length
                out.append(struct.pack("<Ii", tag, -8 * len(values)))
                continue
            out.append(struct.pack("<2I", tag, 8 * len(values)))
            out.append(b"".join(struct.pack("<Q", v & 0xffffffffffffffff) for v in values))
    out.append(struct.pack("<I", 0))
    return b"".join(out)


def write_gcda(merged: Merged, build: Path, dest: Optional[Path] = None) -> List[Path]:
    """One .gcda per object, only inside `build` and only beside its .gcno (the stream
    comes over a console the guest shares: a path of its making writes nothing). With
    dest, at the same place under dest, where a copy of the .gcno must lie."""
    build = build.resolve()
    dest = dest.resolve() if dest is not None else build
    written = []
    for name, obj in sorted(merged.objects.items()):
        path = Path(name).resolve()
        if build not in path.parents or path.suffix != ".gcda":
            raise FrameError("%s is not the .gcda of an object of %s" % (name, build))
        path = dest / path.relative_to(build)
        if not path.with_suffix(".gcno").is_file():
            raise FrameError("%s has no .gcno beside it" % path)
        path.write_bytes(gcda_bytes(obj, merged.runs))
        written.append(path)
    return written


# ---------------------------------------------------------------------------- lcov

def run_lcov(build: Path, info: Path, html: Optional[Path]) -> None:
    rc = ["--rc", "lcov_branch_coverage=1"]
    for argv in (["lcov", "-q", *rc, "--capture", "--directory", str(build),
                  "--base-directory", str(ROOT), "--output-file", str(info)],
                 ["lcov", "-q", *rc, "--remove", str(info), "/usr/*",
                  "--output-file", str(info)]):
        proc = subprocess.run(argv, cwd=str(ROOT), capture_output=True, text=True)
        if proc.returncode:
            raise HarnessError("%s failed: %s" % (argv[0], (proc.stderr or proc.stdout).strip()))
    if html is not None:
        shutil.rmtree(html, ignore_errors=True)
        proc = subprocess.run(["genhtml", "-q", *rc, "--branch-coverage", str(info),
                               "--output-directory", str(html)], cwd=str(ROOT),
                              capture_output=True, text=True)
        if proc.returncode:
            raise HarnessError("genhtml failed: %s" % (proc.stderr or proc.stdout).strip())


@dataclass
class FileCov:
    lines: Dict[int, int] = field(default_factory=dict)
    branches: Dict[Tuple, int] = field(default_factory=dict)
    functions: Dict[str, int] = field(default_factory=dict)
    function_line: Dict[str, int] = field(default_factory=dict)


def parse_lcov(text: str) -> Dict[str, FileCov]:
    """lcov's tracefile: SF, DA, BRDA, FN, FNDA records per source file (paths relative
    to the repository where they lie inside it)."""
    files: Dict[str, FileCov] = {}
    cur: Optional[FileCov] = None
    for line in text.splitlines():
        tag, _, rest = line.partition(":")
        if tag == "SF":
            path = Path(rest)
            try:
                rest = str(path.resolve().relative_to(ROOT))
            except ValueError:
                rest = str(path)
            cur = files.setdefault(rest, FileCov())
        elif cur is None:
            continue
        elif tag == "DA":
            n, count = rest.split(",")[:2]
            cur.lines[int(n)] = cur.lines.get(int(n), 0) + int(count)
        elif tag == "BRDA":
            n, block, branch, taken = rest.split(",")
            key = (int(n), block, branch)
            cur.branches[key] = cur.branches.get(key, 0) + (0 if taken == "-" else int(taken))
        elif tag == "FN":
            n, name = rest.split(",", 1)
            cur.functions.setdefault(name, 0)
            cur.function_line[name] = int(n)
        elif tag == "FNDA":
            count, name = rest.split(",", 1)
            cur.functions[name] = cur.functions.get(name, 0) + int(count)
        elif tag == "end_of_record":
            cur = None
    return files


def figure(hit: int, total: int) -> dict:
    return {"hit": hit, "total": total,
            "percent": round(100.0 * hit / total, 1) if total else None}


def figures(covs: List[FileCov]) -> dict:
    def count(attr):
        values = [v for c in covs for v in getattr(c, attr).values()]
        return figure(sum(1 for v in values if v > 0), len(values))
    return {"lines": count("lines"), "branches": count("branches"),
            "functions": count("functions")}


def summarize(files: Dict[str, FileCov], runs: dict, version: str) -> dict:
    src = {p: c for p, c in files.items() if p.startswith("src/")}
    dirs = {}
    for d in DIRECTORIES:
        members = [c for p, c in src.items() if os.path.dirname(p) == d]
        if members:
            dirs[d] = figures(members)
    unreached = {}
    for p, c in sorted(src.items()):
        names = sorted((n for n, v in c.functions.items() if v == 0),
                       key=lambda n: c.function_line.get(n, 0))
        if names:
            unreached[p] = names
    largest = []
    for p, c in src.items():
        starts = sorted((line, n) for n, line in c.function_line.items())
        for i, (line, name) in enumerate(starts):
            if c.functions.get(name, 0):
                continue
            stop = starts[i + 1][0] if i + 1 < len(starts) else 1 << 30
            size = sum(1 for n in c.lines if line <= n < stop)
            largest.append({"file": p, "function": name, "line": line, "lines": size})
    largest.sort(key=lambda f: (-f["lines"], f["file"], f["line"]))
    ranges = {}
    for p, c in sorted(src.items()):
        runs_of, prev = [], None
        for n in sorted(c.lines):
            if not c.lines[n]:
                if runs_of and runs_of[-1][1] == prev:
                    runs_of[-1][1] = n
                else:
                    runs_of.append([n, n])
            prev = n
        if runs_of:
            ranges[p] = runs_of
    return {"format": FORMAT, "nestbed": version,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "runs": runs, "total": figures(list(src.values())), "directories": dirs,
            "files": {p: figures([c]) for p, c in sorted(src.items())},
            "unreached_functions": unreached,
            "largest_unreached": largest[:LARGEST],
            "unreached_lines": ranges}


# ---------------------------------------------------------------------------- the suite

@dataclass
class Job:
    name: str
    argv: List[str]             # python3 -m harness ...
    timeout: float              # the harness process's own limit
    skip: str = ""              # why it does not run with the coverage build
    expect: str = "pass"        # make test's expectation: pass, fail or skip-ok

    def outcome_ok(self, status: Optional[int]) -> bool:
        """Whether the harness's exit status is the one make test expects (a "fail"
        scenario's message is not checked here)."""
        if self.expect == "fail":
            return status not in (None, 0, 77)
        return status == 0 or (self.expect == "skip-ok" and status == 77)


def _load_scenarios():
    import importlib.util
    path = ROOT / "tests" / "emulator" / "scenarios.py"
    spec = importlib.util.spec_from_file_location("nestbed_scenarios", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scale_timeout(argv: List[str], factor: float) -> List[str]:
    out = list(argv)
    for i, word in enumerate(out[:-1]):
        if word == "--timeout":
            out[i + 1] = "%g" % (float(out[i + 1]) * factor)
    return out


def jobs_for(nestbed: Path, nestbed_efi: Optional[Path] = None,
             factor: float = TIMEOUT_FACTOR) -> List[Job]:
    """make test's emulator scenarios that boot nestbed, with the coverage builds in place
    of build/nestbed.elf and build/nestbed.efi (qemu-uefi-svm). Bare runs of a guest, the
    kvm platform, and nestbed.efi when there is no coverage build of it are left out with
    the reason."""
    sc = _load_scenarios()
    jobs = []
    for s in sc.SCENARIOS:
        argv = list(s.argv)
        cmd, rest = argv[0], argv[1:]
        platform = rest[rest.index("--platform") + 1] if "--platform" in rest else ""
        efi = platform == "qemu-uefi-svm" or sc.NESTBED_EFI in rest
        image = nestbed_efi if efi else nestbed
        job = Job(s.name, [], s.timeout * factor + 120, expect=s.expect)
        if image is None:
            job.skip = "nestbed.efi has no coverage build here"
        elif platform == "kvm":
            job.skip = "the kvm platform does not run here"
        elif cmd == "run" and "--bare" in rest:
            for own in (sc.NESTBED_ELF, sc.NESTBED_EFI):
                if own in rest:
                    rest[rest.index(own)] = str(image)
                    break
            else:
                job.skip = "a guest alone, without nestbed"
        elif cmd in ("run", "linux", "kvm", "xen", "fuzz"):
            if "--bare" in rest:
                job.skip = "a guest alone, without nestbed"
            else:
                rest = ["--nestbed", str(image)] + rest
        else:
            job.skip = "not a run of nestbed"
        job.argv = [cmd] + _scale_timeout(rest, factor)
        jobs.append(job)
    return jobs


@dataclass
class JobResult:
    name: str
    status: Optional[int]
    duration: float
    consoles: List[Path]


def run_job(job: Job, consoles: Path, log_dir: Path) -> JobResult:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", job.name)
    out_dir = consoles / safe
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    env = dict(os.environ, NESTBED_CONSOLE_DIR=str(out_dir))
    start = time.monotonic()
    with open(log_dir / (safe + ".log"), "wb") as log:
        try:
            proc = subprocess.run([sys.executable, "-m", "harness"] + job.argv, cwd=str(ROOT),
                                  stdout=log, stderr=subprocess.STDOUT, env=env,
                                  timeout=job.timeout, stdin=subprocess.DEVNULL)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = None
    return JobResult(job.name, status, round(time.monotonic() - start, 1),
                     sorted(out_dir.glob("*.console")))


def objects_of(lines: List[str]) -> List[GcovObject]:
    """The objects of every intact stream of a console (one per object; nestbed frames
    each apart, so output of the guest's that garbles a line costs that object only);
    an object printed twice counts once, as its last copy (counters only grow)."""
    objects: Dict[str, GcovObject] = {}
    for data in extract_streams(lines):
        try:
            for obj in decode_stream(data):
                objects[obj.filename] = obj
        except (FrameError, UnicodeDecodeError):
            continue
    return list(objects.values())


def counters_of(paths: Iterable[Path]) -> Tuple[List[List[GcovObject]], int]:
    """(the objects of each console with counters, consoles of nestbed without any). A
    console without a `nestbed:` line is a guest's alone (a fuzzer's bare run): not
    counted."""
    found, missing = [], 0
    for p in paths:
        lines = p.read_text(errors="replace").splitlines()
        objects = objects_of(lines)
        if objects:
            found.append(objects)
        else:
            missing += any(line.startswith("nestbed:") for line in lines)
    return found, missing


BANNER = re.compile(r"^nestbed (\S+) \(")


def banner_versions(paths: Iterable[Path]) -> List[str]:
    """The versions nestbed's banner names in the consoles: the builds that ran."""
    found = set()
    for p in paths:
        with open(p, errors="replace") as f:
            for line in f:
                m = BANNER.match(line)
                if m:
                    found.add(m.group(1))
                    break
    return sorted(found)


def git_version() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=str(ROOT),
                              capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def clear_gcda(build: Path) -> None:
    for p in build.rglob("*.gcda"):
        p.unlink()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m harness.coverage_l0",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--nestbed", type=Path, default=COV_NESTBED)
    ap.add_argument("--build", type=Path, default=COV_BUILD,
                    help="where the .gcno lie (the coverage build's BUILD)")
    ap.add_argument("--budget", type=float,
                    default=float(os.environ.get("NESTBED_COV_BUDGET", DEFAULT_BUDGET)),
                    help="seconds for the whole suite; later scenarios do not start")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", action="append", metavar="GLOB",
                    help="scenario names to run (fnmatch), repeatable")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "coverage.json")
    ap.add_argument("--html", type=Path, default=ROOT / "build" / "coverage-l0")
    ap.add_argument("--gcda-root", type=Path, metavar="DIR",
                    help="write the .gcda here (the same tree as --build, with copies of "
                    "its .gcno) and measure this tree instead")
    ap.add_argument("--consoles", type=Path, default=COV_BUILD / "consoles")
    ap.add_argument("--nestbed-efi", type=Path, default=COV_NESTBED_EFI,
                    help="the coverage build of nestbed.efi (qemu-uefi-svm scenarios)")
    ap.add_argument("--add", action="store_true",
                    help="keep the consoles of the last run and add (or redo) these scenarios")
    ap.add_argument("--from-consoles", action="store_true",
                    help="run nothing: merge the consoles already saved under --consoles")
    opts = ap.parse_args(argv)

    say = lambda s: print(s, flush=True)   # noqa: E731
    record = {"results": {}, "left_out": {}}    # saved beside the consoles (RUNS_FILE)
    if opts.add or opts.from_consoles:
        try:
            record.update(json.loads((opts.consoles / RUNS_FILE).read_text()))
        except (OSError, ValueError):
            pass
    if not opts.from_consoles:
        if not opts.nestbed.is_file():
            say("coverage-l0: error: %s does not exist (make cov-l0-image builds it)"
                % opts.nestbed)
            return 2
        efi = opts.nestbed_efi if opts.nestbed_efi and opts.nestbed_efi.is_file() else None
        jobs = jobs_for(opts.nestbed.resolve(), efi.resolve() if efi else None)
        if opts.only:
            jobs = [j for j in jobs if any(fnmatch.fnmatch(j.name, g) for g in opts.only)]
        for j in jobs:
            record["results"].pop(j.name, None)
            record["left_out"].pop(j.name, None)
            if j.skip:
                record["left_out"][j.name] = j.skip
        # the longest first: two workers end close together
        todo = sorted((j for j in jobs if not j.skip), key=lambda j: -j.timeout)
        if not opts.add:
            shutil.rmtree(opts.consoles, ignore_errors=True)
        log_dir = opts.consoles / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + opts.budget

        def one(job):
            if time.monotonic() + 30 > deadline:
                return JobResult(job.name, None, 0.0, []), False
            return run_job(job, opts.consoles, log_dir), True

        with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            for job, (res, started) in zip(todo, pool.map(one, todo)):
                if not started:
                    record["results"][job.name] = {"run": False}
                    say("coverage-l0: %s: not run (budget of %gs spent)" % (job.name, opts.budget))
                    continue
                found, missing = counters_of(res.consoles)
                record["results"][job.name] = {"run": True, "exit": res.status,
                                               "counters": bool(found),
                                               "duration": res.duration}
                say("coverage-l0: %s: exit %s, %d of %d runs with counters (%.0f s)" % (
                    job.name, res.status, len(found), len(found) + missing, res.duration))
        (opts.consoles / RUNS_FILE).write_text(json.dumps(record, indent=1) + "\n")
    results = record["results"]
    expected = {j.name: j for j in jobs_for(opts.nestbed, opts.nestbed_efi)}
    runs = {"scenarios": sum(1 for r in results.values() if r.get("run")),
            "with_counters": sum(1 for r in results.values() if r.get("counters")),
            "without_counters": sorted(n for n, r in results.items()
                                       if r.get("run") and not r.get("counters")),
            "not_run": sorted(n for n, r in results.items() if not r.get("run")),
            "failed": sorted(n for n, r in results.items() if r.get("run") and not (
                n in expected and expected[n].outcome_ok(r.get("exit")))),
            "left_out": dict(sorted(record["left_out"].items()))}
    consoles = sorted(opts.consoles.glob("*/*.console"))
    streams, missing = counters_of(consoles)
    merged = Merged()
    for objects in streams:
        try:
            merged.add(objects)
        except FrameError as e:
            say("coverage-l0: a run left out: %s" % e)
    if not merged.runs:
        say("coverage-l0: error: no run handed out counters")
        return 1
    tree = opts.gcda_root or opts.build
    clear_gcda(tree)
    written = write_gcda(merged, opts.build, tree)
    info = tree / "lcov.info"
    run_lcov(tree, info, opts.html)
    summary = summarize(parse_lcov(info.read_text()), runs,
                        ", ".join(banner_versions(consoles)) or git_version())
    summary["runs"]["emulator_runs_merged"] = merged.runs
    summary["runs"]["emulator_runs_without_counters"] = missing
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(summary, indent=1, sort_keys=False) + "\n")
    say("coverage-l0: %d emulator runs merged into %d .gcda files" % (merged.runs, len(written)))
    for d, f in summary["directories"].items():
        say("coverage-l0: %-20s lines %5s%% (%d/%d)  branches %5s%% (%d/%d)" % (
            d, f["lines"]["percent"], f["lines"]["hit"], f["lines"]["total"],
            f["branches"]["percent"], f["branches"]["hit"], f["branches"]["total"]))
    say("coverage-l0: %s, HTML %s" % (opts.out, opts.html / "index.html"))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as e:
        print("coverage-l0: error: %s" % e, flush=True)
        sys.exit(2)
