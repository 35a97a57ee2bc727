#!/usr/bin/python3
"""Everything `make test` runs, with one line per test and a count at the end.

    /usr/bin/python3 tests/run_all.py --unit build/unit/test_a build/unit/test_b ...
                                      [--fuzz build/fuzz/fuzz_x ...] [--fuzz-seconds S]
                                      [--only GLOB]... [--no-emulator] [--jobs N]

  (a) each cmocka binary, with CMOCKA_MESSAGE_OUTPUT=TAP; its TAP is parsed
  (a') each libFuzzer binary fuzz_NAME, one test `fuzz/NAME`, for --fuzz-seconds (default
       $NESTBED_FUZZ_SECONDS or 60) from the seeds in tests/fuzz/corpus/NAME plus what
       earlier runs found (build/fuzz/work/NAME); fails on a crash, a sanitizer report or
       a broken invariant (the input that did it is kept in build/fuzz/artifacts/)
  (b) pytest on tests/harness (counted from build/pytest.xml; "no tests" is not a failure)
  (c) the emulator scenarios of tests/emulator/scenarios.py, at most --jobs (2) at a time

Prints `PASS name`, `FAIL name : why` or `SKIP name : reason` per test, keeps every log under
build/test-logs/, and ends with exactly the line `N passed, N failed, N skipped`. Exit status
1 when anything failed. --only GLOB (repeatable) keeps the tests whose name matches GLOB or
lies under it (`--only emulator/bad-input`); --no-emulator skips (c) and the pytest tests
that boot an emulator.
"""

import argparse
import fnmatch
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.tap import parse as parse_tap  # noqa: E402

PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
LOGS = ROOT / "build" / "test-logs"
PYTEST_XML = ROOT / "build" / "pytest.xml"
UNIT_TIMEOUT = 120
PYTEST_TIMEOUT = 900
FUZZ_SECONDS = 60             # default time of each fuzz target (--fuzz-seconds)
FUZZ_KILL_MARGIN = 120        # beyond it before run_all kills a fuzzer
FUZZ_MAX_LEN = 16384          # largest input the fuzzers try
KILL_MARGIN = 60              # seconds run_all waits beyond a scenario's own --timeout
TERM_GRACE = 10


class Tally:
    """Prints result lines (thread-safe) and counts them."""

    def __init__(self, globs):
        self.globs = globs
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.lock = threading.Lock()

    def selected(self, name):
        return not self.globs or any(fnmatch.fnmatchcase(name, g) or
                                     fnmatch.fnmatchcase(name, g.rstrip("/") + "/*")
                                     for g in self.globs)

    def may_select(self, prefix):
        """Whether some test named prefix/... can match a glob (decides what to run)."""
        if not self.globs:
            return True
        for g in self.globs:
            literal = re.split(r"[*?\[]", g, 1)[0]
            if literal.startswith(prefix) or prefix.startswith(literal) \
                    or self.selected(prefix):
                return True
        return False

    def report(self, status, name, why=""):
        if not self.selected(name):
            return
        with self.lock:
            self.counts[status] += 1
            line = "%s %s" % (status, name)
            if why:
                line += " : " + " ".join(why.split())
            print(line, flush=True)


def log_path(name):
    path = LOGS / (name + ".log")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def rel(path):
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- processes

RUNNING = set()
RUNNING_LOCK = threading.Lock()


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_logged(argv, log, timeout, env=None, cwd=ROOT):
    """Runs argv in its own session with stdout+stderr to log. Returns (status, timed_out).
    On timeout: SIGTERM to the group (the harness then kills its emulator), then SIGKILL."""
    with open(log, "wb") as out:
        out.write(("$ %s\n" % " ".join(argv)).encode())
        out.flush()
        try:
            proc = subprocess.Popen(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            out.write(("cannot start: %s\n" % e).encode())
            return None, False
        with RUNNING_LOCK:
            RUNNING.add(proc)
        try:
            proc.wait(timeout=timeout)
            return proc.returncode, False
        except subprocess.TimeoutExpired:
            kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=TERM_GRACE)
            except subprocess.TimeoutExpired:
                pass
            kill_group(proc, signal.SIGKILL)
            proc.wait()
            return proc.returncode, True
        finally:
            kill_group(proc, signal.SIGKILL)      # nothing of it may outlive it
            with RUNNING_LOCK:
                RUNNING.discard(proc)


def kill_all():
    with RUNNING_LOCK:
        procs = list(RUNNING)
    for proc in procs:
        kill_group(proc, signal.SIGTERM)
    time.sleep(1)
    for proc in procs:
        kill_group(proc, signal.SIGKILL)


def describe_status(status):
    if status is None:
        return "could not start"
    if status < 0:
        try:
            return "killed by %s" % signal.Signals(-status).name
        except ValueError:
            return "killed by signal %d" % -status
    return "exit status %d" % status


# ---------------------------------------------------------------------------- (a) unit

def unit_suite_name(binary):
    name = Path(binary).name
    return name[len("test_"):] if name.startswith("test_") else name


def run_unit(binary, tally):
    suite = "unit/" + unit_suite_name(binary)
    if not tally.may_select(suite):
        return
    path = Path(binary)
    if not path.is_absolute():
        path = ROOT / path
    if not os.access(path, os.X_OK):
        tally.report("FAIL", suite, "%s is missing or not executable (run make)" % binary)
        return
    log = log_path(suite)
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    status, timed_out = run_logged([str(path)], log, UNIT_TIMEOUT, env=env)
    text = log.read_text(errors="replace")
    # cmocka writes a failure's messages as "# ..." lines after its test line
    tap = parse_tap(text.split("\n", 1)[1] if "\n" in text else "", comments="after")
    for test in tap.tests:
        name = test.name or (test.reason if test.directive == "SKIP" else "")
        name = "%s/%s" % (suite, name or "#%d" % test.number)
        if test.status == "ok":
            tally.report("PASS", name)
        elif test.status == "skip":
            reason = test.reason if test.name else ""
            tally.report("SKIP", name, reason or ("TODO" if test.directive == "TODO"
                                                  else "skipped"))
        else:
            why = "; ".join(test.diagnostics) or test.reason or "not ok"
            tally.report("FAIL", name, why)
    if timed_out:
        tally.report("FAIL", suite, "timeout after %ds (log: %s)" % (UNIT_TIMEOUT, rel(log)))
    elif tap.bailed_out:
        tally.report("FAIL", suite, "Bail out! %s" % tap.bail_out)
    elif tap.problems:
        tally.report("FAIL", suite, "TAP: %s; %s (log: %s)" % (
            "; ".join(tap.problems), describe_status(status), rel(log)))
    elif status != 0 and not tap.failed:
        tally.report("FAIL", suite, "%s (log: %s)" % (describe_status(status), rel(log)))


# ---------------------------------------------------------------------------- (a') fuzz

FUZZ_FAILURE_LINES = (r"invariant broken: .*", r"ERROR: AddressSanitizer: .*",
                      r"ERROR: UndefinedBehaviorSanitizer: .*", r"runtime error: .*",
                      r"ERROR: libFuzzer: .*", r"ERROR: LeakSanitizer: .*")


def fuzz_failure(text):
    """The most telling line of a failed fuzz log, and where the input was kept."""
    why = None
    for pattern in FUZZ_FAILURE_LINES:
        m = re.search(pattern, text)
        if m:
            why = m.group(0)
            break
    artifact = re.search(r"Test unit written to (\S+)", text)
    if artifact:
        why = "%s; input: %s" % (why or "crash", artifact.group(1))
    return why


def run_fuzz(binary, seconds, tally):
    base = Path(binary).name
    name = base[len("fuzz_"):] if base.startswith("fuzz_") else base
    test = "fuzz/" + name
    if not tally.selected(test):
        return
    path = Path(binary)
    if not path.is_absolute():
        path = ROOT / path
    if not os.access(path, os.X_OK):
        tally.report("FAIL", test, "%s is missing or not executable (run make fuzz)" % binary)
        return
    seeds = ROOT / "tests" / "fuzz" / "corpus" / name
    work = ROOT / "build" / "fuzz" / "work" / name
    artifacts = ROOT / "build" / "fuzz" / "artifacts"
    work.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    if not seeds.is_dir():
        tally.report("FAIL", test, "no seeds in %s" % rel(seeds))
        return
    log = log_path(test)
    argv = [str(path), "-max_total_time=%d" % seconds, "-timeout=10",
            "-max_len=%d" % FUZZ_MAX_LEN, "-print_final_stats=1",
            "-artifact_prefix=%s/%s-" % (artifacts, name), str(work), str(seeds)]
    status, timed_out = run_logged(argv, log, seconds + FUZZ_KILL_MARGIN)
    text = log.read_text(errors="replace")
    if timed_out:
        tally.report("FAIL", test, "timeout after %ds (log: %s)" % (seconds + FUZZ_KILL_MARGIN,
                                                                    rel(log)))
        return
    done = re.search(r"Done (\d+) runs in (\d+) second", text)
    if status != 0:
        tally.report("FAIL", test, "%s: %s (log: %s)" % (
            describe_status(status), fuzz_failure(text) or "no reason found", rel(log)))
    elif not done or int(done.group(1)) == 0:
        tally.report("FAIL", test, "the fuzzer ran no input (log: %s)" % rel(log))
    else:
        tally.report("PASS", test)


# ---------------------------------------------------------------------------- (b) pytest

def junit_results(xml_path):
    """[(name, status, why)] from a pytest JUnit XML file."""
    results = []
    root = ET.parse(xml_path).getroot()
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        module = classname.split(".")
        # tests.harness.test_tap[.Class] -> harness/test_tap[/Class]
        if len(module) >= 2 and module[0] == "tests":
            module = module[1:]
        name = "/".join(module + [case.get("name", "?")])
        status, why = "PASS", ""
        for tag, st in (("failure", "FAIL"), ("error", "FAIL"), ("skipped", "SKIP")):
            el = case.find(tag)
            if el is not None:
                status = st
                why = (el.get("message") or el.text or tag).strip().splitlines()[0] \
                    if (el.get("message") or el.text) else tag
                break
        results.append((name, status, why))
    return results


def run_pytest(tally, no_emulator):
    if not tally.may_select("harness/"):
        return
    log = log_path("pytest")
    try:
        PYTEST_XML.unlink()
    except FileNotFoundError:
        pass
    env = dict(os.environ)
    if no_emulator:
        env["NESTBED_NO_EMULATOR"] = "1"
    argv = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/harness",
            "--junitxml=" + str(PYTEST_XML.relative_to(ROOT))]
    status, timed_out = run_logged(argv, log, PYTEST_TIMEOUT, env=env)
    if timed_out:
        tally.report("FAIL", "harness/pytest", "timeout after %ds (log: %s)" % (
            PYTEST_TIMEOUT, rel(log)))
        return
    if status == 5:                         # pytest: no tests collected
        tally.report("SKIP", "harness/pytest", "no tests collected")
        return
    try:
        results = junit_results(PYTEST_XML)
    except (OSError, ET.ParseError):
        tally.report("FAIL", "harness/pytest", "no JUnit XML from pytest (%s; log: %s)" % (
            describe_status(status), rel(log)))
        return
    for name, st, why in results:
        tally.report(st, name, why)
    if status not in (0, 1) or (status == 1 and not any(st == "FAIL" for _, st, _ in results)):
        tally.report("FAIL", "harness/pytest", "%s (log: %s)" % (describe_status(status),
                                                                 rel(log)))


# ---------------------------------------------------------------------------- (c) emulator

def load_scenarios():
    path = ROOT / "tests" / "emulator" / "scenarios.py"
    spec = importlib.util.spec_from_file_location("nestbed_scenarios", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module        # dataclasses look their module up
    spec.loader.exec_module(module)
    return list(module.SCENARIOS)


def harness_line(output, prefix="harness: "):
    """The harness's last verdict/error line."""
    for line in reversed(output.splitlines()):
        if line.startswith(prefix):
            return line
    lines = [l for l in output.splitlines() if l.strip()]
    return lines[-1] if lines else "no output"


def judge(scenario, status, timed_out, output):
    """(status, why) for a finished scenario."""
    last = harness_line(output)
    if timed_out:
        return "FAIL", "run_all killed it after %gs (%s)" % (
            scenario.timeout + KILL_MARGIN, last)
    if status == 77 and scenario.expect == "skip-ok":
        m = re.match(r"harness: SKIP: (.*)", last)
        return "SKIP", m.group(1) if m else last
    if status == 77:
        return "FAIL", "skipped, but this scenario must run: %s" % last
    if scenario.expect in ("pass", "skip-ok"):
        shows = getattr(scenario, "must_show", None)
        if status == 0 and shows and not re.search(shows, output, re.MULTILINE):
            return "FAIL", "passed, but the output lacks /%s/ (%s)" % (shows, last)
        if status == 0:
            return "PASS", ""
        return "FAIL", re.sub(r"^harness: (FAIL: )?", "", last)
    # expect == "fail"
    if status == 0:
        return "FAIL", "expected a failure matching /%s/ but the run passed" % scenario.regex
    if status is None:
        return "FAIL", "the harness could not start"
    if scenario.regex and not re.search(scenario.regex, output, re.MULTILINE):
        return "FAIL", "output lacks /%s/ (%s)" % (scenario.regex, last)
    return "PASS", ""


def run_scenario(scenario, tally):
    log = log_path(scenario.name)
    status, timed_out = run_logged([PYTHON, "-m", "harness", *scenario.argv], log,
                                   scenario.timeout + KILL_MARGIN)
    output = log.read_text(errors="replace")
    verdict, why = judge(scenario, status, timed_out, output)
    if verdict == "FAIL":
        why = "%s (log: %s)" % (why, rel(log))
    tally.report(verdict, scenario.name, why)


def run_scenarios(tally, jobs):
    scenarios = [s for s in load_scenarios() if tally.selected(s.name)]
    if not scenarios:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for future in [pool.submit(run_scenario, s, tally) for s in scenarios]:
            future.result()
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        kill_all()
        raise
    pool.shutdown()


# ---------------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit", nargs="*", default=[], metavar="BINARY",
                        help="cmocka test binaries")
    parser.add_argument("--fuzz", nargs="*", default=[], metavar="BINARY",
                        help="libFuzzer binaries (tests/fuzz)")
    parser.add_argument("--fuzz-seconds", type=int,
                        default=int(os.environ.get("NESTBED_FUZZ_SECONDS", FUZZ_SECONDS)),
                        help="time of each fuzz target (default: $NESTBED_FUZZ_SECONDS "
                             "or %d)" % FUZZ_SECONDS)
    parser.add_argument("--only", action="append", default=[], metavar="GLOB")
    parser.add_argument("--no-emulator", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="emulator runs at a time")
    opts = parser.parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    tally = Tally(opts.only)
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        for binary in opts.unit:
            run_unit(binary, tally)
        for binary in opts.fuzz:
            run_fuzz(binary, opts.fuzz_seconds, tally)
        run_pytest(tally, opts.no_emulator)
        if not opts.no_emulator:
            run_scenarios(tally, opts.jobs)
    except KeyboardInterrupt:
        kill_all()
        tally.report("FAIL", "run_all", "interrupted")
    c = tally.counts
    print("%d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]), flush=True)
    return 1 if c["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
