"""tests/fuzz/guest_images.py: the fuzz seeds it writes are the committed corpus, and the
malformed images it writes are the ones the Makefile builds and the scenarios boot."""

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


images = load("nestbed_guest_images", ROOT / "tests" / "fuzz" / "guest_images.py")
scenarios = load("nestbed_scenarios_images", ROOT / "tests" / "emulator" / "scenarios.py")


def test_committed_corpus_is_the_generators():
    corpus = ROOT / "tests" / "fuzz" / "corpus" / "guest_image"
    committed = {p.name: p.read_bytes() for p in corpus.iterdir()}
    assert committed == images.SEEDS
    assert all(len(data) <= 1024 for data in committed.values())


def test_bad_images_built_and_booted():
    mk = (ROOT / "tests" / "fuzz" / "fuzz.mk").read_text()
    names = re.search(r"BAD_IMAGE_NAMES := ((?:.*\\\n)*.*)", mk).group(1).split()
    names = [n for n in names if n != "\\"]
    assert sorted(names) == sorted(images.BAD_IMAGES)
    booted = [s for s in scenarios.SCENARIOS if s.name.startswith("emulator/bad-input/image/")]
    for name in images.BAD_IMAGES:
        mine = [s for s in booted if s.argv[-1] == "build/tests/bad-images/" + name]
        assert any("qemu-svm" in s.argv for s in mine), name
        for s in mine:
            assert s.expect == "fail" and s.regex.startswith(
                r"^nestbed: guest image " + re.escape(name))


def test_images_are_what_they_claim(tmp_path):
    # the generator writes each file once and leaves unchanged ones alone
    assert images.main(["x", "bad", str(tmp_path)]) == 0
    for name, (data, _) in images.BAD_IMAGES.items():
        assert (tmp_path / name).read_bytes() == data
    stamp = (tmp_path / "mb-wrap.elf").stat().st_mtime_ns
    assert images.main(["x", "bad", str(tmp_path)]) == 0
    assert (tmp_path / "mb-wrap.elf").stat().st_mtime_ns == stamp
    assert images.main(["x"]) == 2
    # the hostile PVH image of issue 11: the second PT_LOAD's paddr + memsz wraps
    import struct
    data = images.BAD_IMAGES["pvh-wrap.elf"][0]
    _, _, off, _, paddr, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", data, 64 + 56)
    assert paddr + memsz > 2 ** 64 and (paddr + memsz) % 2 ** 64 < 0x1004000
