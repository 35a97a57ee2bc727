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

A test's own evidence is the TAP 13 YAML block right after its test line (the conformance
guest's protocol, guests/lib/tap.h):

    not ok 4 - intercept/invd # exit code: expected 0x76, observed 0x89
      ---
      diagnostics:
        - "SVM exit 0x89 info1 0 info2 0"
      exits:
        - "svm:0x76"
      ...

A "# ..." line is the stream's (result.diagnostics), never a test's: printed before a test
line it cannot be told from the previous test's evidence, so the parser attaches it to
none (comments="stream", the default). cmocka and Test::More write a failure's messages as
"# ..." lines after its test line; comments="after" reads that convention instead (and no
YAML). The parser is strict about blocks: a block that does not follow a test line, a
second block for one test, a block left open, or a line in it that is not the YAML subset
below is a problem (result.problems). The subset: "key: scalar", or "key:" followed by
"- scalar" items; a scalar is a JSON double-quoted string or plain text. Lines that are
not indented and not TAP (the console of nestbed or the firmware) may come between a test
line and its block, and inside it; they are ignored as everywhere else.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

OK, FAIL, SKIP = "ok", "fail", "skip"

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
_VERSION = re.compile(r"^TAP version (\d+)\s*$", re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*?))?\s*$")
_TEST = re.compile(r"^(not ok|ok)(?=\s|$)\s*(\d+)?\s*(.*)$")
_BAIL = re.compile(r"^Bail out!\s*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^(skip|todo)\w*(?::\s*|\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)
_UNESCAPED_HASH = re.compile(r"(?<!\\)#")
_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*):(?:\s+(.*))?$")
_YAML_ITEM = re.compile(r"^-\s+(.*)$")


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
    diagnostics: List[str] = field(default_factory=list)  # its YAML block's diagnostics
    line: int = 0                 # 1-based line number in the input
    yaml: Dict[str, Union[str, List[str]]] = field(default_factory=dict)  # the whole block

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
    diagnostics: List[str] = field(default_factory=list)  # the stream's "# ..." lines

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


def _yaml_scalar(text: str) -> Optional[str]:
    """A JSON double-quoted string or plain text; None when it is neither."""
    text = text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, str) else None
    if not text or text[0] in "'[{&*!|>%@`":
        return None    # YAML this parser does not read
    return text


class TapParser:
    """Incremental TAP 13 parser: feed() lines, then finish().

    comments="stream" (default): "# ..." lines are the stream's (result.diagnostics) and a
    test's diagnostics come from its YAML block only. comments="after": "# ..." lines after
    a test line are its diagnostics (cmocka's output); no YAML blocks."""

    def __init__(self, comments: str = "stream"):
        if comments not in ("stream", "after"):
            raise ValueError("comments must be 'stream' or 'after', not %r" % comments)
        self.comments = comments
        self.result = TapResult()
        self._lines = 0
        self._numbers = set()
        self._plan_line = 0            # line of the plan, 0 when none yet
        self._plan_after_tests = False
        self._block_for: Optional[TapTest] = None   # the test whose block may open next
        self._in_yaml: Optional[TapTest] = None     # the test whose block is open
        self._yaml_indent = ""
        self._yaml_key: Optional[str] = None        # the list key items go to
        self._yaml_line = 0
        self._finished = False

    def feed(self, raw_line: str) -> Optional[TapTest]:
        """Parses one line; returns the test when the line is a test line."""
        self._lines += 1
        line = clean_line(raw_line)
        res = self.result
        last = res.tests[-1] if res.tests else None

        if self._in_yaml is not None:
            if line.startswith(self._yaml_indent) and line.strip():
                self._yaml(line)
                return None
            if not line or line[0] in " \t" or not self._is_tap(line):
                return None           # console noise inside the block
            self._problem("the YAML block of test %d (line %d) is not closed by '...' "
                          "before line %d" % (self._in_yaml.number, self._yaml_line,
                                              self._lines))
            self._in_yaml = None
        if not line:
            return None
        if line[0] in " \t":
            if line.strip() == "---" and self.comments == "stream":
                self._open_yaml(line)
            return None      # indented: a subtest or console noise

        if line.startswith("#"):
            text = line[1:].strip()
            if self.comments == "after":
                if last is not None and not self._plan_after_tests:
                    last.diagnostics.append(text)
            else:
                res.diagnostics.append(text)
            self._block_for = None
            return None

        if not self._is_tap(line):
            return None      # not TAP: ignored (it may come between a test and its block)
        self._block_for = None

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
        self._block_for = test
        return test

    @staticmethod
    def _is_tap(line: str) -> bool:
        return bool(line.startswith("#") or _VERSION.match(line) or _PLAN.match(line)
                    or _BAIL.match(line) or _TEST.match(line))

    def _open_yaml(self, line: str) -> None:
        test = self._block_for
        self._block_for = None
        if test is None:
            self._problem("a YAML block at line %d follows no test line" % self._lines)
            test = TapTest(number=0, ok=True, name="")    # read and dropped
        elif test.yaml or test.diagnostics:
            self._problem("a second YAML block for test %d at line %d" % (
                test.number, self._lines))
        self._in_yaml = test
        self._yaml_indent = line[:len(line) - len(line.lstrip())]
        self._yaml_key = None
        self._yaml_line = self._lines

    def _yaml(self, line: str) -> None:
        test = self._in_yaml
        body = line[len(self._yaml_indent):]
        if body.rstrip() == "...":
            self._in_yaml = None
            return
        item = _YAML_ITEM.match(body.strip())
        if body[:1] in " \t" and item and self._yaml_key is not None:
            value = _yaml_scalar(item.group(1))
            if value is not None:
                test.yaml[self._yaml_key].append(value)
                if self._yaml_key == "diagnostics":
                    test.diagnostics.append(value)
                return
        key = _YAML_KEY.match(body)
        if key and key.group(1) not in test.yaml:
            if key.group(2) is None:
                test.yaml[key.group(1)] = []
                self._yaml_key = key.group(1)
                return
            value = _yaml_scalar(key.group(2))
            if value is not None:
                test.yaml[key.group(1)] = value
                self._yaml_key = None
                if key.group(1) == "diagnostics":
                    test.diagnostics.append(value)
                return
        self._problem("line %d of the YAML block of test %d is not the YAML this parser "
                      "reads: %r" % (self._lines, test.number, body.strip()[:80]))

    def feed_text(self, text: str) -> None:
        for line in text.splitlines():
            self.feed(line)

    def finish(self) -> TapResult:
        """Checks the plan against the tests seen; idempotent."""
        if not self._finished:
            self._finished = True
            res = self.result
            if self._in_yaml is not None:
                self._problem("the YAML block of test %d (line %d) is not closed by '...'"
                              % (self._in_yaml.number, self._yaml_line))
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


def parse(text: str, comments: str = "stream") -> TapResult:
    """Parses a whole console text (comments: see TapParser)."""
    parser = TapParser(comments)
    parser.feed_text(text)
    return parser.finish()
