"""python3 -m harness: boot images on emulated platforms and judge their TAP output.

    python3 -m harness run --platform P [--bare] [--timeout S] [--log FILE]
                           [--nestbed PATH] [--nestbed-args 'STRING'] [--memory MIB]
                           [--cpu-model MODEL] [--cpus N] [--keep] [--trace FILE]
                           [--gdb] IMAGE [ARGS...]
    python3 -m harness suite [--platform P ...] [--bare|--nestbed|--both] [--timeout S]
                             [--out DIR] [--image PATH] [--cpus N] [--keep]
                             [--no-smp | --smp-only]
    python3 -m harness linux --platform P [--bare] [--timeout S] [--memory MIB]
                             [--nestbed PATH] [--cpus N]
    python3 -m harness kvm --platform P [--bare] [--l1-args 'STRING'] [--timeout S]
                           [--memory MIB] [--loops N] [--vcpus N] [--nestbed PATH] [--cpus N]
    python3 -m harness xen --platform P [--bare] [--dom0 pvh|pv] [--domu] [--loops N]
                           [--xen-args 'STRING'] [--timeout S]
                           [--memory MIB] [--nestbed PATH] [--dom0-until REGEX]
    python3 -m harness bench [--out DIR] [--runs N] [--deterministic] [--kvm-window]
                             [--linux-boot]
    python3 -m harness profile --platform P [--timeout S] [--out DIR] [--nestbed PATH]
                               [--nestbed-args 'STRING'] [--top N] IMAGE [ARGS...]
    python3 -m harness fuzz [--platform P] [--seed S] [--count N] [--image PATH]
                            [--nestbed PATH] [--cpus N]
    python3 -m harness report [--out DIR]
    python3 -m harness coverage-of-exits [--out DIR]
    python3 -m harness trace-stats [--top N] FILE
    python3 -m harness platforms

run: without --bare, nestbed boots with IMAGE (+ARGS) as its guest module; with --bare,
IMAGE boots alone with ARGS as its command line. Everything after IMAGE belongs to the
image. The console streams to stdout; the last line is the verdict:
    harness: PASS: ...    exit 0     harness: FAIL: <why>   exit 1
    harness: error: ...   exit 2     harness: SKIP: ...     exit 77
"""

import argparse
import os
import sys
import time
from pathlib import Path

from . import (EXIT_ERROR, EXIT_FAIL, EXIT_PASS, EXIT_SKIP, ROOT, HarnessError,
               PlatformUnavailable)
from .platforms import DEFAULT_MEMORY, MAX_CPUS, PLATFORMS, RunSpec, get_platform
from .results import combine_boots, skipped_dict, to_dict, write_report, write_results
from .runner import Interrupted, run
from . import suite_smp

CONFORMANCE = "build/guests/conformance.elf"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message):
        sys.stdout.flush()
        print("harness: error: %s" % message, flush=True)
        sys.exit(EXIT_ERROR)


def positive(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number of seconds" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be positive, not %s" % text)
    return value


def memory(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a size in MiB" % text)
    if not 16 <= value <= 65536:
        raise argparse.ArgumentTypeError("memory %s MiB is out of range (16..65536)" % text)
    return value


def cpus(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number of CPUs" % text)
    if not 1 <= value <= MAX_CPUS:
        raise argparse.ArgumentTypeError("%s CPUs is out of range (1..%d)" % (text, MAX_CPUS))
    return value


GDB_PORT = 1234
GDB_TIMEOUT = 3600
GDB_PLATFORMS = ("qemu-svm", "qemu-q35-svm", "qemu-q35-amdvi-svm")


def port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a TCP port" % text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("port %s is out of range (1..65535)" % text)
    return value


CPUS_HELP = "CPUs of the emulated machine: QEMU -smp N, Bochs cpu count=N (default 1)"


def build_parser():
    parser = Parser(prog="python3 -m harness", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    r = sub.add_parser("run", help="boot one image on one platform")
    r.add_argument("--platform", required=True, metavar="P",
                   help="one of: " + ", ".join(PLATFORMS))
    r.add_argument("--bare", action="store_true",
                   help="boot IMAGE alone (default: as nestbed's guest)")
    r.add_argument("--timeout", type=positive, metavar="S",
                   help="seconds before the emulator is killed (default: per platform)")
    r.add_argument("--log", type=Path, metavar="FILE", help="also write the console here")
    r.add_argument("--nestbed", type=Path, metavar="PATH",
                   help="nestbed image (default build/nestbed.elf, .efi on qemu-uefi-svm)")
    r.add_argument("--nestbed-args", default="", metavar="STRING",
                   help="nestbed's own command line")
    r.add_argument("--memory", type=memory, default=DEFAULT_MEMORY, metavar="MIB")
    r.add_argument("--cpu-model", metavar="MODEL",
                   help="Bochs CPU model (default tigerlake / ryzen) or QEMU -cpu value")
    r.add_argument("--keep", action="store_true", help="keep the run directory on success")
    r.add_argument("--cpus", type=cpus, default=1, metavar="N", help=CPUS_HELP)
    r.add_argument("--known-failures", type=Path, metavar="FILE",
                   help="probes whose failure on this platform is a documented bug "
                        "(one name per line, '#' comments): they do not fail the run")
    r.add_argument("--icount", action="store_true",
                   help="QEMU: -icount shift=0, the guest's TSC counts instructions")
    r.add_argument("--trace", type=Path, metavar="FILE",
                   help="nestbed traces every exit (adds its `trace` option unless "
                   "--nestbed-args has trace or trace=KINDS); the trace lines go to FILE, "
                   "not to the console")
    r.add_argument("--gdb", action="store_true",
                   help="QEMU waits before the first instruction for gdb on its gdbstub "
                   "(README.md: Debugging with gdb); the timeout defaults to %d s" % GDB_TIMEOUT)
    r.add_argument("--gdb-port", type=port, default=GDB_PORT, metavar="PORT",
                   help="the gdbstub's TCP port on 127.0.0.1 (default %d)" % GDB_PORT)
    r.add_argument("image", metavar="IMAGE")
    r.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")

    s = sub.add_parser("suite", help="run the conformance guest on platforms and modes")
    s.add_argument("--platform", action="append", metavar="P",
                   help="repeatable (default: qemu-svm)")
    group = s.add_mutually_exclusive_group()
    group.add_argument("--bare", dest="modes", action="store_const", const=["bare"])
    group.add_argument("--nestbed", dest="modes", action="store_const", const=["nestbed"])
    group.add_argument("--both", dest="modes", action="store_const",
                       const=["bare", "nestbed"], help="bare and under nestbed (default)")
    s.add_argument("--timeout", type=positive, metavar="S")
    s.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")
    s.add_argument("--image", type=Path, default=ROOT / CONFORMANCE, metavar="PATH")
    s.add_argument("--nestbed-image", type=Path, metavar="PATH")
    s.add_argument("--memory", type=memory, default=DEFAULT_MEMORY, metavar="MIB")
    s.add_argument("--keep", action="store_true")
    s.add_argument("--cpus", type=cpus, default=1, metavar="N", help=CPUS_HELP)
    part = s.add_mutually_exclusive_group()
    part.add_argument("--no-smp", action="store_true",
                      help="skip the smp part (the smp/ probes again with %d CPUs, "
                           "results/P-MODE-smp.json)" % suite_smp.CPUS)
    part.add_argument("--smp-only", action="store_true",
                      help="run only the smp part; the 1-CPU results files stay as they are")

    lx = sub.add_parser("linux", help="boot Debian's Linux (busybox initramfs) as the guest")
    lx.add_argument("--platform", required=True, metavar="P",
                    help="one of: " + ", ".join(PLATFORMS))
    lx.add_argument("--bare", action="store_true", help="Linux alone, without nestbed")
    lx.add_argument("--timeout", type=positive, metavar="S")
    lx.add_argument("--memory", type=memory, default=1024, metavar="MIB")
    lx.add_argument("--nestbed-args", default="", metavar="STRING")
    lx.add_argument("--nestbed", type=Path, metavar="PATH",
                    help="nestbed image (default the platform's: build/nestbed.elf, "
                    "build/nestbed.efi on qemu-uefi-svm)")
    lx.add_argument("--cpu-model", metavar="MODEL", help="Bochs CPU model or QEMU -cpu")
    lx.add_argument("--append", default="", metavar="ARGS",
                    help="more kernel command-line arguments (e.g. 'loglevel=7')")
    lx.add_argument("--log", type=Path, metavar="FILE")
    lx.add_argument("--keep", action="store_true")
    lx.add_argument("--cpus", type=cpus, default=1, metavar="N", help=CPUS_HELP)

    kv = sub.add_parser("kvm", help="Linux KVM as L1 runs a small L2 through /dev/kvm")
    kv.add_argument("--platform", required=True, metavar="P",
                    help="one of: " + ", ".join(PLATFORMS))
    kv.add_argument("--bare", action="store_true", help="Linux alone, without nestbed")
    kv.add_argument("--l1-args", default="", metavar="STRING",
                    help="more words for L1's kernel command line, e.g. 'kvm_amd.npt=0'")
    kv.add_argument("--timeout", type=positive, metavar="S")
    kv.add_argument("--memory", type=memory, default=1024, metavar="MIB")
    kv.add_argument("--loops", type=int, metavar="N",
                    help="L2 CPUID and port-I/O loop iterations (default 10000)")
    kv.add_argument("--vcpus", type=int, metavar="N",
                    help="L2's vCPUs, run at once by one thread each, each pinned to its "
                    "own L1 CPU (default 1; more needs as many L1 CPUs)")
    kv.add_argument("--nestbed", type=Path, metavar="PATH",
                    help="nestbed image (default build/nestbed.elf)")
    kv.add_argument("--nestbed-args", default="", metavar="STRING")
    kv.add_argument("--log", type=Path, metavar="FILE")
    kv.add_argument("--keep", action="store_true")
    kv.add_argument("--cpus", type=cpus, default=1, metavar="N", help=CPUS_HELP)

    xn = sub.add_parser("xen", help="Xen 4.17 (dom0: Debian's Linux) as the guest: passes "
                        "when Xen enables SVM/VMX and starts dom0, and (PVH dom0) dom0's "
                        "exit loops pass")
    xn.add_argument("--platform", required=True, metavar="P",
                    help="qemu-q35-amdvi-svm (PVH dom0: Xen needs an IOMMU), qemu-svm (PV)")
    xn.add_argument("--dom0", default="pvh", choices=("pvh", "pv"),
                    help="dom0's mode (default pvh: dom0 in SVM guest mode, running the "
                    "exit loops; pv: only until Xen starts dom0)")
    xn.add_argument("--loops", type=int, metavar="N",
                    help="dom0's CPUID and port-I/O loop iterations (default 2000)")
    xn.add_argument("--domu", action="store_true",
                    help="then dom0 starts a PVH domU with xl (Debian's toolstack) running "
                    "the same loops")
    xn.add_argument("--bare", action="store_true", help="Xen alone, without nestbed")
    xn.add_argument("--xen-args", default="", metavar="STRING",
                    help="more options for Xen's command line (default: console only)")
    xn.add_argument("--dom0-until", metavar="REGEX",
                    help="also wait for a console line matching REGEX after dom0 starts")
    xn.add_argument("--timeout", type=positive, metavar="S")
    xn.add_argument("--memory", type=memory, metavar="MIB",
                    help="default 2048 with a PVH dom0, 1024 with a PV one")
    xn.add_argument("--nestbed", type=Path, metavar="PATH",
                    help="nestbed image (default build/nestbed.elf)")
    xn.add_argument("--nestbed-args", default="", metavar="STRING")
    xn.add_argument("--log", type=Path, metavar="FILE")
    xn.add_argument("--keep", action="store_true")

    fz = sub.add_parser("fuzz", help="random VMCB12 (AMD-V) or VMCS12 (VT-x) states, bare "
                        "against nestbed")
    fz.add_argument("--platform", default="qemu-svm", metavar="P")
    fz.add_argument("--seed", type=int, default=1, metavar="S")
    fz.add_argument("--count", type=int, default=1000, metavar="N")
    fz.add_argument("--timeout", type=positive, default=600, metavar="S")
    fz.add_argument("--require-agreement", action="store_true",
                    help="fail when any state's outcome differs from bare")
    fz.add_argument("--image", type=Path, metavar="PATH",
                    help="the fuzzer image (default build/tests/svm_fuzz.elf, vmx_fuzz.elf "
                    "on VT-x platforms)")
    fz.add_argument("--nestbed", type=Path, metavar="PATH",
                    help="nestbed image (default build/nestbed.elf)")
    fz.add_argument("--cpus", type=cpus, default=1, metavar="N", help=CPUS_HELP)

    b = sub.add_parser("bench", help="cost figures into results/bench.json")
    b.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")
    b.add_argument("--runs", type=int, default=3, metavar="N",
                   help="boots per measurement; the median is kept (default 3)")
    b.add_argument("--bochs", action="store_true",
                   help="also Linux on bochs-vmx, bare and under nestbed (minutes per boot)")
    b.add_argument("--deterministic", action="store_true",
                   help="only the figures a loaded machine does not change (minimal-L1 round "
                        "trips, cost/* under -icount), merged into the existing bench.json")
    b.add_argument("--kvm-window", action="store_true",
                   help="only KVM's L2 loops measured alone (nestbed's marks), -icount and "
                        "wall clock, on qemu-svm-vgif and qemu-svm, merged into bench.json "
                        "(with --deterministic: -icount only)")
    b.add_argument("--linux-boot", action="store_true",
                   help="only the Linux boot figures on qemu-svm, 1 and 4 CPUs (seconds, the "
                        "emulator's CPU seconds, -icount virtual time to /init), merged into "
                        "the existing bench.json")

    pr = sub.add_parser("profile", help="nestbed's instructions per exit kind and function "
                        "under -icount (QEMU's execution log): DIR/profile.md, bench.json")
    pr.add_argument("--platform", default="qemu-svm", metavar="P",
                    help="a QEMU platform (default qemu-svm)")
    pr.add_argument("--timeout", type=positive, default=900, metavar="S",
                    help="seconds before QEMU is killed (default 900: every instruction is "
                         "logged)")
    pr.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")
    pr.add_argument("--nestbed", type=Path, metavar="PATH",
                    help="nestbed image (default build/nestbed.elf)")
    pr.add_argument("--nestbed-args", default="", metavar="STRING")
    pr.add_argument("--top", type=int, default=15, metavar="N",
                    help="functions per printed table (default 15)")
    pr.add_argument("image", metavar="IMAGE")
    pr.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")

    rep = sub.add_parser("report", help="write DIR/report.md and DIR/report.html (charts) "
                         "from DIR/*.json")
    rep.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")

    cov = sub.add_parser("coverage-of-exits",
                         help="write DIR/exit-coverage.md and .json: every VMX exit reason "
                              "and SVM exit code, its probes and their results from DIR/*.json")
    cov.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")
    ts = sub.add_parser("trace-stats", help="counts per exit and top RIPs of a trace "
                        "written by run --trace (or any console log with trace lines)")
    ts.add_argument("--top", type=int, default=10, metavar="N", help="RIPs shown (default 10)")
    ts.add_argument("file", type=Path, metavar="FILE")

    sub.add_parser("platforms", help="list the platforms and whether they run here")
    return parser


def say(line):
    sys.stdout.flush()
    print(line, flush=True)


def cmd_run(opts) -> int:
    from . import trace
    platform = get_platform(opts.platform)
    nestbed_args = opts.nestbed_args.strip()
    if opts.trace is not None:
        if opts.bare:
            raise HarnessError("--trace is nestbed's exit trace: it needs nestbed (no --bare)")
        nestbed_args = trace.with_trace_option(nestbed_args)
    spec = RunSpec(image=Path(opts.image), args=list(opts.args), bare=opts.bare,
                   nestbed=opts.nestbed, nestbed_args=nestbed_args,
                   memory=opts.memory, cpu_model=opts.cpu_model, icount=opts.icount,
                   cpus=opts.cpus)
    timeout = opts.timeout
    if opts.gdb:
        if platform.name not in GDB_PLATFORMS:
            raise HarnessError("--gdb is QEMU's gdbstub with nestbed.elf: on %s, not %s" % (
                ", ".join(GDB_PLATFORMS), platform.name))
        spec.gdb_port = opts.gdb_port
        timeout = timeout or GDB_TIMEOUT
        for line in gdb_hint(spec, opts.gdb_port):
            say("harness: gdb: " + line)
    known = read_known_failures(opts.known_failures) if opts.known_failures else frozenset()
    stream = sys.stdout.buffer
    splitter = None
    if opts.trace is not None:
        try:
            trace_file = open(opts.trace, "wb")
        except OSError as e:
            raise HarnessError("cannot write the trace %s: %s" % (opts.trace, e.strerror))
        stream = splitter = trace.TraceSplitter(trace_file, sys.stdout.buffer)
    try:
        result = run(platform, spec, timeout=timeout, stream=stream,
                     log_path=opts.log, keep=opts.keep, known_failures=known)
    finally:
        if splitter is not None:
            splitter.close()
            trace_file.close()
    if splitter is not None:
        say("harness: trace: %d lines in %s" % (splitter.lines, _rel(opts.trace)))
    if result.run_dir and result.verdict != "pass":
        say("harness: run directory kept: %s" % _rel(result.run_dir))
    for test in result.tap.failed:
        if test.name in known:
            say("harness: known failure on %s: %s" % (platform.name, test.name))
    fixed = sorted(known & {t.name for t in result.tap.passed})
    if fixed:
        say("harness: listed as known failures but passed: %s" % ", ".join(fixed))
    say(result.final_line())
    return EXIT_PASS if result.verdict == "pass" else EXIT_FAIL


KNOWN_FAILURES_DIR = ROOT / "tests" / "emulator" / "known-failures"


def default_known_failures(platform: str) -> frozenset:
    """The documented emulator departures for a platform (qemu-uefi-svm: QEMU's)."""
    name = {"qemu-uefi-svm": "qemu-svm"}.get(platform, platform)
    path = KNOWN_FAILURES_DIR / (name + ".txt")
    return read_known_failures(path) if path.is_file() else frozenset()


def read_known_failures(path: Path) -> frozenset:
    """Probe names, one per line; '#' starts a comment (the bug and the manual's rule)."""
    try:
        text = path.read_text()
    except OSError as e:
        raise HarnessError("cannot read %s: %s" % (path, e.strerror))
    return frozenset(line.split("#", 1)[0].strip() for line in text.splitlines()
                     if line.split("#", 1)[0].strip())


def _rel(path) -> str:
    """path relative to the current directory when it is below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _suite_boot(platform, mode, spec, opts, progress, log_path) -> dict:
    """One boot of the suite as a results record (harness/results.py)."""
    known = default_known_failures(platform.name)
    start = time.monotonic()
    try:
        result = run(platform, spec, timeout=opts.timeout, on_line=progress,
                     log_path=log_path, keep=opts.keep, known_failures=known)
        return to_dict(result, known)
    except PlatformUnavailable as e:
        return skipped_dict(platform.name, mode, e.reason, str(opts.image))
    except HarnessError as e:
        record = skipped_dict(platform.name, mode, str(e), str(opts.image))
        record["verdict"] = "error"
        record["duration"] = round(time.monotonic() - start, 3)
        return record


def cmd_suite(opts) -> int:
    names = opts.platform or ["qemu-svm"]
    platforms = [get_platform(n) for n in names]
    modes = opts.modes or ["bare", "nestbed"]
    if not opts.image.is_file():
        raise HarnessError("conformance guest %s does not exist (run make)" % _rel(opts.image))
    combos = [(p, m) for p in platforms for m in modes]
    logs = ROOT / "build" / "suite-logs"
    logs.mkdir(parents=True, exist_ok=True)
    counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
    parts = [("", opts.cpus)] if opts.no_smp else [(suite_smp.PART, suite_smp.CPUS)] \
        if opts.smp_only else [("", opts.cpus), (suite_smp.PART, suite_smp.CPUS)]
    jobs = [(p, m, part, n) for p, m in combos for part, n in parts]
    for i, (platform, mode, part, ncpus) in enumerate(jobs, 1):
        tag = "[%d/%d] %s %s%s" % (i, len(jobs), platform.name, mode, " " + part if part else "")
        say("%s: booting %s" % (tag, _rel(opts.image)))

        def progress(line, test, tag=tag):
            if test is not None:
                mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[test.status]
                say("    %s %s%s" % (mark, test.name, " # " + test.reason
                                     if test.reason else ""))

        stem = "%s-%s" % (platform.name, mode) + ("-" + part if part else "")
        selections = suite_smp.boots(platform.name, mode) if part else [[]]
        boots = []
        for n, args in enumerate(selections, 1):
            spec = RunSpec(image=opts.image, args=list(args), bare=(mode == "bare"),
                           nestbed=opts.nestbed_image, memory=opts.memory, cpus=ncpus)
            log = stem + ("-%d" % n if len(selections) > 1 else "") + ".log"
            if len(selections) > 1:
                say("    boot %d/%d: %s" % (n, len(selections), " ".join(args)))
            boots.append(_suite_boot(platform, mode, spec, opts, progress, logs / log))
            if boots[-1]["verdict"] == "skip" and not boots[-1]["probes"]:
                break                   # the platform cannot run here: once is enough
        record = combine_boots(boots, part, ncpus, default_known_failures(platform.name)) \
            if part else boots[0]
        write_results(record, opts.out)
        counts[record["verdict"]] += 1
        s = record["summary"]
        say("%s: %s %d passed, %d failed, %d skipped (%.1f s)%s" % (
            tag, record["verdict"].upper(), s["passed"], s["failed"], s["skipped"],
            record["duration"] or 0, ": " + record["reason"] if record["reason"] else ""))
    report = write_report(opts.out)
    try:
        from .report_html import write_html_report
        html_report = _rel(write_html_report(opts.out))
    except HarnessError as e:
        html_report = "not written: %s" % e
    say("harness: suite: %d passed, %d failed, %d skipped, %d errors; results in %s" % (
        counts["pass"], counts["fail"], counts["skip"], counts["error"], _rel(opts.out)))
    say("harness: report: %s" % _rel(report))
    say("harness: report: %s" % html_report)
    return EXIT_FAIL if counts["fail"] or counts["error"] else EXIT_PASS


def cmd_linux(opts) -> int:
    from . import linux
    platform = get_platform(opts.platform)
    linux.prepare()
    spec = linux.spec_for(platform.name, opts.bare, opts.memory, opts.nestbed_args.strip(),
                          opts.nestbed)
    spec.cpu_model = opts.cpu_model or spec.cpu_model
    spec.cpus = opts.cpus
    spec.args += linux.cpu_check_args(opts.cpus, opts.bare)
    spec.args += opts.append.split()
    timeout = opts.timeout or linux.TIMEOUTS.get(platform.name)
    result = run(platform, spec, timeout=timeout, stream=sys.stdout.buffer,
                 log_path=opts.log, keep=opts.keep)
    if result.run_dir and result.verdict != "pass":
        say("harness: run directory kept: %s" % _rel(result.run_dir))
    say(result.final_line())
    return EXIT_PASS if result.verdict == "pass" else EXIT_FAIL


def cmd_fuzz(opts) -> int:
    from . import fuzz
    if opts.count <= 0:
        raise HarnessError("--count must be positive")
    return fuzz.run_fuzz(opts.platform, opts.seed, opts.count, opts.timeout, say,
                         opts.require_agreement, opts.image, opts.nestbed, opts.cpus)


def cmd_kvm(opts) -> int:
    from . import kvm
    platform = get_platform(opts.platform)
    kvm.check_args(opts.bare, opts.l1_args, opts.loops, opts.nestbed,
                   vcpus=opts.vcpus)  # before building
    kvm.prepare()
    spec = kvm.spec_for(platform.name, opts.bare, opts.memory, opts.l1_args, opts.loops,
                        opts.nestbed, opts.nestbed_args.strip(), vcpus=opts.vcpus)
    spec.cpus = opts.cpus
    result = run(platform, spec, timeout=kvm.timeout_for(platform.name, opts.timeout),
                 stream=sys.stdout.buffer, log_path=opts.log, keep=opts.keep)
    if result.run_dir and result.verdict != "pass":
        say("harness: run directory kept: %s" % _rel(result.run_dir))
    say(result.final_line())
    return EXIT_PASS if result.verdict == "pass" else EXIT_FAIL


def cmd_xen(opts) -> int:
    from . import xen
    platform = get_platform(opts.platform)
    xen.check_args(platform.name, opts.dom0, opts.domu)
    if opts.loops is not None and opts.loops < 1:
        raise HarnessError("--loops must be at least 1, not %d" % opts.loops)
    xen.prepare(opts.dom0, opts.domu)
    spec = xen.spec_for(opts.bare, opts.xen_args.strip(), opts.memory,
                        opts.nestbed_args.strip(), opts.nestbed, platform.name, opts.dom0,
                        opts.loops, opts.domu)
    watch = xen.watch_for(platform.name, opts.dom0_until, opts.dom0, opts.domu)
    timeout = opts.timeout or (xen.TIMEOUTS.get(platform.name, 420) +
                               (xen.DOMU_EXTRA_TIMEOUT if opts.domu else 0))
    result = run(platform, spec, timeout=timeout, stream=sys.stdout.buffer,
                 log_path=opts.log, keep=opts.keep, watch=watch)
    if result.run_dir and result.verdict != "pass":
        say("harness: run directory kept: %s" % _rel(result.run_dir))
    if result.verdict == "pass":
        say("harness: PASS: %s %s xen: %s (%.1f s)" % (
            platform.name, spec.mode, ", then ".join("/%s/" % p.pattern for p in watch.needed),
            result.duration))
        return EXIT_PASS
    say(result.final_line())
    return EXIT_FAIL


def cmd_bench(opts) -> int:
    from . import bench
    if opts.kvm_window:
        path = bench.record_kvm_window(opts.out, say, wall=not opts.deterministic)
    elif opts.linux_boot:
        path = bench.run_linux_boot(opts.out, opts.runs, say)
    elif opts.deterministic:
        path = bench.run_deterministic(opts.out, say)
    else:
        path = bench.run_all(opts.out, opts.runs, say, opts.bochs)
    say("harness: bench: %s" % _rel(path))
    return EXIT_PASS


def cmd_profile(opts) -> int:
    from . import bench, profile
    image = Path(opts.image)
    if not image.is_file():
        raise HarnessError("no image %s" % image)
    result, prof = profile.profile_run(opts.platform, image, opts.args, opts.timeout,
                                       nestbed=opts.nestbed, nestbed_args=opts.nestbed_args)
    title = "%s on %s, %s %s" % (bench._git_version(), opts.platform, _rel(image),
                                 " ".join(opts.args))
    say(profile.terminal_tables(prof, opts.top))
    md = profile.write_profile(prof, opts.out / "profile.md", title.strip())
    path = bench.record_profile(opts.out, opts.platform, profile.summary(prof), title.strip())
    say("harness: profile: %s, %s" % (_rel(md), _rel(path)))
    if result.verdict != "pass":
        say(result.final_line())
        return EXIT_FAIL
    return EXIT_PASS


def cmd_report(opts) -> int:
    from .report_html import write_html_report
    say("harness: report: %s" % _rel(write_report(opts.out)))
    say("harness: report: %s" % _rel(write_html_report(opts.out)))
    return EXIT_PASS


def gdb_hint(spec, gdb_port):
    """What to type in another terminal (README.md "Debugging with gdb")."""
    nestbed = _rel(spec.nestbed or ROOT / "build" / "nestbed.elf")
    first = _rel(spec.image) if spec.bare else nestbed
    lines = ["QEMU is stopped before the first instruction; its gdbstub listens on "
             "127.0.0.1:%d. In another terminal:" % gdb_port,
             "  gdb -ex 'set pagination off' -ex 'symbol-file %s' -ex 'target remote 127.0.0.1:%d' "
             "%s-ex continue" % (first, gdb_port, "" if spec.bare else "-ex 'break nestbed_main' ")]
    if not spec.bare:
        lines.append("  and the guest's symbols: add-symbol-file %s (its own link addresses)"
                     % _rel(spec.image))
    return lines


def cmd_trace_stats(opts) -> int:
    from . import trace
    if opts.top < 0:
        raise HarnessError("--top must not be negative")
    lines = trace.read_trace(opts.file)
    s = trace.stats(lines)
    if not s["exits"] and not s["reflected"]:
        raise HarnessError("%s has no nestbed-trace lines (run with --trace FILE, or "
                           "nestbed's trace option)" % _rel(opts.file))
    say("harness: trace-stats: %s" % _rel(opts.file))
    for line in trace.format_stats(s, opts.top):
        say(line)
    return EXIT_PASS


def cmd_coverage_of_exits(opts) -> int:
    from . import exits
    from .results import load_results
    records = load_results(opts.out)
    if not records:
        raise HarnessError("no results in %s (python3 -m harness suite writes them)" % opts.out)
    md, js = exits.write_coverage(opts.out, records)
    table = exits.coverage(records)
    for vendor, t in sorted(table["totals"].items()):
        say("harness: coverage-of-exits: %s: %d of %d raisable exits asserted, %d passing"
            % (vendor, t["asserted"], t["raisable"], t["passing"]))
    say("harness: coverage-of-exits: %s, %s" % (_rel(md), _rel(js)))
    return EXIT_PASS


def cmd_platforms(opts) -> int:
    for name in PLATFORMS:
        platform = get_platform(name)
        try:
            platform.emulator_path()
            platform.check_available()
            state = "available"
        except HarnessError as e:
            state = "missing: %s" % e
        except PlatformUnavailable as e:
            state = "unavailable: %s" % e.reason
        say("%-14s %s [%s]" % (name, platform.summary, state))
    return EXIT_PASS


def main(argv=None) -> int:
    opts = build_parser().parse_args(argv)
    try:
        return {"run": cmd_run, "suite": cmd_suite, "report": cmd_report,
                "platforms": cmd_platforms, "linux": cmd_linux,
                "kvm": cmd_kvm, "xen": cmd_xen,
                "bench": cmd_bench, "fuzz": cmd_fuzz, "profile": cmd_profile,
                "coverage-of-exits": cmd_coverage_of_exits,
                "trace-stats": cmd_trace_stats}[opts.command](opts)
    except HarnessError as e:
        say("harness: error: %s" % e)
        return EXIT_ERROR
    except PlatformUnavailable as e:
        say("harness: SKIP: %s: %s" % (e.platform, e.reason))
        return EXIT_SKIP
    except (Interrupted, KeyboardInterrupt) as e:
        say("harness: FAIL: %s" % (e or "interrupted"))
        return EXIT_FAIL
    except BrokenPipeError:
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
