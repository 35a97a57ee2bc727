"""python3 -m harness: boot images on emulated platforms and judge their TAP output.

    python3 -m harness run --platform P [--bare] [--timeout S] [--log FILE]
                           [--nestbed PATH] [--nestbed-args 'STRING'] [--memory MIB]
                           [--cpu-model MODEL] [--cpus N] [--keep] IMAGE [ARGS...]
    python3 -m harness suite [--platform P ...] [--bare|--nestbed|--both] [--timeout S]
                             [--out DIR] [--image PATH] [--cpus N] [--keep]
    python3 -m harness linux --platform P [--bare] [--timeout S] [--memory MIB]
                             [--nestbed PATH] [--cpus N]
    python3 -m harness kvm --platform P [--bare] [--l1-args 'STRING'] [--timeout S]
                           [--memory MIB] [--loops N] [--vcpus N] [--nestbed PATH] [--cpus N]
    python3 -m harness xen --platform P [--bare] [--dom0 pvh|pv] [--domu] [--loops N]
                           [--xen-args 'STRING'] [--timeout S]
                           [--memory MIB] [--nestbed PATH] [--dom0-until REGEX]
    python3 -m harness bench [--out DIR] [--runs N]
    python3 -m harness fuzz [--platform P] [--seed S] [--count N] [--image PATH]
                            [--nestbed PATH] [--cpus N]
    python3 -m harness report [--out DIR]
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
from .results import skipped_dict, to_dict, write_report, write_results
from .runner import Interrupted, run

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

    rep = sub.add_parser("report", help="write DIR/report.md from DIR/*.json")
    rep.add_argument("--out", type=Path, default=ROOT / "results", metavar="DIR")

    sub.add_parser("platforms", help="list the platforms and whether they run here")
    return parser


def say(line):
    sys.stdout.flush()
    print(line, flush=True)


def cmd_run(opts) -> int:
    platform = get_platform(opts.platform)
    spec = RunSpec(image=Path(opts.image), args=list(opts.args), bare=opts.bare,
                   nestbed=opts.nestbed, nestbed_args=opts.nestbed_args.strip(),
                   memory=opts.memory, cpu_model=opts.cpu_model, icount=opts.icount,
                   cpus=opts.cpus)
    known = read_known_failures(opts.known_failures) if opts.known_failures else frozenset()
    result = run(platform, spec, timeout=opts.timeout, stream=sys.stdout.buffer,
                 log_path=opts.log, keep=opts.keep, known_failures=known)
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
    for i, (platform, mode) in enumerate(combos, 1):
        tag = "[%d/%d] %s %s" % (i, len(combos), platform.name, mode)
        say("%s: booting %s" % (tag, _rel(opts.image)))

        def progress(line, test, tag=tag):
            if test is not None:
                mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[test.status]
                say("    %s %s%s" % (mark, test.name, " # " + test.reason
                                     if test.reason else ""))

        spec = RunSpec(image=opts.image, bare=(mode == "bare"), nestbed=opts.nestbed_image,
                       memory=opts.memory, cpus=opts.cpus)
        known = default_known_failures(platform.name)
        start = time.monotonic()
        try:
            result = run(platform, spec, timeout=opts.timeout, on_line=progress,
                         log_path=logs / ("%s-%s.log" % (platform.name, mode)),
                         keep=opts.keep, known_failures=known)
            record = to_dict(result, known)
        except PlatformUnavailable as e:
            record = skipped_dict(platform.name, mode, e.reason, str(opts.image))
        except HarnessError as e:
            record = skipped_dict(platform.name, mode, str(e), str(opts.image))
            record["verdict"] = "error"
            record["duration"] = round(time.monotonic() - start, 3)
        write_results(record, opts.out)
        counts[record["verdict"]] += 1
        s = record["summary"]
        say("%s: %s %d passed, %d failed, %d skipped (%.1f s)%s" % (
            tag, record["verdict"].upper(), s["passed"], s["failed"], s["skipped"],
            record["duration"] or 0, ": " + record["reason"] if record["reason"] else ""))
    report = write_report(opts.out)
    say("harness: suite: %d passed, %d failed, %d skipped, %d errors; results in %s" % (
        counts["pass"], counts["fail"], counts["skip"], counts["error"], _rel(opts.out)))
    say("harness: report: %s" % _rel(report))
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
    path = bench.run_all(opts.out, opts.runs, say, opts.bochs)
    say("harness: bench: %s" % _rel(path))
    return EXIT_PASS


def cmd_report(opts) -> int:
    say("harness: report: %s" % _rel(write_report(opts.out)))
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
                "bench": cmd_bench, "fuzz": cmd_fuzz}[opts.command](opts)
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
