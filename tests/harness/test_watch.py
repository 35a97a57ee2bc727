"""Watched runs (harness/runner.py Watch): a verdict from console lines, for images
that are not conformance guests (`harness xen`)."""
import struct

import pytest

from harness import HarnessError
from harness.platforms import QemuSvm, RunSpec
from harness.runner import Console, Watch, decide_watch
from harness import xen as xen_mod
from harness.xen import FATAL, watch_for



def multiboot(path, flags=0x10003):
    """A file with a Multiboot 1 header and nothing else (as test_platforms.py)."""
    magic = 0x1BADB002
    path.write_bytes(b"\0" * 16 + struct.pack("<III", magic, flags, (-(magic + flags))
                                              & 0xFFFFFFFF) + b"\0" * 64)
    return path


def feed(console, text):
    console.feed(text.encode())


def xen_console(dom0="pv", domu=False):
    watch = watch_for("qemu-svm", dom0=dom0, domu=domu)
    return watch, Console(watch=watch)


def test_passes_after_every_needed_line_in_order():
    watch, c = xen_console()
    feed(c, "(XEN) Freed 656kB init memory\n")          # before SVM: not yet
    assert c.watch_time is None
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) Freed 656kB init memory\n")
    assert c.watch_passed and c.watch_time is not None
    assert decide_watch(watch, c, None, False, 60) == (True, "")


def test_fatal_line_fails_first():
    watch, c = xen_console()
    feed(c, "(XEN) HVM: SVM enabled\n"
            "nestbed: guest failure: the guest accessed nestbed's memory at 0x3fda613f "
            "(write): stopped\n(XEN) Freed 656kB init memory\n")
    ok, why = decide_watch(watch, c, None, False, 60)
    assert not ok and "accessed nestbed's memory" in why


def test_exit_port_is_fatal_for_xen():
    watch, c = xen_console()
    feed(c, "exit-port: 3\n")
    assert decide_watch(watch, c, 7, False, 60)[0] is False


def test_timeout_and_early_exit_name_the_missing_line():
    watch, c = xen_console()
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) something else\n")
    ok, why = decide_watch(watch, c, None, True, 60, hint="(XEN) something else")
    assert not ok
    assert why.startswith("timeout after 60s waiting for /^\\(XEN\\) Freed")
    assert "saw 1 of 2" in why
    assert why.endswith("; console silent for the last 0 s")
    ok, why = decide_watch(watch, c, 0, False, 60)
    assert not ok and why.startswith("emulator exited with status 0 waiting for")


def test_dom0_until_adds_a_line():
    watch = watch_for("qemu-svm", r"Linux version", dom0="pv")
    assert len(watch.needed) == 3
    assert all(not p.search("Linux version") for p in watch.fatal)


def test_watch_needs_a_pattern():
    with pytest.raises(HarnessError):
        Watch([], FATAL)


def test_qemu_bare_multiboot_modules(tmp_path):
    """QEMU -kernel gives a bare Multiboot image its modules through -initrd."""
    xen = multiboot(tmp_path / "xen.elf")
    dom0 = tmp_path / "vmlinuz"
    dom0.write_bytes(b"MZ")
    q = QemuSvm(which=lambda name: "/usr/bin/" + name)
    spec = RunSpec(image=xen, args=["console=com1", "com1=115200,8n1"], bare=True,
                   modules=[(dom0, "console=hvc0 earlyprintk=xen")])
    q.validate(spec)
    argv = q.command(spec, "xen.elf", None)
    assert argv[-6:] == ["-kernel", "xen.elf", "-append", "console=com1 com1=115200,8n1",
                         "-initrd", "vmlinuz console=hvc0 earlyprintk=xen"]


def test_xen_refuses_other_platforms_before_fetching():
    import subprocess
    import sys
    from harness import ROOT
    for args, error in ((["--platform", "bochs-svm", "--dom0", "pv"], "xen runs on QEMU"),
                        (["--platform", "qemu-svm"], "a PVH dom0 needs an IOMMU")):
        proc = subprocess.run([sys.executable, "-m", "harness", "xen"] + args, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = proc.stdout.decode()
        assert proc.returncode == 2
        assert out.strip().splitlines()[-1].startswith("harness: error: " + error)


def test_pvh_dom0_passes_only_after_its_loops():
    watch, c = xen_console(dom0="pvh")
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) Freed 656kB init memory\n")
    assert c.watch_time is None
    feed(c, "ok 1 - xen/dom0/cpuid-signature\nxen-loops: PASS xen/dom0 (0 of 7 tests failed)\n")
    assert decide_watch(watch, c, None, False, 60) == (True, "")


@pytest.mark.parametrize("line", ["not ok 5 - xen/dom0/pio-pci-id # 00:00.0 id 0xffffffff",
                                  "xen-loops: FAIL xen/dom0 (1 of 7 tests failed)",
                                  "[   9.1] Kernel panic - not syncing: VFS: Unable to mount",
                                  "[   44.082158] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/"
                                  "fpu/xstate.c:606 fpu__init_system_xstate+0x85a/0xb19",
                                  "[  242.1] INFO: task swapper/0:1 blocked for more than 120 "
                                  "seconds"])
def test_pvh_dom0_failures_are_fatal(line):
    watch, c = xen_console(dom0="pvh")
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) Freed 656kB init memory\n" + line + "\n"
            "xen-loops: PASS xen/dom0\n")
    ok, why = decide_watch(watch, c, None, False, 60)
    assert not ok and line.split()[-1] in why


def test_srso_advice_is_no_kernel_warning():
    watch, c = xen_console(dom0="pv", domu=True)
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) Freed 656kB init memory\n[    7.8] Speculative Return "
            "Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/"
            "srso.html for mitigation options.\nxen-loops: PASS xen/domU\n")
    assert c.watch_passed


def test_domu_waits_for_the_domu_loops():
    watch, c = xen_console(dom0="pv", domu=True)
    feed(c, "(XEN) HVM: SVM enabled\n(XEN) Freed 656kB init memory\n"
            "xen-loops: PASS xen/dom0\n")
    assert c.watch_time is None
    feed(c, "xen-loops: PASS xen/domU (0 of 7 tests failed)\n")
    assert c.watch_passed


def test_xen_specs(tmp_path, monkeypatch):
    for name in ("XEN_IMAGE", "INITRAMFS", "DOMU_INITRAMFS"):
        monkeypatch.setattr(xen_mod, name, multiboot(tmp_path / (name + ".elf")))
    monkeypatch.setattr(xen_mod, "LINUX_DIR", tmp_path)
    (tmp_path / "vmlinuz").write_bytes(b"MZ")
    (tmp_path / "version").write_text("4.17.7+13-g2445b30a44-0+deb12u1\n")
    monkeypatch.setattr(xen_mod, "XEN_VERSION_FILE", tmp_path / "version")
    pvh = xen_mod.spec_for(True, platform_name="qemu-q35-amdvi-svm", dom0="pvh")
    assert pvh.args == ["console=com1", "com1=115200,8n1", "dom0=pvh"]
    assert pvh.memory == 2048 and pvh.cpu_model == "EPYC,+svm,+npt,-rdtscp,-monitor,-xsave"
    cmdline = pvh.modules[0][1].split()
    assert "xen_loops.version=4.17" in cmdline and "xen_loops.pci_id=29c08086" in cmdline
    assert "xen_loops.domu=1" not in cmdline
    domu = xen_mod.spec_for(False, platform_name="qemu-svm", dom0="pv", domu=True)
    assert domu.args[-1] == "smap=0" and "dom0=pvh" not in domu.args
    assert domu.modules[1][0] == xen_mod.DOMU_INITRAMFS
    assert {"xen_loops.role=pvdom0", "xen_loops.domu=1"} <= set(domu.modules[0][1].split())
    pv = xen_mod.spec_for(True, platform_name="qemu-svm", dom0="pv")
    assert pv.args == ["console=com1", "com1=115200,8n1"] and len(pv.modules) == 1


def test_pvh_dom0_under_nestbed_gets_the_virtual_iommu(tmp_path, monkeypatch):
    """Xen 4.17 needs an IOMMU for a PVH dom0: under nestbed it gets nestbed's virtual
    AMD-Vi (option viommu), once, beside the options given; bare and PV runs do not."""
    for name in ("xen.elf", "vmlinuz", "initramfs.cpio"):
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.setattr(xen_mod, "XEN_IMAGE", tmp_path / "xen.elf")
    monkeypatch.setattr(xen_mod, "LINUX_DIR", tmp_path)
    monkeypatch.setattr(xen_mod, "INITRAMFS", tmp_path / "initramfs.cpio")
    spec = xen_mod.spec_for(False, platform_name="qemu-q35-amdvi-svm", dom0="pvh",
                            nestbed_args="heap=64")
    assert spec.nestbed_args == "viommu heap=64"
    spec = xen_mod.spec_for(False, platform_name="qemu-q35-amdvi-svm", dom0="pvh",
                            nestbed_args="trace viommu")
    assert spec.nestbed_args == "trace viommu"
    assert xen_mod.spec_for(False, platform_name="qemu-svm", dom0="pv").nestbed_args == ""
    assert xen_mod.spec_for(True, platform_name="qemu-q35-amdvi-svm", dom0="pvh").bare


def test_timeout_says_how_long_the_console_was_silent():
    watch, c = xen_console()
    feed(c, "(XEN) HVM: SVM enabled\n")
    assert c.silence(now=c.last_line_time + 612.4) == "console silent for the last 612 s"
    quiet = Console(watch=watch)
    assert quiet.silence(now=quiet.started + 30) == "console silent for the last 30 s"
