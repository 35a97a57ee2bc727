"""TAP version 13 parser (pure: no I/O).

A console mixes TAP with other lines (firmware, GRUB, "nestbed: ..." messages); every line
that is not TAP is ignored. Lines may carry carriage returns and ANSI escape sequences
(OVMF and GRUB write them to the serial console); clean_line() removes both.

    ok 3 - svm/intercept/cpuid
    not ok 4 - vmx/entry/bad-cr0 # expected VMfailValid 7, got 0
    ok 5 - svm/vgif # SKIP the platform has no vGIF
    not ok 6 - svm/lbr # TODO not written yet
    1..6
    Bail out! no SVM

Use TapParser for streaming (feed() one line at a time, finish() at the end) or parse()
for a whole text.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

OK, FAIL, SKIP = "ok", "fail", "skip"

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
_VERSION = re.compile(r"^TAP version (\d+)\s*$", re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*?))?\s*$")
_TEST = re.compile(r"^(not ok|ok)(?=\s|$)\s*(\d+)?\s*(.*)$")
_BAIL = re.compile(r"^Bail out!\s*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^(skip|todo)\w*(?::\s*|\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)
_UNESCAPED_HASH = re.compile(r"(?<!\\)#")


def clean_line(line: str) -> str:
    """The line without ANSI escape sequences, carriage returns and trailing blanks."""
    return _ANSI.sub("", line).replace("\r", "").rstrip()


@dataclass
class TapTest:
    number: int
    ok: bool                      # the "ok" / "not ok" word as written
    name: str
    directive: str = ""           # "", "SKIP" or "TODO"
    reason: str = ""              # directive text, or the "# comment" of a plain test
    diagnostics: List[str] = field(default_factory=list)
    line: int = 0                 # 1-based line number in the input

    @property
    def status(self) -> str:
        """ok, fail or skip. A TODO test never fails: "not ok # TODO" is a skip."""
        if self.directive == "SKIP":
            return SKIP
        if self.directive == "TODO":
            return OK if self.ok else SKIP
        return OK if self.ok else FAIL

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass
class TapResult:
    version: Optional[int] = None
    plan: Optional[int] = None            # N of "1..N"
    plan_reason: str = ""                 # "1..0 # SKIP reason"
    tests: List[TapTest] = field(default_factory=list)
    bail_out: Optional[str] = None        # the reason, "" when none was given
    problems: List[str] = field(default_factory=list)  # malformed-stream findings

    @property
    def passed(self) -> List[TapTest]:
        return [t for t in self.tests if t.status == OK]

    @property
    def failed(self) -> List[TapTest]:
        return [t for t in self.tests if t.status == FAIL]

    @property
    def skipped(self) -> List[TapTest]:
        return [t for t in self.tests if t.status == SKIP]

    @property
    def todo(self) -> List[TapTest]:
        return [t for t in self.tests if t.directive == "TODO"]

    @property
    def bailed_out(self) -> bool:
        return self.bail_out is not None

    @property
    def is_ok(self) -> bool:
        """No failure, no bail out, and a well-formed stream with a matching plan."""
        return not self.failed and not self.bailed_out and not self.problems

    def summary(self) -> str:
        return "%d passed, %d failed, %d skipped" % (
            len(self.passed), len(self.failed), len(self.skipped))


def _split_description(text: str):
    """'- name # directive' -> (name, directive, reason)."""
    match = _UNESCAPED_HASH.search(text)
    if match:
        desc, comment = text[:match.start()], text[match.end():].strip()
    else:
        desc, comment = text, ""
    desc = desc.strip()
    if desc.startswith("-"):
        desc = desc[1:].strip()
    desc = desc.replace("\\#", "#")
    directive = _DIRECTIVE.match(comment)
    if directive:
        return desc, directive.group(1).upper(), (directive.group(2) or "").strip()
    return desc, "", comment


class TapParser:
    """Incremental TAP 13 parser: feed() lines, then finish()."""

    def __init__(self):
        self.result = TapResult()
        self._lines = 0
        self._numbers = set()
        self._plan_line = 0            # line of the plan, 0 when none yet
        self._plan_after_tests = False
        self._in_yaml = False
        self._finished = False

    def feed(self, raw_line: str) -> Optional[TapTest]:
        """Parses one line; returns the test when the line is a test line."""
        self._lines += 1
        line = clean_line(raw_line)
        res = self.result
        last = res.tests[-1] if res.tests else None

        if self._in_yaml:
            if line.strip() == "...":
                self._in_yaml = False
            elif last is not None:
                last.diagnostics.append(line.strip())
            return None
        if not line:
            return None
        if line[0] in " \t":
            stripped = line.strip()
            if stripped == "---" and last is not None and not self._plan_after_tests:
                self._in_yaml = True
            elif stripped.startswith("#") and last is not None:
                last.diagnostics.append(stripped[1:].strip())
            return None      # indented: a subtest or console noise

        if line.startswith("#"):
            if last is not None and not self._plan_after_tests:
                last.diagnostics.append(line[1:].strip())
            return None

        match = _VERSION.match(line)
        if match:
            if res.version is None and not res.tests and not self._plan_line:
                res.version = int(match.group(1))
            else:
                self._problem("a second 'TAP version' line at line %d" % self._lines)
            return None

        match = _PLAN.match(line)
        if match:
            if self._plan_line:
                self._problem("a second plan at line %d" % self._lines)
                return None
            res.plan = int(match.group(1))
            reason = (match.group(2) or "").strip()
            directive = _DIRECTIVE.match(reason)
            res.plan_reason = (directive.group(2) or "").strip() if directive else reason
            self._plan_line = self._lines
            self._plan_after_tests = bool(res.tests)
            return None

        match = _BAIL.match(line)
        if match:
            if res.bail_out is None:
                res.bail_out = match.group(1)
            return None

        match = _TEST.match(line)
        if not match:
            return None          # not TAP: ignored
        if self._plan_after_tests:
            self._problem("test line after the trailing plan at line %d" % self._lines)
        number = int(match.group(2)) if match.group(2) else len(res.tests) + 1
        expected = len(res.tests) + 1
        if number in self._numbers:
            self._problem("test number %d used twice" % number)
        elif number != expected:
            self._problem("test number %d out of sequence (expected %d)" % (number, expected))
        self._numbers.add(number)
        name, directive, reason = _split_description(match.group(3))
        test = TapTest(number=number, ok=match.group(1) == "ok", name=name,
                       directive=directive, reason=reason, line=self._lines)
        res.tests.append(test)
        return test

    def feed_text(self, text: str) -> None:
        for line in text.splitlines():
            self.feed(line)

    def finish(self) -> TapResult:
        """Checks the plan against the tests seen; idempotent."""
        if not self._finished:
            self._finished = True
            res = self.result
            if res.plan is None:
                self._problem("no plan (1..N) after %d test%s" % (
                    len(res.tests), "" if len(res.tests) == 1 else "s"))
            elif res.plan != len(res.tests) and not res.bailed_out:
                self._problem("plan 1..%d but %d test%s ran" % (
                    res.plan, len(res.tests), "" if len(res.tests) == 1 else "s"))
        return self.result

    def _problem(self, text: str) -> None:
        if text not in self.result.problems:
            self.result.problems.append(text)


def parse(text: str) -> TapResult:
    """Parses a whole console text."""
    parser = TapParser()
    parser.feed_text(text)
    return parser.finish()
