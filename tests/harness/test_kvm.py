"""`python3 -m harness kvm`: the L1 command line, the run specification, the emulator
command lines built from it, the subcommand's wiring (no emulator), and
scripts/make-kvm-initramfs on a fake modules tree."""

import lzma
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, HarnessError
from harness import __main__ as cli_main
from harness import kvm
from harness.__main__ import build_parser
from harness.linux import CMDLINE
from harness.platforms import BochsSvm, QemuSvm, grub_linux_cfg

ROOT = Path(__file__).resolve().parents[2]


def which(name):
    return "/usr/bin/" + name


@pytest.fixture
def linux_dir(tmp_path, monkeypatch):
    """A fake downloads/linux with both kernel files."""
    d = tmp_path / "linux"
    d.mkdir()
    (d / "vmlinux").write_bytes(b"\x7fELF")
    (d / "vmlinuz").write_bytes(b"MZ")
    monkeypatch.setattr(kvm, "LINUX_DIR", d)
    return d


# ---------------------------------------------------------------------------- options

def test_parser_defaults():
    opts = build_parser().parse_args(["kvm", "--platform", "qemu-svm"])
    assert opts.command == "kvm" and not opts.bare and opts.l1_args == ""
    assert opts.memory == 1024 and opts.timeout is None and opts.loops is None
    assert opts.nestbed is None and opts.nestbed_args == "" and opts.vcpus is None


def test_parser_all_options():
    opts = build_parser().parse_args([
        "kvm", "--platform", "bochs-svm", "--bare", "--l1-args", "kvm_amd.npt=0 kvm.x=1",
        "--timeout", "30", "--memory", "512", "--loops", "50", "--keep", "--vcpus", "2"])
    assert opts.bare and opts.l1_args == "kvm_amd.npt=0 kvm.x=1" and opts.timeout == 30
    assert opts.memory == 512 and opts.loops == 50 and opts.keep and opts.vcpus == 2


def test_parser_nestbed_path():
    opts = build_parser().parse_args(["kvm", "--platform", "qemu-svm", "--nestbed",
                                      "build/nb/nestbed.elf"])
    assert opts.nestbed == Path("build/nb/nestbed.elf")


# ---------------------------------------------------------------------------- L1 cmdline

def test_l1_cmdline_is_the_linux_one_by_default():
    assert kvm.l1_cmdline() == CMDLINE.split()


def test_l1_cmdline_appends_the_words_and_the_loops():
    args = kvm.l1_cmdline("kvm_amd.npt=0  kvm_amd.nested=1", 100)
    assert args[:len(CMDLINE.split())] == CMDLINE.split()
    assert args[-3:] == ["kvm_amd.npt=0", "kvm_amd.nested=1", "kvm_l2_runner.loops=100"]


@pytest.mark.parametrize("bad", ["kvm_amd.npt='0", "a\\b", "'a b'"])
def test_l1_cmdline_refuses_quotes(bad):
    with pytest.raises(HarnessError, match="--l1-args"):
        kvm.l1_cmdline(bad)


def test_l1_cmdline_refuses_zero_loops():
    with pytest.raises(HarnessError, match="--loops must be at least 1"):
        kvm.l1_cmdline("", 0)


def test_l1_cmdline_one_vcpu_asks_for_no_pinning():
    assert kvm.l1_cmdline("", None, 1) == CMDLINE.split() + ["kvm_l2.vcpus=1"]


def test_l1_cmdline_several_vcpus_are_pinned_after_the_users_words():
    args = kvm.l1_cmdline("kvm_amd.npt=0", 5, 2)
    assert args[len(CMDLINE.split()):] == ["kvm_amd.npt=0", "kvm_l2_runner.loops=5",
                                           "kvm_l2.vcpus=2", "kvm_l2.pin=1"]


def test_l1_cmdline_the_users_pin_word_wins():
    args = kvm.l1_cmdline("kvm_l2.pin=0", None, 2)
    assert args[len(CMDLINE.split()):] == ["kvm_l2.pin=0", "kvm_l2.vcpus=2"]


@pytest.mark.parametrize("bad", [0, -1, kvm.MAX_VCPUS + 1])
def test_l1_cmdline_refuses_a_bad_vcpu_count(bad):
    with pytest.raises(HarnessError, match="--vcpus must be 1 to 8, not %d" % bad):
        kvm.l1_cmdline("", None, bad)


def test_max_vcpus_is_the_runners():
    src = (ROOT / "guests/linux/kvm_l2_runner.c").read_text()
    assert re.search(r"^#define MAX_VCPUS +%du\b" % kvm.MAX_VCPUS, src, re.M)


def test_init_script_hands_the_vcpus_to_the_runner(tmp_path):
    """kvm-init.sh's own command-line parsing, run with a fake /proc/cmdline: the words
    it passes to kvm_l2_runner."""
    init = (ROOT / "guests/linux/kvm-init.sh").read_text()
    start = init.index("cmdline_value() {")
    end = init.index("rc=$?")
    runner = init[init.index("loops=$(cmdline_value"):end].replace(
        "/bin/kvm_l2_runner", "printf '%s\\n'")
    def words(cmdline):
        script = "cmdline='%s'\n%s\n%s" % (
            cmdline, init[start:init.index("\n}\n", start) + 3], runner)
        out = subprocess.run(["sh", "-c", script], stdout=subprocess.PIPE, check=True,
                             timeout=30).stdout.decode().split()
        return out
    assert words("console=ttyS0") == []
    assert words("kvm_l2.vcpus=2 kvm_l2.pin=1") == ["--vcpus", "2", "--pin"]
    assert words("kvm_l2.vcpus=2 kvm_l2.pin=1 kvm_l2.pin=0") == ["--vcpus", "2"]
    assert words("kvm_l2_runner.loops=7 kvm_l2.vcpus=3") == ["--loops", "7", "--vcpus", "3"]


def test_check_args_refuses_a_bad_vcpu_count():
    with pytest.raises(HarnessError, match="--vcpus"):
        kvm.check_args(True, "", None, None, vcpus=0)


def test_check_args_bare_with_nestbed():
    with pytest.raises(HarnessError, match="--nestbed has no effect with --bare"):
        kvm.check_args(True, "", None, Path("nb.elf"))
    kvm.check_args(False, "", None, Path("nb.elf"))


def test_timeouts():
    assert kvm.timeout_for("qemu-svm") == kvm.TIMEOUTS["qemu-svm"]
    assert kvm.timeout_for("bochs-svm") >= 600
    assert kvm.timeout_for("qemu-svm", 12.5) == 12.5
    assert kvm.timeout_for("nonesuch") == kvm.DEFAULT_TIMEOUT


# ---------------------------------------------------------------------------- specs

def test_spec_bare_qemu(linux_dir, tmp_path):
    initrd = tmp_path / "initramfs.cpio"
    spec = kvm.spec_for("qemu-svm", True, l1_args="kvm_amd.npt=0", initramfs=initrd)
    assert spec.bare and spec.image == linux_dir / "vmlinux" and spec.memory == 1024
    assert spec.modules == [(initrd, "")] and spec.args[-1] == "kvm_amd.npt=0"
    assert spec.nestbed is None


def test_spec_bare_bochs_is_the_bzimage(linux_dir):
    spec = kvm.spec_for("bochs-svm", True)
    assert spec.image == linux_dir / "vmlinuz"


def test_spec_nestbed(linux_dir, tmp_path):
    initrd = tmp_path / "initramfs.cpio"
    spec = kvm.spec_for("bochs-svm", False, memory=768, loops=7, nestbed=Path("nb.elf"),
                        nestbed_args="quiet", initramfs=initrd)
    assert not spec.bare and spec.image == linux_dir / "vmlinux" and spec.memory == 768
    assert spec.nestbed == Path("nb.elf") and spec.nestbed_args == "quiet"
    assert spec.modules == [(initrd, "initrd")]
    assert spec.args[-1] == "kvm_l2_runner.loops=7"


def test_spec_bochs_vmx_model(linux_dir):
    # Debian's kernel stalls on Bochs' tigerlake: KVM as L1 runs on corei7_skylake_x,
    # bare and under nestbed, as `harness linux` does
    assert kvm.spec_for("bochs-vmx", True).cpu_model == "corei7_skylake_x"
    assert kvm.spec_for("bochs-vmx", False, nestbed=Path("nb.elf")).cpu_model == "corei7_skylake_x"
    assert kvm.spec_for("bochs-svm", False).cpu_model is None


def test_spec_missing_kernel(tmp_path, monkeypatch):
    monkeypatch.setattr(kvm, "LINUX_DIR", tmp_path)
    with pytest.raises(HarnessError, match="scripts/fetch-linux"):
        kvm.spec_for("qemu-svm", True)


def test_qemu_command_bare(linux_dir, tmp_path):
    spec = kvm.spec_for("qemu-svm", True, l1_args="kvm_amd.npt=0",
                        initramfs=tmp_path / "initramfs.cpio")
    argv = QemuSvm(which=which).command(spec, "vmlinux", None)
    assert argv[argv.index("-m") + 1] == "1024"
    assert argv[argv.index("-kernel") + 1] == "vmlinux"
    assert argv[argv.index("-append") + 1] == CMDLINE + " kvm_amd.npt=0"
    assert argv[argv.index("-initrd") + 1] == "initramfs.cpio"
    assert "+svm" in argv[argv.index("-cpu") + 1]


def test_qemu_command_nestbed(linux_dir, tmp_path):
    spec = kvm.spec_for("qemu-svm", False, l1_args="kvm_amd.npt=0", loops=10,
                        nestbed=Path("build/nb/nestbed.elf"),
                        initramfs=tmp_path / "initramfs.cpio")
    argv = QemuSvm(which=which).command(spec, "nestbed.elf", "vmlinux")
    assert argv[argv.index("-kernel") + 1] == "nestbed.elf"
    assert argv[argv.index("-initrd") + 1] == (
        "vmlinux %s kvm_amd.npt=0 kvm_l2_runner.loops=10,initramfs.cpio initrd" % CMDLINE)


def test_bochs_bare_grub_linux_cfg(linux_dir, tmp_path):
    spec = kvm.spec_for("bochs-svm", True, l1_args="kvm_amd.npt=0",
                        initramfs=tmp_path / "initramfs.cpio")
    cfg = grub_linux_cfg("vmlinuz", spec.args_text, "initramfs.cpio")
    assert "linux /boot/vmlinuz %s kvm_amd.npt=0" % CMDLINE in cfg
    assert "initrd /boot/initramfs.cpio" in cfg
    assert BochsSvm(which=which).model == "ryzen"


# ---------------------------------------------------------------------------- cmd_kvm

class FakeResult:
    def __init__(self, verdict):
        self.verdict = verdict
        self.run_dir = None

    def final_line(self):
        return "harness: %s: fake" % self.verdict.upper()


def wire(monkeypatch, linux_dir, verdict="pass"):
    calls = SimpleNamespace(prepared=0, runs=[])
    monkeypatch.setattr(kvm, "prepare", lambda: setattr(calls, "prepared", calls.prepared + 1))

    def fake_run(platform, spec, timeout=None, **kw):
        calls.runs.append((platform.name, spec, timeout))
        return FakeResult(verdict)
    monkeypatch.setattr(cli_main, "run", fake_run)
    return calls


def test_cmd_kvm_nestbed(monkeypatch, linux_dir, capsys):
    calls = wire(monkeypatch, linux_dir)
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--l1-args", "kvm_amd.npt=0",
                        "--nestbed", "build/nb/nestbed.elf", "--loops", "3"])
    assert rc == EXIT_PASS and calls.prepared == 1
    [(name, spec, timeout)] = calls.runs
    assert name == "qemu-svm" and timeout == kvm.TIMEOUTS["qemu-svm"]
    assert not spec.bare and spec.nestbed == Path("build/nb/nestbed.elf")
    assert spec.args[-2:] == ["kvm_amd.npt=0", "kvm_l2_runner.loops=3"]
    assert spec.modules[0][1] == "initrd"
    assert capsys.readouterr().out.strip().endswith("harness: PASS: fake")


def test_cmd_kvm_vcpus(monkeypatch, linux_dir):
    calls = wire(monkeypatch, linux_dir)
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--bare", "--vcpus", "2"])
    assert rc == EXIT_PASS
    [(name, spec, timeout)] = calls.runs
    assert spec.args[-2:] == ["kvm_l2.vcpus=2", "kvm_l2.pin=1"]


def test_cmd_kvm_without_vcpus_leaves_the_command_line_alone(monkeypatch, linux_dir):
    calls = wire(monkeypatch, linux_dir)
    assert cli_main.main(["kvm", "--platform", "qemu-svm", "--bare"]) == EXIT_PASS
    [(name, spec, timeout)] = calls.runs
    assert spec.args == CMDLINE.split()


def test_cmd_kvm_bad_vcpus_before_building(monkeypatch, linux_dir, capsys):
    calls = wire(monkeypatch, linux_dir)
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--vcpus", "9"])
    assert rc == EXIT_ERROR and calls.prepared == 0 and not calls.runs
    assert "--vcpus must be 1 to 8, not 9" in capsys.readouterr().out


def test_qemu_command_nestbed_vcpus(linux_dir, tmp_path):
    spec = kvm.spec_for("qemu-svm", False, nestbed=Path("build/nb/nestbed.elf"), vcpus=2,
                        initramfs=tmp_path / "initramfs.cpio")
    argv = QemuSvm(which=which).command(spec, "nestbed.elf", "vmlinux")
    assert argv[argv.index("-initrd") + 1] == (
        "vmlinux %s kvm_l2.vcpus=2 kvm_l2.pin=1,initramfs.cpio initrd" % CMDLINE)


def test_cmd_kvm_bare_timeout_and_failure(monkeypatch, linux_dir):
    calls = wire(monkeypatch, linux_dir, verdict="fail")
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--bare", "--timeout", "42"])
    assert rc == EXIT_FAIL
    [(name, spec, timeout)] = calls.runs
    assert spec.bare and timeout == 42 and spec.image == linux_dir / "vmlinux"


def test_cmd_kvm_checks_options_before_building(monkeypatch, linux_dir, capsys):
    calls = wire(monkeypatch, linux_dir)
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--bare", "--nestbed", "x.elf"])
    assert rc == EXIT_ERROR and calls.prepared == 0 and not calls.runs
    assert capsys.readouterr().out == "harness: error: --nestbed has no effect with --bare\n"
    rc = cli_main.main(["kvm", "--platform", "qemu-svm", "--l1-args", "a'b"])
    assert rc == EXIT_ERROR and calls.prepared == 0


def test_cmd_kvm_unknown_platform(monkeypatch, linux_dir, capsys):
    calls = wire(monkeypatch, linux_dir)
    rc = cli_main.main(["kvm", "--platform", "nope"])
    assert rc == EXIT_ERROR and calls.prepared == 0
    assert "unknown platform 'nope'" in capsys.readouterr().out


# ---------------------------------------------------------------------------- initramfs

def _have_tools():
    busybox = shutil.which("busybox") or "/bin/busybox"
    return all(shutil.which(t) for t in ("gcc", "cpio", "xz", "file")) and \
        os.path.exists(busybox) and os.path.exists("/usr/include/linux/kvm.h")


def fake_ko(path: Path, depends: str, xz: bool = False) -> None:
    data = b"\x7fELF fake module\0license=GPL\0depends=" + depends.encode() + b"\0name=x\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    if xz:
        path.with_name(path.name + ".xz").write_bytes(lzma.compress(data))
    else:
        path.write_bytes(data)


def make_tree(root: Path, with_dep: bool) -> Path:
    mods = root / "modules"
    fake_ko(mods / "kernel/virt/lib/irqbypass.ko", "")
    fake_ko(mods / "kernel/arch/x86/kvm/kvm.ko", "irqbypass", xz=True)
    fake_ko(mods / "kernel/arch/x86/kvm/kvm-amd.ko", "kvm,ccp")
    fake_ko(mods / "kernel/arch/x86/kvm/kvm-intel.ko", "kvm")
    fake_ko(mods / "kernel/drivers/crypto/ccp/ccp.ko", "")
    if with_dep:   # modules.dep wins over depends=: here it adds a dependency
        fake_ko(mods / "kernel/lib/extra_dep.ko", "")
        (mods / "modules.dep").write_text(
            "kernel/arch/x86/kvm/kvm-amd.ko: kernel/arch/x86/kvm/kvm.ko.xz "
            "kernel/drivers/crypto/ccp/ccp.ko kernel/virt/lib/irqbypass.ko\n"
            "kernel/arch/x86/kvm/kvm-intel.ko: kernel/arch/x86/kvm/kvm.ko.xz "
            "kernel/virt/lib/irqbypass.ko\n"
            "kernel/arch/x86/kvm/kvm.ko.xz: kernel/lib/extra_dep.ko kernel/virt/lib/irqbypass.ko\n"
            "kernel/virt/lib/irqbypass.ko:\n"
            "kernel/drivers/crypto/ccp/ccp.ko:\n"
            "kernel/lib/extra_dep.ko:\n")
    return mods


def unpack(cpio: Path, into: Path) -> None:
    into.mkdir()
    with open(cpio, "rb") as f:
        subprocess.run(["cpio", "-id", "--quiet"], stdin=f, cwd=into, check=True, timeout=60)


@pytest.mark.parametrize("with_dep", [False, True], ids=["modinfo-depends", "modules.dep"])
def test_make_kvm_initramfs(tmp_path, with_dep):
    if not _have_tools():
        pytest.skip("gcc, cpio, xz, file, busybox-static or linux/kvm.h missing")
    mods = make_tree(tmp_path, with_dep)
    out = tmp_path / "out" / "kvm.cpio"
    proc = subprocess.run([str(ROOT / "scripts" / "make-kvm-initramfs"), str(out), str(mods)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")
    assert not list(out.parent.glob("kvm.cpio.*")), "the temporary file was left behind"
    root = tmp_path / "root"
    unpack(out, root)
    kodir = root / "lib" / "modules" / "kvm"
    amd = (kodir / "amd.order").read_text().split()
    intel = (kodir / "intel.order").read_text().split()
    if with_dep:
        assert amd == ["extra_dep", "irqbypass", "kvm", "ccp", "kvm-amd"]
        assert intel == ["extra_dep", "irqbypass", "kvm", "kvm-intel"]
    else:
        assert amd == ["irqbypass", "kvm", "ccp", "kvm-amd"]
        assert intel == ["irqbypass", "kvm", "kvm-intel"]
    for name in amd + intel:
        assert (kodir / (name + ".ko")).read_bytes().startswith(b"\x7fELF fake module")
    assert os.access(root / "init", os.X_OK)
    assert (root / "init").read_text() == (ROOT / "guests/linux/kvm-init.sh").read_text()
    runner = root / "bin" / "kvm_l2_runner"
    assert os.access(runner, os.X_OK)
    assert "statically linked" in subprocess.run(["file", str(runner)], stdout=subprocess.PIPE,
                                                 timeout=30).stdout.decode()
    for applet in ("sh", "insmod", "mount", "dd", "poweroff"):
        assert os.readlink(root / "bin" / applet) == "busybox"


def test_make_kvm_initramfs_missing_module(tmp_path):
    if not _have_tools():
        pytest.skip("gcc, cpio, xz, file, busybox-static or linux/kvm.h missing")
    mods = tmp_path / "modules"
    fake_ko(mods / "kernel/virt/lib/irqbypass.ko", "")
    out = tmp_path / "kvm.cpio"
    proc = subprocess.run([str(ROOT / "scripts" / "make-kvm-initramfs"), str(out), str(mods)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    assert proc.returncode != 0 and not out.exists()
    assert b"neither kvm-amd nor kvm-intel" in proc.stdout


def test_init_script_syntax():
    subprocess.run(["sh", "-n", str(ROOT / "guests/linux/kvm-init.sh")], check=True, timeout=30)


def test_runner_usage(tmp_path):
    if not _have_tools():
        pytest.skip("gcc or linux/kvm.h missing")
    exe = tmp_path / "kvm_l2_runner"
    subprocess.run(["gcc", "-static", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o",
                    str(exe), str(ROOT / "guests/linux/kvm_l2_runner.c")], check=True,
                   timeout=120)
    for bad in (["--loops", "0"], ["--phase-timeout", "x"], ["--bogus"], ["--vcpus", "0"],
                ["--vcpus", "9"], ["--vcpus", "2x"], ["--vcpus"], ["--exit-port", "256"],
                ["--exit-port", ""], ["--exit-port", "1x"]):
        # (a valid --exit-port would write to this machine's I/O ports: not run here)
        proc = subprocess.run([str(exe), *bad], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30)
        assert proc.returncode == 2 and proc.stdout == b"", bad
