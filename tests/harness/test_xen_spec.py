"""harness xen's RunSpec: the CPU model string is QEMU's and goes to QEMU platforms only."""
from harness import xen


def _files(tmp_path, monkeypatch):
    for name in ("XEN_IMAGE", "INITRAMFS", "DOMU_INITRAMFS"):
        path = tmp_path / name.lower()
        path.write_bytes(b"x")
        monkeypatch.setattr(xen, name, path)
    (tmp_path / "vmlinuz").write_bytes(b"x")
    monkeypatch.setattr(xen, "LINUX_DIR", tmp_path)


def test_domu_on_qemu_gets_the_pvh_cpu_model(tmp_path, monkeypatch):
    _files(tmp_path, monkeypatch)
    spec = xen.spec_for(False, platform_name="qemu-svm", dom0="pv", domu=True)
    assert spec.cpu_model == xen.PVH_CPU


def test_domu_on_bochs_keeps_the_platform_model(tmp_path, monkeypatch):
    # "EPYC,+svm,..." in a bochsrc is "cpu directive malformed": Bochs would not start
    _files(tmp_path, monkeypatch)
    spec = xen.spec_for(False, platform_name="bochs-vmx", dom0="pv", domu=True)
    assert spec.cpu_model is None
