from harness.tap import FAIL, OK, SKIP, TapParser, clean_line, parse


def test_plan_first_all_pass():
    r = parse("TAP version 13\n1..2\nok 1 - a/b\nok 2 - a/c\n")
    assert r.version == 13 and r.plan == 2
    assert [t.name for t in r.tests] == ["a/b", "a/c"]
    assert r.is_ok and len(r.passed) == 2 and not r.failed and not r.problems


def test_plan_last():
    r = parse("ok 1 - x\nok 2 - y\n1..2\n")
    assert r.is_ok and r.plan == 2


def test_failure_with_reason():
    r = parse("1..2\nok 1 - a\nnot ok 2 - vmx/entry/cr0 # expected VMfailValid 7, got 0\n")
    assert not r.is_ok
    [t] = r.failed
    assert t.name == "vmx/entry/cr0" and t.status == FAIL
    assert t.reason == "expected VMfailValid 7, got 0" and t.directive == ""


def test_skip_directive_variants():
    r = parse("1..4\nok 1 - a # SKIP no vGIF\nok 2 - b # skip\nok 3 - c # Skipped:later\n"
              "not ok 4 - d # SKIP not here\n")
    assert [t.status for t in r.tests] == [SKIP] * 4
    assert r.tests[0].reason == "no vGIF" and r.tests[1].reason == ""
    assert r.is_ok and len(r.skipped) == 4


def test_todo_is_not_a_failure():
    r = parse("1..2\nnot ok 1 - a # TODO not written\nok 2 - b # TODO bonus\n")
    assert r.is_ok
    assert [t.status for t in r.tests] == [SKIP, OK]
    assert len(r.todo) == 2 and r.tests[0].reason == "not written"


def test_skip_all_plan():
    r = parse("1..0 # SKIP no SVM on this CPU\n")
    assert r.is_ok and r.plan == 0 and r.plan_reason == "no SVM on this CPU"


def test_bail_out():
    r = parse("1..3\nok 1 - a\nBail out! no VMX\n")
    assert r.bailed_out and r.bail_out == "no VMX" and not r.is_ok
    # a bail out explains the short count: no plan problem on top
    assert not r.problems


def test_interleaved_non_tap_lines():
    text = ("\x1b[2J\x1b[01;01HBdsDxe: loading Boot0002\r\n"
            "nestbed: starting guest conformance.elf\r\n"
            "\rTAP version 13\r\n"
            "ok 1 - svm/cpuid\r\n"
            "nestbed: L1 exit 0x72\r\n"
            "okay this is not TAP\n"
            "some ok 5 text\n"
            "  ok 9 - an indented subtest is ignored\n"
            "1..1\r\n"
            "exit-port: 0\r\n")
    r = parse(text)
    assert r.version == 13
    assert [t.name for t in r.tests] == ["svm/cpuid"]
    assert r.is_ok


def test_missing_plan():
    r = parse("ok 1 - a\nok 2 - b\n")
    assert not r.is_ok and r.plan is None
    assert r.problems == ["no plan (1..N) after 2 tests"]


def test_plan_count_mismatch():
    r = parse("1..3\nok 1 - a\nok 2 - b\n")
    assert r.problems == ["plan 1..3 but 2 tests ran"] and not r.is_ok


def test_duplicate_numbers():
    r = parse("1..2\nok 1 - a\nok 1 - b\n")
    assert "test number 1 used twice" in r.problems and not r.is_ok


def test_out_of_sequence():
    r = parse("1..2\nok 2 - a\nok 1 - b\n")
    assert any("out of sequence" in p for p in r.problems)


def test_numberless_tests_are_numbered():
    r = parse("ok - a\nnot ok - b\nok\n1..3\n")
    assert [t.number for t in r.tests] == [1, 2, 3]
    assert r.tests[2].name == "" and len(r.failed) == 1 and not r.problems


def test_name_without_dash_and_escaped_hash():
    r = parse("1..1\nok 1 svm/a\\#b # SKIP why\n")
    t = r.tests[0]
    assert t.name == "svm/a#b" and t.directive == "SKIP" and t.reason == "why"


def test_second_plan_and_tests_after_trailing_plan():
    r = parse("ok 1 - a\n1..1\nok 2 - b\n1..2\n")
    assert any("after the trailing plan" in p for p in r.problems)
    assert any("second plan" in p for p in r.problems)


def test_comment_lines_belong_to_the_stream_not_a_test():
    # the attribution bug of issue 16: a probe's "#" lines printed before its test line
    # were filed under the previous probe; "#" lines now belong to no test
    r = parse("1..2\n# cost hlt 17\nok 1 - cost/cpuid\n# cost hlt 99\nok 2 - cost/hlt\n")
    assert r.tests[0].diagnostics == [] and r.tests[1].diagnostics == []
    assert r.diagnostics == ["cost hlt 17", "cost hlt 99"] and r.is_ok


GUEST_STREAM = r"""TAP version 13
# nestbed conformance guest; loader 'qemu'
1..3
ok 1 - cost/cpuid
  ---
  diagnostics:
    - "cost cpuid 1200 ticks"
  ...
nestbed: a console line of L0, between the test line and its block
not ok 2 - intercept/invd # exit code: expected 0x76, observed 0x89
nestbed-trace l1 exit 0x89
  ---
  diagnostics:
    - "SVM exit 0x89 \\ \"q\" \u0007"
    - "a documented QEMU deviation: INVD exits as WBINVD"
  exits:
    - "svm:0x76"
  vendor: svm
  ...
ok 3 - cost/hlt # SKIP no HLT
# 1 of 3 failed
"""


def test_yaml_block_is_the_tests_own_evidence():
    r = parse(GUEST_STREAM)
    assert not r.problems
    cpuid, invd, hlt = r.tests
    assert cpuid.diagnostics == ["cost cpuid 1200 ticks"]
    assert invd.diagnostics == ['SVM exit 0x89 \\ "q" \x07',
                                "a documented QEMU deviation: INVD exits as WBINVD"]
    assert invd.yaml["exits"] == ["svm:0x76"] and invd.yaml["vendor"] == "svm"
    assert hlt.diagnostics == [] and hlt.yaml == {}
    assert r.diagnostics == ["nestbed conformance guest; loader 'qemu'", "1 of 3 failed"]


def test_the_guest_library_writes_what_the_parser_reads():
    # guests/lib/tap.c's quoting (JSON escapes, \u00XX for control bytes) read back
    text = '1..1\nok 1 - a\n  ---\n  diagnostics:\n    - "tab\\u0009 \\"x\\" \\\\ \\u007f"\n  ...\n'
    r = parse(text)
    assert not r.problems and r.tests[0].diagnostics == ['tab\t "x" \\ \x7f']


def test_yaml_block_without_a_test_line():
    r = parse("1..1\n# header\n  ---\n  diagnostics:\n    - x\n  ...\nok 1 - a\n")
    assert r.tests[0].diagnostics == []
    assert any("follows no test line" in p for p in r.problems) and not r.is_ok


def test_yaml_block_after_a_comment_line_is_not_the_tests():
    r = parse("1..1\nok 1 - a\n# stream\n  ---\n  diagnostics:\n    - x\n  ...\n")
    assert r.tests[0].diagnostics == [] and any("follows no test" in p for p in r.problems)


def test_second_yaml_block_for_one_test():
    r = parse("1..1\nok 1 - a\n  ---\n  diagnostics:\n    - x\n  ...\n"
              "  ---\n  diagnostics:\n    - y\n  ...\n")
    assert any("follows no test line" in p or "second YAML block" in p for p in r.problems)
    assert r.tests[0].diagnostics == ["x"]


def test_yaml_block_left_open():
    r = parse("1..2\nok 1 - a\n  ---\n  diagnostics:\n    - x\nok 2 - b\n")
    assert any("not closed" in p for p in r.problems)
    assert [t.name for t in r.tests] == ["a", "b"] and r.tests[0].diagnostics == ["x"]
    r = parse("1..1\nok 1 - a\n  ---\n  diagnostics:\n    - x\n")
    assert any("not closed" in p for p in r.problems)


def test_yaml_outside_the_subset_is_a_problem():
    for body in ("  diagnostics:\n    - {a: 1}\n", "  - x\n", "  key: 'single'\n",
                 "  a: \"unterminated\n",
                 "  a: 1\n  a: 2\n"):
        r = parse("1..1\nok 1 - a\n  ---\n" + body + "  ...\n")
        assert any("not the YAML" in p for p in r.problems), body


def test_cmocka_comments_follow_their_test():
    r = parse("1..2\nok 1 - b\nnot ok 2 - a\n# 0x1 != 0x2\n# t.c:6: error: Failure!\n",
              comments="after")
    assert r.tests[0].diagnostics == []
    assert r.tests[1].diagnostics == ["0x1 != 0x2", "t.c:6: error: Failure!"]


def test_streaming_feed_returns_tests():
    p = TapParser()
    assert p.feed("TAP version 13") is None
    t = p.feed("ok 1 - a")
    assert t is not None and t.name == "a"
    assert p.feed("nestbed: hello") is None
    r = p.finish()
    assert r.problems == ["no plan (1..N) after 1 test"]
    assert p.finish() is r and len(r.problems) == 1   # idempotent


def test_cmocka_style():
    r = parse("1..3\nok 1 - test_integers\nok 2 - test_strings\n"
              "not ok 3 - test_truncation\n# ok - format\n")
    assert [t.name for t in r.failed] == ["test_truncation"]


def test_clean_line():
    assert clean_line("\x1b[0m\x1b[30m\x1b[47mWelcome\r\n") == "Welcome"
    assert clean_line("\x1b[=3h\rok 1") == "ok 1"


def test_summary():
    r = parse("1..3\nok 1\nnot ok 2\nok 3 # SKIP\n")
    assert r.summary() == "1 passed, 1 failed, 1 skipped"


def test_skip_reason_forms():
    r = parse("1..3\nok 1 - c # Skipped: later\nok 2 # SKIP:now\nok 3 # skipper\n")
    assert [t.reason for t in r.tests] == ["later", "now", ""]
    assert all(t.status == SKIP for t in r.tests)


def test_plain_comment_on_passing_test_is_its_reason():
    r = parse("1..1\nok 1 - a # took 3 ms\n")
    assert r.tests[0].status == OK and r.tests[0].reason == "took 3 ms"
