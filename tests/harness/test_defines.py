"""Each C macro is defined once in src/ (tests/check_defines.py): the x86 architectural
constants in src/core/x86.h, the rest in the header of the module that owns them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(ROOT / "tests"))
import check_defines  # noqa: E402


def test_src_defines_each_macro_once():
    dups = check_defines.duplicates(check_defines.definitions(ROOT / "src"))
    assert not dups, "\n".join("%s: %s" % (name, ", ".join("%s:%d" % p for p in places))
                               for name, places in sorted(dups.items()))


def test_finds_a_macro_defined_in_two_files(tmp_path):
    src = tmp_path / "src"
    (src / "core").mkdir(parents=True)
    (src / "svm").mkdir()
    (src / "core" / "x86.h").write_text("#define RFLAGS_IF (1ull << 9)\n#define ONLY_HERE 1\n")
    (src / "svm" / "a.c").write_text("#include \"core/x86.h\"\n  #  define RFLAGS_IF (1ull << 9)\n")
    (src / "svm" / "b.h").write_text("#define TWICE_IN_ONE 1\n#undef TWICE_IN_ONE\n"
                                     "#define TWICE_IN_ONE 2\n#define F(x) (x)\n")
    (src / "svm" / "c.c").write_text("#define F(y) (y)\n")
    (src / "svm" / "notes.txt").write_text("#define RFLAGS_IF 1\n")
    dups = check_defines.duplicates(check_defines.definitions(src), allowed={})
    assert sorted(dups) == ["F", "RFLAGS_IF"]
    assert [p for p, _ in dups["RFLAGS_IF"]] == ["src/core/x86.h", "src/svm/a.c"]
    assert dups["RFLAGS_IF"][1][1] == 2


def test_allowed_only_in_exactly_its_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.c", "b.c", "c.c"):
        (src / name).write_text("#define ENTRIES 512\n")
    allowed = {"ENTRIES": {"src/a.c", "src/b.c"}}
    assert "ENTRIES" in check_defines.duplicates(check_defines.definitions(src), allowed)
    (src / "c.c").unlink()
    assert not check_defines.duplicates(check_defines.definitions(src), allowed)


def test_script_exit_status(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.h").write_text("#define X 1\n")
    script = ROOT / "tests" / "check_defines.py"
    ok = subprocess.run([sys.executable, str(script), str(src)], capture_output=True, text=True)
    assert ok.returncode == 0 and "no macro defined more than once" in ok.stdout
    (src / "b.c").write_text("#define X 1\n")
    bad = subprocess.run([sys.executable, str(script), str(src)], capture_output=True, text=True)
    assert bad.returncode == 1 and "X defined in 2 places" in bad.stdout
