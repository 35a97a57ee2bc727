"""One emulator run: start it, stream its console, enforce the timeout, decide the verdict.

The console comes from the emulator's stdout (QEMU -serial stdio) or from a file the
emulator appends to (Bochs com1 mode=file). Either way it is streamed as it arrives, fed
line by line to the TAP parser and searched for the exit-port line.

The emulator runs in its own process group and dies with the harness (PR_SET_PDEATHSIG);
on timeout it is killed with SIGKILL by its own PID (Bochs ignores SIGTERM), then its
group.
"""

import ctypes
import itertools
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from . import ROOT, HarnessError, qemu_monitor
from .platforms import Launch, Platform, RunSpec
from .tap import TapParser, TapResult, TapTest, clean_line

EXIT_LINE = re.compile(r"^exit-port:\s*(\d+)$")
EXIT_GRACE = 10.0          # seconds an emulator may take to stop after the exit-port line
WATCH_GRACE = 1.0          # a watched run goes on this long after its deciding line
POLL = 0.05
PR_SET_PDEATHSIG = 1
BOCHS_SHUTDOWN = "shutdown requested"   # the PANIC text of a write of "Shutdown" to 0x8900
MAX_NAMES = 5
GRUB_FAILED = "grub: could not boot"    # what the generated grub.cfg says when boot fails
GCOV_BEGIN = "nestbed-gcov-begin "      # the coverage build's counters (src/core/gcov_stream.h)
GCOV_END = "nestbed-gcov-end "


# ---------------------------------------------------------------------------- console

class AnsiFilter:
    """Removes ANSI escape sequences from a byte stream split at arbitrary points (so that
    firmware screen clears do not reach the user's terminal)."""

    def __init__(self):
        self._state = 0          # 0 text, 1 after ESC, 2 inside CSI

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            if self._state == 0:
                if b == 0x1b:
                    self._state = 1
                else:
                    out.append(b)
            elif self._state == 1:
                self._state = 2 if b == ord("[") else 0
            elif 0x40 <= b <= 0x7e:
                self._state = 0
        return bytes(out)


class Console:
    """Receives the console's bytes: streams them, splits lines, parses TAP, finds the
    exit-port line, keeps the whole text."""

    def __init__(self, stream=None, log=None,
                 on_line: Optional[Callable[[str, Optional[TapTest]], None]] = None,
                 watch: Optional["Watch"] = None):
        self.stream = stream            # binary file-like or None
        self.log = log                  # binary file-like or None
        self.on_line = on_line
        self.watch = watch
        self.watch_line: Optional[str] = None   # the line that ended a watched run
        self.watch_passed = False
        self.watch_time: Optional[float] = None
        self.parser = TapParser()
        self.exit_code: Optional[int] = None
        self.exit_time: Optional[float] = None
        # nestbed's coverage build prints its counters at the end (harness/coverage_l0.py):
        # the exit grace waits for them, then starts again, since a guest may have printed
        # its exit-port line before nestbed ended the run (Bochs' UART takes seconds)
        self.counters_open = False
        self.lines: List[str] = []
        # when the run began and its last console line came: a timeout says how long the
        # console had been silent (a stall) or not (a slow run)
        self.started = time.monotonic()
        self.last_line_time: Optional[float] = None
        self._filter = AnsiFilter()
        self._partial = b""
        self._ends_with_newline = True

    def feed(self, data: bytes) -> None:
        if not data:
            return
        shown = self._filter.feed(data)
        if shown:
            for out in (self.stream, self.log):
                if out is not None:
                    out.write(shown)
                    out.flush()
            self._ends_with_newline = shown.endswith(b"\n")
        self._partial += data
        *complete, self._partial = self._partial.split(b"\n")
        for raw in complete:
            self._line(raw)

    def close(self) -> TapResult:
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        if not self._ends_with_newline:
            for out in (self.stream, self.log):
                if out is not None:
                    out.write(b"\n")
                    out.flush()
            self._ends_with_newline = True
        return self.parser.finish()

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace")
        line = clean_line(text)
        self.lines.append(line)
        self.last_line_time = time.monotonic()
        test = self.parser.feed(text)
        if line.startswith(GCOV_BEGIN):
            self.counters_open = True
        elif line.startswith(GCOV_END):
            self.counters_open = False
            if self.exit_time is not None:
                self.exit_time = time.monotonic()
        match = EXIT_LINE.match(line.strip())
        if match:
            self.exit_code = int(match.group(1))
            if self.exit_time is None:
                self.exit_time = time.monotonic()
        if self.watch is not None and self.watch_time is None:
            verdict = self.watch.judge(line)
            if verdict is not None:
                self.watch_passed = verdict
                self.watch_line = line.strip()
                self.watch_time = time.monotonic()
        if self.on_line is not None:
            self.on_line(line, test)

    def silence(self, now: Optional[float] = None) -> str:
        """'console silent for the last N s' (since its last line, or since the start
        when there was none)."""
        now = time.monotonic() if now is None else now
        since = self.last_line_time if self.last_line_time is not None else self.started
        return "console silent for the last %d s" % max(0, round(now - since))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def hint(self) -> str:
        """The most telling console line for a run that did not finish: when GRUB could
        not boot, its first error ("error: ..."), else the last non-blank line."""
        if any(line.startswith(GRUB_FAILED) for line in self.lines):
            for line in self.lines:
                if line.strip().startswith("error: ") and "video mode" not in line:
                    return line.strip()
        for line in reversed(self.lines):
            if line.strip() and not EXIT_LINE.match(line.strip()):
                return line.strip()
        return ""


class Watch:
    """A run judged by console lines instead of TAP (an image that is not a conformance
    guest: Xen, an OS): it passes once every `needed` pattern has matched (in order, the
    last one ends the run) and fails at the first line matching a `fatal` pattern
    (checked first). Patterns are regexes searched in each cleaned console line."""

    def __init__(self, needed: Sequence[str], fatal: Sequence[str] = ()):
        if not needed:
            raise HarnessError("a watched run needs at least one pattern to wait for")
        self.needed = [re.compile(p) for p in needed]
        self.fatal = [re.compile(p) for p in fatal]
        self.matched = 0                # how many of needed have been seen, in order

    def judge(self, line: str) -> Optional[bool]:
        """True: the run passed with this line; False: it failed on it; None: go on."""
        if any(p.search(line) for p in self.fatal):
            return False
        if self.needed[self.matched].search(line):
            self.matched += 1
            if self.matched == len(self.needed):
                return True
        return None

    def waiting_for(self) -> str:
        return self.needed[min(self.matched, len(self.needed) - 1)].pattern


def decide_watch(watch: Watch, console: "Console", status: Optional[int], timed_out: bool,
                 timeout: float, hint: str = "") -> Tuple[bool, str]:
    """(passed, reason) of a watched run."""
    if console.watch_time is not None:
        if console.watch_passed:
            return True, ""
        return False, "console: %s" % console.watch_line
    seen = "; saw %d of %d expected lines" % (watch.matched, len(watch.needed))
    what = "waiting for /%s/%s" % (watch.waiting_for(), seen)
    console_hint = " (console: %s)" % hint if hint else ""
    if timed_out:
        return False, "timeout after %gs %s%s; %s" % (timeout, what, console_hint,
                                                     console.silence())
    return False, "emulator exited with status %s %s%s" % (status, what, console_hint)


# ---------------------------------------------------------------------------- process

def _child_setup():
    """In the child: die with the harness."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def kill_emulator(proc: subprocess.Popen) -> None:
    """SIGKILL to the emulator by PID (Bochs ignores SIGTERM), then to its process group."""
    for kill in (lambda: os.kill(proc.pid, signal.SIGKILL),
                 lambda: os.killpg(proc.pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class Interrupted(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted("interrupted by signal %d" % signum)


@dataclass
class Execution:
    status: Optional[int]           # the emulator's exit status (negative: killed by signal)
    timed_out: bool
    duration: float
    late: bool = False              # killed after the exit-port line: it did not stop
    monitor: str = ""               # QEMU's state at a timeout (qemu_monitor.summarize)


def ask_monitor(launch: Launch) -> str:
    """QEMU's state before a timed-out run is killed: the whole answers into the run
    directory (qemu-monitor-at-timeout.txt), one summary line returned."""
    if launch.monitor_socket is None or not launch.monitor_socket.exists():
        return ""
    answers = qemu_monitor.query(launch.monitor_socket)
    try:
        (launch.cwd / "qemu-monitor-at-timeout.txt").write_text(
            "".join("(qemu) %s\n%s\n" % item for item in answers.items()))
    except OSError:
        pass
    return qemu_monitor.summarize(answers)


def execute(launch: Launch, timeout: float, console: Console,
            grace: float = EXIT_GRACE) -> Execution:
    """Runs the emulator to its end or the timeout, feeding the console."""
    out_log = open(launch.output_log, "wb") if launch.output_log else subprocess.DEVNULL
    console_file = None
    old_handlers = {}
    start = time.monotonic()
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                old_handlers[sig] = signal.signal(sig, _on_signal)
            except ValueError:      # not the main thread
                pass
        try:
            proc = subprocess.Popen(
                launch.argv, cwd=str(launch.cwd), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if launch.console_file is None else out_log,
                stderr=out_log, start_new_session=True, preexec_fn=_child_setup)
        except OSError as e:
            raise HarnessError("cannot start %s: %s" % (launch.argv[0], e.strerror))
        deadline = start + timeout
        timed_out = late = False
        monitor = ""
        exited = 0.0
        try:
            pipe = proc.stdout.fileno() if proc.stdout is not None else None
            while True:
                now = time.monotonic()
                limit = deadline
                if console.exit_time is not None and not console.counters_open:
                    limit = min(limit, console.exit_time + grace)
                if console.watch_time is not None:
                    limit = min(limit, console.watch_time + WATCH_GRACE)
                if now >= limit:
                    timed_out = console.exit_time is None and console.watch_time is None
                    late = not timed_out and console.watch_time is None
                    if timed_out:
                        monitor = ask_monitor(launch)
                    kill_emulator(proc)
                    break
                wait = min(POLL, limit - now)
                if pipe is not None:
                    ready, _, _ = select.select([pipe], [], [], wait)
                    if ready:
                        data = os.read(pipe, 65536)
                        if data:
                            console.feed(data)
                            continue
                        pipe = None          # EOF: wait for the exit status
                    elif proc.poll() is not None:
                        # exited: drain until EOF, but a helper process that kept the
                        # pipe open must not turn a finished run into a timeout
                        exited = exited or now
                        if now - exited > 2:
                            pipe = None
                        continue
                else:
                    if console_file is None and launch.console_file is not None \
                            and launch.console_file.exists():
                        console_file = open(launch.console_file, "rb")
                    if console_file is not None:
                        data = console_file.read()
                        if data:
                            console.feed(data)
                            continue
                    if proc.poll() is not None:
                        break
                    time.sleep(wait)
            # drain what is left
            if proc.stdout is not None and pipe is not None:
                try:
                    while True:
                        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
                        data = os.read(proc.stdout.fileno(), 65536) if ready else b""
                        if not data:
                            break
                        console.feed(data)
                except OSError:
                    pass
            if launch.console_file is not None:
                if console_file is None and launch.console_file.exists():
                    console_file = open(launch.console_file, "rb")
                if console_file is not None:
                    console.feed(console_file.read())
        finally:
            if proc.poll() is None:
                kill_emulator(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        status = proc.returncode
        return Execution(status=status, timed_out=timed_out,
                         duration=time.monotonic() - start, late=late, monitor=monitor)
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        if console_file is not None:
            console_file.close()
        if out_log is not subprocess.DEVNULL:
            out_log.close()


# ---------------------------------------------------------------------------- verdict

def expected_qemu_status(code: int) -> int:
    return ((code << 1) | 1) & 0xFF


def names_of(tests: List[TapTest]) -> str:
    names = [t.name or "#%d" % t.number for t in tests[:MAX_NAMES]]
    if len(tests) > MAX_NAMES:
        names.append("... (%d more)" % (len(tests) - MAX_NAMES))
    return ", ".join(names)


def decide(tap: TapResult, exit_code: Optional[int], status: Optional[int],
           timed_out: bool, timeout: float, exit_kind: str, late: bool = False,
           hint: str = "", stop_reason: str = "", known=frozenset()) -> Tuple[bool, str]:
    """(passed, reason). passed only when the TAP has no failure and the image ended
    through the exit port with code 0, consistently with the emulator's exit status:
    QEMU exits with (code << 1) | 1; Bochs exits on its own after the line, on the
    "Shutdown" request (stop_reason is Bochs' PANIC text, "" when there is none).
    hint: the telling console line for runs that did not finish.
    known: names of probes whose failure is a documented platform bug: they do not fail
    the verdict (and the image's exit code 1 for them is accepted); any other does."""
    reasons = []
    unknown_failures = [t for t in tap.failed if t.name not in known]
    if tap.failed and not unknown_failures and exit_code == 1:
        exit_code_ok = 0   # the image reported exactly the known failures
    else:
        exit_code_ok = exit_code
    finished = False
    if timed_out:
        reasons.append("timeout after %gs" % timeout + (" (console: %s)" % hint
                                                        if hint else ""))
    elif exit_code is None:
        why = "emulator exited with status %s before exit-port" % status
        extra = [x for x in (stop_reason, ("console: %s" % hint) if hint else "")
                 if x]
        reasons.append(why + (" (%s)" % "; ".join(extra) if extra else ""))
    elif late:
        reasons.append("exit-port code %d on the console but the emulator did not stop "
                       "within %gs" % (exit_code, EXIT_GRACE))
    elif exit_kind == "qemu" and status != expected_qemu_status(exit_code):
        reasons.append("exit-port code %d on the console but emulator exit status %s "
                       "(expected %d)" % (exit_code, status, expected_qemu_status(exit_code)))
    elif exit_kind == "bochs" and stop_reason and BOCHS_SHUTDOWN not in stop_reason:
        reasons.append("exit-port code %d on the console but Bochs stopped on: %s" % (
            exit_code, stop_reason))
    elif exit_kind == "bochs" and status is not None and status < 0:
        reasons.append("exit-port code %d on the console but Bochs died of signal %d" % (
            exit_code, -status))
    else:
        finished = True

    if tap.bailed_out:
        reasons.append("Bail out!" + (" " + tap.bail_out if tap.bail_out else ""))
    if unknown_failures:
        reasons.append("%d of %d TAP tests failed: %s" % (
            len(unknown_failures), len(tap.tests), names_of(unknown_failures)))
    no_tap = tap.version is None and tap.plan is None and not tap.tests
    if finished and not tap.bailed_out:
        if no_tap:
            if exit_code_ok == 0:
                reasons.append("no TAP output")
        else:
            reasons.extend("TAP: " + problem for problem in tap.problems)
    if finished and exit_code_ok != 0:
        # an image that stops with an error before any test: its last words say why
        reasons.append("exit-port code %d" % exit_code + (
            " (console: %s)" % hint if hint and not tap.tests else ""))
    return (not reasons, "; ".join(reasons))


# ---------------------------------------------------------------------------- a run

@dataclass
class RunResult:
    platform: str
    mode: str
    image: str
    args: List[str]
    command: str                    # the emulator's argv, run in the run directory
    emulator: str
    tap: TapResult
    exit_code: Optional[int]
    status: Optional[int]
    timed_out: bool
    duration: float
    verdict: str                    # pass | fail | skip | error
    reason: str
    console: str = ""
    run_dir: Optional[str] = None

    def final_line(self) -> str:
        if self.verdict == "pass":
            known = len(self.tap.failed)
            return "harness: PASS: %s %s %d passed, %d skipped%s" % (
                self.platform, self.mode, len(self.tap.passed), len(self.tap.skipped),
                ", %d known platform failures" % known if known else "")
        if self.verdict == "skip":
            return "harness: SKIP: %s: %s" % (self.platform, self.reason)
        if self.verdict == "error":
            return "harness: error: %s" % self.reason
        return "harness: FAIL: %s" % self.reason


KEEP_RUNS = 50              # failed runs' directories kept (the newest); older ones go
PRUNE_AGE = 3600            # ... once they are an hour old (never a running one)


def prune_runs(root: Path, keep: int = KEEP_RUNS, min_age: float = PRUNE_AGE) -> None:
    """Removes the oldest kept run directories beyond the newest `keep`."""
    try:
        dirs = sorted((d for d in root.iterdir() if d.is_dir()),
                      key=lambda d: d.stat().st_mtime, reverse=True)
    except OSError:
        return
    now = time.time()
    for d in dirs[keep:]:
        try:
            if now - d.stat().st_mtime > min_age:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def make_run_dir(platform: str, mode: str, root: Optional[Path] = None) -> Path:
    root = root or Path(os.environ.get("NESTBED_RUN_ROOT") or ROOT / "build" / "runs")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        prune_runs(root)
        for n in range(1000):
            path = root / ("%s-%s-%s-%d%s" % (platform, mode, stamp, os.getpid(),
                                              "-%d" % n if n else ""))
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise HarnessError("cannot create a run directory under %s: %s" % (root, e.strerror))
    raise HarnessError("cannot create a run directory under %s" % root)


def repo_path(path: Path) -> str:
    """path relative to the repository when it is inside, so results do not name the
    machine they ran on."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def bochs_stop_reason(launch: Launch) -> str:
    """The first PANIC Bochs logged (how the simulation ended), or "". Its log file takes
    over from its stdout only once the bochsrc is read: a bochsrc error is in the latter."""
    for path in (launch.bochs_log, launch.output_log):
        if path is None:
            continue
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    if ">>PANIC<<" in line:
                        return "bochs: " + line.split(">>PANIC<<", 1)[1].strip()
        except OSError:
            pass
    return ""


def qemu_stop_reason(launch: Launch) -> str:
    """QEMU's last error message (its warnings are left out), or ""."""
    if launch.output_log is None:
        return ""
    try:
        lines = launch.output_log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [l.strip() for l in lines if l.strip() and "warning:" not in l]
    return errors[-1] if errors else ""


CONSOLE_DIR_ENV = "NESTBED_CONSOLE_DIR"
_saved_consoles = itertools.count()


def save_console(result: "RunResult") -> None:
    """With NESTBED_CONSOLE_DIR set, every run's whole console goes to a file of its own
    there (harness/coverage_l0.py collects nestbed's gcov counters from them)."""
    where = os.environ.get(CONSOLE_DIR_ENV)
    if not where:
        return
    name = "%s-%s-%d-%d.console" % (result.platform, result.mode, os.getpid(),
                                    next(_saved_consoles))
    try:
        Path(where).mkdir(parents=True, exist_ok=True)
        (Path(where) / name).write_text(result.console + "\n")
    except OSError as e:
        raise HarnessError("cannot save the console in %s: %s" % (where, e.strerror))


def run(platform: Platform, spec: RunSpec, timeout: Optional[float] = None, stream=None,
        log_path: Optional[Path] = None, keep: bool = False,
        on_line: Optional[Callable[[str, Optional[TapTest]], None]] = None,
        runs_root: Optional[Path] = None, known_failures=frozenset(),
        watch: Optional[Watch] = None) -> RunResult:
    """Boots spec on platform. Raises HarnessError (bad input) or PlatformUnavailable.
    With watch, the verdict comes from console lines (Watch), not from TAP and the
    exit port, and the emulator is stopped once they decide."""
    platform.emulator_path()
    platform.check_available()
    platform.validate(spec)
    platform.check_tools(spec)
    timeout = timeout if timeout is not None else platform.default_timeout
    if timeout <= 0:
        raise HarnessError("the timeout must be positive, not %g" % timeout)

    run_dir = make_run_dir(platform.name, spec.mode, runs_root)
    passed = False
    try:
        try:
            launch = platform.prepare(spec, run_dir)
        except HarnessError:
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
            raise
        (run_dir / "command").write_text(launch.shell_command() + "\n")
        try:
            log = open(log_path, "wb") if log_path else None
        except OSError as e:
            raise HarnessError("cannot write the log %s: %s" % (log_path, e.strerror))
        try:
            console = Console(stream=stream, log=log, on_line=on_line, watch=watch)
            execution = execute(launch, timeout, console)
            tap = console.close()
            if launch.exit_kind == "bochs":
                stop = bochs_stop_reason(launch)
            else:
                stop = qemu_stop_reason(launch) if console.exit_code is None else ""
            if watch is not None:
                hint = console.hint()
                if execution.monitor:
                    hint = "; ".join(x for x in (hint, "QEMU at the timeout: " +
                                                 execution.monitor) if x)
                passed, reason = decide_watch(watch, console, execution.status,
                                              execution.timed_out, timeout, hint=hint)
            else:
                hint = console.hint()
                if execution.timed_out:
                    hint = "; ".join(x for x in (hint, console.silence(),
                                                 ("QEMU at the timeout: " + execution.monitor)
                                                 if execution.monitor else "") if x)
                passed, reason = decide(tap, console.exit_code, execution.status,
                                        execution.timed_out, timeout, launch.exit_kind,
                                        late=execution.late, hint=hint,
                                        stop_reason=stop, known=known_failures)
            result = RunResult(
                platform=platform.name, mode=spec.mode, image=repo_path(spec.image),
                args=list(spec.args), command=shlex.join(launch.argv),
                emulator=platform.emulator_version(launch), tap=tap,
                exit_code=console.exit_code, status=execution.status,
                timed_out=execution.timed_out, duration=round(execution.duration, 3),
                verdict="pass" if passed else "fail", reason=reason,
                console=console.text, run_dir=str(run_dir))
            if log is not None:
                log.write((result.final_line() + "\n").encode())
            save_console(result)
        finally:
            if log is not None:
                log.close()
    finally:
        if passed and not keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    if passed and not keep:
        result.run_dir = None
    return result
