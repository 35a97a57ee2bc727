#!/usr/bin/python3
"""Fails when a C macro is defined in more than one file of src/ (DESIGN.md: a constant is
defined once; the x86 architectural ones in src/core/x86.h, the rest in the one header of
the module that owns them).

    python3 tests/check_defines.py [SRC_DIR]

Prints each macro defined in two or more files with every place, and exits 1; exits 0
when there is none. A macro defined twice in one file (#if / #else) is one definition.
tests/harness/test_defines.py runs it in `make test`.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")

# Duplicates another branch removes, each with the reason; it stays allowed only while it
# is still defined in exactly these files (then the merge that removes it removes the line).
ALLOWED = {
    # core/paging.c and vmx/vmx_ept.c build their tables separately until the one paging
    # engine (branch paging-engine, core/tdp.c) replaces both; their ENTRIES/LEVEL_SHIFT
    # go with them.
    "ENTRIES": {"src/core/paging.c", "src/vmx/vmx_ept.c"},
    "LEVEL_SHIFT": {"src/core/paging.c", "src/vmx/vmx_ept.c"},
}


def definitions(src):
    """{macro: sorted [(path, line)]} for every #define in src's .c and .h files."""
    found = defaultdict(list)
    root = Path(src)
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".c", ".h") or not path.is_file():
            continue
        rel = path.as_posix() if not root.is_absolute() else path.relative_to(root.parent).as_posix()
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = DEFINE.match(line)
                if m:
                    found[m.group(1)].append((rel, number))
    return found


def duplicates(found, allowed=None):
    """{macro: places} for the macros defined in more than one file, less the allowed
    ones (those defined in exactly the allowed files)."""
    allowed = ALLOWED if allowed is None else allowed
    dups = {}
    for name, places in found.items():
        files = {p for p, _ in places}
        if len(files) > 1 and allowed.get(name) != files:
            dups[name] = places
    return dups


def main(argv):
    src = argv[1] if len(argv) > 1 else "src"
    dups = duplicates(definitions(src))
    for name in sorted(dups):
        print("%s defined in %d places: %s" % (name, len(dups[name]), ", ".join(
            "%s:%d" % place for place in dups[name])))
    if dups:
        print("%d macros defined more than once in %s: define each once (src/core/x86.h "
              "for x86 architectural constants) and include it" % (len(dups), src))
        return 1
    print("no macro defined more than once in %s" % src)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
