"""harness/coverage_l0.py: the counter frames, their decoding (against the C encoder,
src/core/gcov_stream.c built for the host), the .gcda writer (against libgcov's own
file of a sample program), and the whole pipeline on one short QEMU run of the coverage
build (build/cov-l0/nestbed.elf, which make test builds)."""

import base64
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from harness import coverage_l0 as cov

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
COV_BUILD = ROOT / "build" / "cov-l0"


def frames(payload: bytes, chunk: int = 96) -> list:
    """The console lines of a stream, as gcov_stream.c writes them."""
    parts = [payload[i:i + chunk] for i in range(0, len(payload), chunk)]
    lines = ["nestbed-gcov-begin 1"]
    lines += ["nestbed-gcov %d %s %08x" % (i, base64.b64encode(p).decode(), zlib.crc32(p))
              for i, p in enumerate(parts)]
    lines.append("nestbed-gcov-end %d %d %08x" % (len(parts), len(payload),
                                                 zlib.crc32(payload)))
    return lines


def test_frames_intact_stream_among_other_lines():
    payload = bytes(range(256)) * 3
    lines = ["TAP version 13", "ok 1 - x"] + frames(payload) + ["exit-port: 0"]
    assert cov.extract_streams(lines) == [payload]
    assert cov.extract_streams(["  " + l + "\r" for l in frames(b"abc")]) == [b"abc"]


@pytest.mark.parametrize("damage", ["crc", "seq", "drop", "end-count", "end-crc", "no-end",
                                    "junk", "base64", "format"])
def test_frames_damaged_stream_is_dropped(damage):
    lines = frames(bytes(range(250)))
    if damage == "crc":
        lines[2] = lines[2][:-1] + ("0" if lines[2][-1] != "0" else "1")
    elif damage == "seq":
        lines[2] = lines[2].replace("nestbed-gcov 1 ", "nestbed-gcov 2 ", 1)
    elif damage == "drop":
        del lines[2]
    elif damage == "end-count":
        lines[-1] = lines[-1].replace("-end 3 ", "-end 4 ")
    elif damage == "end-crc":
        lines[-1] = lines[-1][:-8] + "00000000"
    elif damage == "no-end":
        lines.pop()
    elif damage == "junk":
        lines.insert(2, "nestbed-gcov what")
    elif damage == "base64":
        lines[1] = lines[1].replace(" ", " !", 2).replace(" !", " ", 1)
    elif damage == "format":
        lines[0] = "nestbed-gcov-begin 2"
    assert cov.extract_streams(lines) == []
    # a later intact stream still counts
    assert cov.extract_streams(lines + frames(b"ok")) == [b"ok"]


@pytest.fixture(scope="module")
def c_stream(tmp_path_factory):
    exe = tmp_path_factory.mktemp("gcov") / "driver"
    proc = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(ROOT / "src"),
                           str(DATA / "gcov_stream_driver.c"),
                           str(ROOT / "src" / "core" / "gcov_stream.c"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout


def test_c_encoder_decodes(c_stream):
    lines = c_stream.splitlines()
    assert len(lines) > 3 and all(len(l) + 1 <= 192 for l in lines)
    first, second = cov.extract_streams(lines)      # one stream per object
    (a,) = cov.decode_stream(first)
    (b,) = cov.decode_stream(second)
    assert (a.filename, a.version, a.stamp, a.checksum, a.mask) == (
        "/b/a.c.gcda", 0x4232322a, 0x11223344, 0x55667788, 1)
    (fn,) = a.functions
    assert (fn.present, fn.ident, fn.lineno_checksum, fn.cfg_checksum) == (True, 7, 0xa, 0xb)
    assert fn.counters == {0: [0, 1, 300]}
    assert b.filename == "/b/sub/b.c.gcda" and len(b.functions) == 2
    assert b.functions[0].counters[0] == [i * i * i * 1000003 for i in range(200)]
    assert not b.functions[1].present


def test_a_garbled_line_costs_its_object_only(c_stream):
    lines = c_stream.splitlines()
    assert [o.filename for o in cov.objects_of(lines)] == ["/b/a.c.gcda", "/b/sub/b.c.gcda"]
    last = max(i for i, l in enumerate(lines) if l.startswith("nestbed-gcov "))
    garbled = lines[:last] + [lines[last][:20] + "QL#A" + lines[last][20:]] + lines[last + 1:]
    assert [o.filename for o in cov.objects_of(garbled)] == ["/b/a.c.gcda"]
    # printed twice (a second dump): counted once
    assert len(cov.objects_of(lines + lines)) == 2


def test_decode_rejects_truncated_and_trailing(c_stream):
    data = cov.extract_streams(c_stream.splitlines())[0]
    with pytest.raises(cov.FrameError):
        cov.decode_stream(data[:-1])
    with pytest.raises(cov.FrameError):
        cov.decode_stream(data + b"\0")


def test_merge_adds_runs_and_refuses_another_build(c_stream):
    data = cov.extract_streams(c_stream.splitlines())[0]
    merged = cov.Merged()
    merged.add(cov.decode_stream(data))
    merged.add(cov.decode_stream(data))
    assert merged.runs == 2
    assert merged.objects["/b/a.c.gcda"].functions[0].counters[0] == [0, 2, 600]
    other = cov.decode_stream(data)
    other[0].stamp += 1
    with pytest.raises(cov.FrameError):
        merged.add(other)
    assert merged.runs == 2 and merged.objects["/b/a.c.gcda"].functions[0].counters[0] == [0, 2, 600]


def read_gcda(data: bytes):
    """libgcov's .gcda, read record by record into a GcovObject."""
    magic, version, stamp, checksum = struct.unpack_from("<4I", data, 0)
    assert magic == cov.GCOV_DATA_MAGIC
    pos, functions, runs = 16, [], None
    while pos < len(data):
        (tag,) = struct.unpack_from("<I", data, pos)
        if tag == 0:
            break
        (length,) = struct.unpack_from("<i", data, pos + 4)
        pos += 8
        if tag == cov.GCOV_TAG_OBJECT_SUMMARY:
            runs = struct.unpack_from("<I", data, pos)[0]
        elif tag == cov.GCOV_TAG_FUNCTION:
            functions.append(cov.Function(True, *struct.unpack_from("<3I", data, pos)))
        elif tag == cov.GCOV_TAG_COUNTER_BASE:
            n = abs(length) // 8
            functions[-1].counters[0] = ([0] * n if length < 0 else
                                         list(struct.unpack_from("<%dQ" % n, data, pos)))
            length = max(length, 0)
        pos += length
    return cov.GcovObject("x.gcda", version, stamp, checksum, 1, functions), runs


def test_gcda_writer_matches_libgcov(tmp_path):
    shutil.copy(DATA / "gcov_sample.c", tmp_path / "sample.c")
    subprocess.run(["gcc", "-O0", "--coverage", "sample.c", "-o", "sample"], cwd=tmp_path,
                   check=True)
    subprocess.run(["./sample"], cwd=tmp_path, check=True)
    reference = (tmp_path / "sample.gcda").read_bytes()
    obj, runs = read_gcda(reference)
    assert runs == 1 and len(obj.functions) == 3
    assert any(not any(f.counters[0]) for f in obj.functions)     # never() was not run
    assert any(any(f.counters[0]) for f in obj.functions)
    assert cov.gcda_bytes(obj, 1) == reference


def test_gcda_only_beside_a_gcno_of_the_build(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "a.c.gcno").write_bytes(b"")
    merged = cov.Merged()
    obj = cov.GcovObject(str(tmp_path / "build" / "a.c.gcda"), 0x4232322a, 1, 2, 1,
                         [cov.Function(True, 1, 2, 3, {0: [5]})])
    merged.add([obj])
    assert cov.write_gcda(merged, tmp_path / "build") == [tmp_path / "build" / "a.c.gcda"]
    for forged in (str(tmp_path / "elsewhere.gcda"), str(tmp_path / "build" / "b.c.gcda"),
                   str(tmp_path / "build" / ".." / "a.c.gcda"),
                   str(tmp_path / "build" / "a.c.gcno")):
        m = cov.Merged()
        m.add([cov.GcovObject(forged, 0x4232322a, 1, 2, 1, [])])
        with pytest.raises(cov.FrameError):
            cov.write_gcda(m, tmp_path / "build")


def test_lcov_figures_per_directory():
    text = "\n".join([
        "TN:", "SF:%s/src/nested/svm/nsvm.c" % ROOT, "FN:10,nsvm_vmrun", "FN:20,nsvm_never",
        "FNDA:4,nsvm_vmrun", "FNDA:0,nsvm_never", "DA:10,4", "DA:11,0", "DA:20,0",
        "BRDA:11,0,0,3", "BRDA:11,0,1,-", "end_of_record",
        "SF:%s/src/nested/ept_walk.c" % ROOT, "FN:5,ept_walk", "FNDA:1,ept_walk", "DA:5,1",
        "end_of_record"])
    files = cov.parse_lcov(text)
    s = cov.summarize(files, {}, "v")
    assert s["directories"]["src/nested/svm"]["lines"] == {"hit": 1, "total": 3,
                                                           "percent": 33.3}
    assert s["directories"]["src/nested/svm"]["branches"] == {"hit": 1, "total": 2,
                                                              "percent": 50.0}
    assert s["directories"]["src/nested"]["functions"]["percent"] == 100.0
    assert s["unreached_functions"] == {"src/nested/svm/nsvm.c": ["nsvm_never"]}
    assert s["largest_unreached"] == [{"file": "src/nested/svm/nsvm.c",
                                       "function": "nsvm_never", "line": 20, "lines": 1}]
    assert s["total"]["lines"]["total"] == 4
    assert s["unreached_lines"] == {"src/nested/svm/nsvm.c": [[11, 20]]}


def test_jobs_use_the_coverage_build():
    jobs = {j.name: j for j in cov.jobs_for(Path("/cov/nestbed.elf"))}
    sel = jobs["emulator/selftest/qemu-svm"]
    assert not sel.skip and "/cov/nestbed.elf" in sel.argv and "build/nestbed.elf" not in sel.argv
    assert jobs["emulator/nestbed/conformance/bochs-vmx"].argv[1:3] == ["--nestbed",
                                                                         "/cov/nestbed.elf"]
    assert jobs["emulator/bare/conformance/qemu-svm"].skip
    assert jobs["emulator/selftest/qemu-uefi-svm"].skip      # no nestbed.efi given
    efi = {j.name: j for j in cov.jobs_for(Path("/cov/nestbed.elf"), Path("/cov/nestbed.efi"))}
    assert "/cov/nestbed.efi" in efi["emulator/selftest/qemu-uefi-svm"].argv
    assert efi["emulator/linux/qemu-uefi-svm/nestbed"].argv[1:3] == ["--nestbed",
                                                                     "/cov/nestbed.efi"]
    assert efi["emulator/bare/conformance-efi/qemu-uefi-svm"].skip
    bad = jobs["emulator/bad-input/no-guest"]
    assert bad.outcome_ok(1) and not bad.outcome_ok(0) and not bad.outcome_ok(None)
    assert sel.outcome_ok(0) and not sel.outcome_ok(1) and not sel.outcome_ok(77)
    timeout = jobs["emulator/selftest/qemu-svm"].argv
    assert float(timeout[timeout.index("--timeout") + 1]) == 120


@pytest.mark.emulator
def test_pipeline_on_one_qemu_run(tmp_path):
    """Counters come out of one short QEMU run of the coverage build, a .gcda is written,
    lcov reads it, and functions that ran (the self-tests) show hits."""
    nestbed = COV_BUILD / "nestbed.elf"
    if not nestbed.is_file():
        pytest.fail("%s is missing: make test builds it (make coverage-l0 too)" % nestbed)
    tree = tmp_path / "tree"
    for gcno in (COV_BUILD / "elf").rglob("*.gcno"):
        dest = tree / gcno.relative_to(COV_BUILD)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(gcno, dest)
    out = tmp_path / "coverage.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.coverage_l0", "--nestbed", str(nestbed),
         "--build", str(COV_BUILD), "--gcda-root", str(tree), "--only",
         "emulator/selftest/qemu-svm", "--consoles", str(tmp_path / "consoles"),
         "--out", str(out), "--html", str(tmp_path / "html")],
        cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tree / "elf" / "src" / "core" / "selftest.c.gcda").is_file()
    assert (tmp_path / "html" / "index.html").is_file()
    info = (tree / "lcov.info").read_text()
    files = cov.parse_lcov(info)
    selftest = files["src/core/selftest.c"]
    assert selftest.functions["test_memory_map"] >= 1, selftest.functions
    assert selftest.functions["test_frame_alloc"] >= 1
    summary = json.loads(out.read_text())
    assert summary["runs"]["with_counters"] == 1
    assert summary["runs"]["emulator_runs_merged"] == 1
    assert summary["directories"]["src/core"]["lines"]["hit"] > 100
    # nothing nested runs in a self-test
    assert summary["directories"]["src/nested/svm"]["lines"]["hit"] == 0


def test_exit_grace_waits_for_the_counters(tmp_path):
    """A guest's exit-port line can come before nestbed's counters (Linux echoes it, then
    nestbed ends the run and prints them; on Bochs that takes seconds): the grace after
    exit-port waits for the end line, then runs again."""
    from harness.platforms import Launch
    from harness.runner import Console, execute
    script = ("import sys, time\n"
              "def say(s): sys.stdout.write(s + '\\n'); sys.stdout.flush()\n"
              "say('exit-port: 0'); say('nestbed-gcov-begin 1'); time.sleep(2.5)\n"
              "say('nestbed-gcov-end 0 0 00000000'); time.sleep(60)\n")
    launch = Launch(argv=[sys.executable, "-c", script], cwd=tmp_path, exit_kind="qemu")
    console = Console()
    run = execute(launch, timeout=30, console=console, grace=1.0)
    assert "nestbed-gcov-end 0 0 00000000" in console.lines
    assert run.late and not run.timed_out and 3.0 < run.duration < 10
    assert not console.counters_open
