import io

from harness.runner import AnsiFilter, Console, decide, expected_qemu_status
from harness.tap import parse

GOOD = parse("1..2\nok 1 - a\nok 2 - b # SKIP no\n")
FAILED = parse("1..3\nok 1 - a\nnot ok 2 - b # x\nnot ok 3 - c\n")


def qemu(tap, code, status, **kw):
    return decide(tap, code, status, False, 60, "qemu", **kw)


def test_pass_qemu():
    assert qemu(GOOD, 0, 1) == (True, "")


def test_pass_bochs_after_shutdown():
    ok, why = decide(GOOD, 0, 1, False, 60, "bochs",
                     stop_reason="bochs: Shutdown port: shutdown requested")
    assert ok and why == ""


def test_tap_failures_listed():
    ok, why = qemu(FAILED, 1, 3)
    assert not ok
    assert why == "2 of 3 TAP tests failed: b, c; exit-port code 1"


def test_many_failure_names_are_cut():
    tap = parse("1..7\n" + "".join("not ok %d - t%d\n" % (i, i) for i in range(1, 8)))
    ok, why = qemu(tap, 1, 3)
    assert "t1, t2, t3, t4, t5, ... (2 more)" in why


def test_exit_code_nonzero_without_tap_failure():
    ok, why = qemu(GOOD, 2, 5)
    assert not ok and why == "exit-port code 2"


def test_qemu_status_inconsistent():
    ok, why = qemu(GOOD, 0, 3)
    assert not ok
    assert why == "exit-port code 0 on the console but emulator exit status 3 (expected 1)"


def test_timeout():
    ok, why = decide(parse("TAP version 13\n"), None, -9, True, 5, "qemu", hint="# spinning")
    assert not ok and why == "timeout after 5s (console: # spinning)"


def test_crash_before_exit_port():
    ok, why = qemu(parse("ok 1 - a\n"), None, 0, hint="ok 1 - a")
    assert not ok
    assert why == "emulator exited with status 0 before exit-port (console: ok 1 - a)"
    # an unfinished run: no complaint about the missing plan on top
    assert "plan" not in why


def test_bochs_panic_after_exit_line():
    ok, why = decide(GOOD, 0, 1, False, 60, "bochs",
                     stop_reason="bochs: exception(): 3rd (13) exception with no resolution")
    assert not ok and "Bochs stopped on: bochs: exception()" in why


def test_bochs_crash_reason():
    ok, why = decide(parse(""), None, 1, False, 60, "bochs",
                     stop_reason="bochs: exception(): 3rd (13)", hint="# cmdline: x")
    assert why == ("emulator exited with status 1 before exit-port "
                   "(bochs: exception(): 3rd (13); console: # cmdline: x)")


def test_late_stop():
    ok, why = decide(GOOD, 0, -9, False, 60, "bochs", late=True)
    assert not ok and "did not stop within" in why


def test_bail_out_and_missing_plan():
    ok, why = qemu(parse("ok 1 - a\nBail out! no SVM\n"), 2, 5)
    assert why == "Bail out! no SVM; exit-port code 2"
    ok, why = qemu(parse("ok 1 - a\n"), 0, 1)
    assert not ok and why == "TAP: no plan (1..N) after 1 test"


def test_todo_does_not_fail():
    assert qemu(parse("1..1\nnot ok 1 - a # TODO later\n"), 0, 1) == (True, "")


def test_expected_qemu_status():
    assert [expected_qemu_status(c) for c in (0, 1, 2)] == [1, 3, 5]


def test_ansi_filter_across_chunks():
    f = AnsiFilter()
    out = f.feed(b"a\x1b[0") + f.feed(b"1;01Hb\x1b") + f.feed(b"[=3hc")
    assert out == b"abc"


def test_console_lines_exit_port_and_stream():
    stream, log, seen = io.BytesIO(), io.BytesIO(), []
    c = Console(stream=stream, log=log, on_line=lambda line, test: seen.append((line, test)))
    c.feed(b"\x1b[2JTAP version 13\r\nok 1 - a")
    c.feed(b"/b\r\n1..1\r\nexit-port: 0\r\npartial")
    assert c.exit_code == 0
    tap = c.close()
    assert tap.is_ok and tap.tests[0].name == "a/b"
    assert stream.getvalue() == b"TAP version 13\r\nok 1 - a/b\r\n1..1\r\nexit-port: 0\r\npartial\n"
    assert log.getvalue() == stream.getvalue()
    assert [l for l, _ in seen] == ["TAP version 13", "ok 1 - a/b", "1..1", "exit-port: 0",
                                    "partial"]
    assert seen[1][1] is not None and seen[0][1] is None


def test_console_last_exit_line_wins_and_hint():
    c = Console()
    c.feed(b"exit-port: 0\nnestbed: guest asked to stop\nexit-port: 1\n")
    assert c.exit_code == 1
    assert c.hint() == "nestbed: guest asked to stop"


def test_error_before_any_tap():
    hint = "nestbed: bad command line: unknown option '--x'"
    ok, why = qemu(parse("nestbed 1.0\n%s\nexit-port: 2\n" % hint), 2, 5, hint=hint)
    assert not ok and why == "exit-port code 2 (console: %s)" % hint


def test_no_tap_at_all_is_a_failure():
    ok, why = qemu(parse("hello\nexit-port: 0\n"), 0, 1, hint="hello")
    assert not ok and why == "no TAP output"


def test_console_hint_prefers_grub_error():
    c = Console()
    c.feed(b"error: no suitable video mode found.\nerror: unsupported flag: 0x18003.\n"
           b"error: you need to load the kernel first.\ngrub: could not boot /boot/k\n")
    assert c.hint() == "error: unsupported flag: 0x18003."


def test_prune_runs(tmp_path):
    import os
    import time
    from harness.runner import prune_runs
    old = time.time() - 7200
    for i in range(5):
        d = tmp_path / ("run-%d" % i)
        d.mkdir()
        (d / "f").write_text("x")
        os.utime(d, (old + i, old + i))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    prune_runs(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "run-4"]
    prune_runs(tmp_path, keep=0)          # never a recent (maybe running) one
    assert [p.name for p in tmp_path.iterdir()] == ["fresh"]
