"""Shared fixtures for the harness tests: the repository on sys.path, the tiny test
kernel (nasm) and the tiny EFI application (gnu-efi), built once per session."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EFI_INC = Path("/usr/include/efi")
EFI_LDS = Path("/usr/lib/elf_x86_64_efi.lds")
EFI_CRT0 = Path("/usr/lib/crt0-efi-x86_64.o")


def pytest_configure(config):
    config.addinivalue_line("markers", "emulator: boots a real emulator (skipped when "
                            "NESTBED_NO_EMULATOR is set)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NESTBED_NO_EMULATOR"):
        skip = pytest.mark.skip(reason="NESTBED_NO_EMULATOR is set")
        for item in items:
            if "emulator" in item.keywords:
                item.add_marker(skip)


def _build(argv, what):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)
    if proc.returncode != 0:
        pytest.fail("%s: %s" % (what, proc.stdout.decode(errors="replace")))


@pytest.fixture(scope="session")
def testkernel(tmp_path_factory):
    """tests/harness/data/testkernel.asm as a flat Multiboot binary."""
    if not shutil.which("nasm"):
        pytest.skip("nasm is not installed")
    out = tmp_path_factory.mktemp("kernel") / "testkernel.bin"
    _build(["nasm", "-f", "bin", "-o", str(out), str(DATA / "testkernel.asm")], "nasm")
    return out


@pytest.fixture(scope="session")
def testapp(tmp_path_factory):
    """tests/harness/data/testapp.c as an EFI application (skipped without gnu-efi)."""
    if not (EFI_INC.is_dir() and EFI_LDS.is_file() and EFI_CRT0.is_file()):
        pytest.skip("gnu-efi is not installed")
    d = tmp_path_factory.mktemp("efi")
    _build(["gcc", "-std=c11", "-O2", "-ffreestanding", "-fno-stack-protector", "-fpic",
            "-fshort-wchar", "-mno-red-zone", "-DGNU_EFI_USE_MS_ABI", "-I", str(EFI_INC),
            "-I", str(EFI_INC / "x86_64"), "-c", str(DATA / "testapp.c"),
            "-o", str(d / "app.o")], "gcc")
    _build(["ld", "-nostdlib", "-znocombreloc", "-shared", "-Bsymbolic", "-T", str(EFI_LDS),
            str(EFI_CRT0), str(d / "app.o"), "-o", str(d / "app.so"), "-L/usr/lib",
            "-lefi", "-lgnuefi"], "ld")
    _build(["objcopy", "-j", ".text", "-j", ".sdata", "-j", ".data", "-j", ".dynamic",
            "-j", ".dynsym", "-j", ".rel", "-j", ".rela", "-j", ".rel.*", "-j", ".rela.*",
            "-j", ".reloc", "--target", "efi-app-x86_64", "--subsystem=10",
            str(d / "app.so"), str(d / "testapp.efi")], "objcopy")
    return d / "testapp.efi"
