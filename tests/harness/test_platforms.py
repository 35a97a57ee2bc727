import os
import struct
from pathlib import Path

import pytest

import harness.platforms as platforms
from harness import HarnessError, PlatformUnavailable
from harness.platforms import (PLATFORMS, RunSpec, bochsrc, cpu_flags, efi_cfg_line,
                               get_platform, grub_cfg, image_kind, kvm_unavailable_reason,
                               qemu_escape)

QEMU_BASE = ["/usr/bin/qemu-system-x86_64", "-accel", "tcg", "-cpu", "EPYC,+svm,+npt",
             "-m", "256", "-display", "none", "-serial", "stdio", "-no-reboot",
             "-nic", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-monitor", "unix:qemu-monitor.sock,server=on,wait=off"]


def fake_which(name):
    return "/usr/bin/" + name


def make(name, **kw):
    return PLATFORMS[name](which=fake_which, **kw)


def multiboot(path, flags=0x10003):
    magic = 0x1BADB002
    path.write_bytes(b"\0" * 16 + struct.pack("<III", magic, flags, (-(magic + flags))
                                              & 0xFFFFFFFF) + b"\0" * 64)
    return path


@pytest.fixture
def images(tmp_path):
    guest = multiboot(tmp_path / "conformance.elf")
    nestbed = multiboot(tmp_path / "nestbed.elf")
    efi = tmp_path / "nestbed.efi"
    efi.write_bytes(b"MZ" + b"\0" * 100)
    return guest, nestbed, efi


@pytest.fixture
def no_tools(monkeypatch):
    calls = []

    def fake_run_tool(argv, what):
        calls.append(argv)
        out = Path(argv[argv.index("-o") + 1])
        out.write_bytes(b"fake")
    monkeypatch.setattr(platforms, "run_tool", fake_run_tool)
    return calls


def test_every_platform_is_known():
    assert set(PLATFORMS) == {"qemu-svm", "qemu-svm-vgif", "qemu-q35-svm", "qemu-q35-amdvi-svm",
                              "qemu-uefi-svm", "bochs-vmx", "bochs-svm", "kvm"}
    with pytest.raises(HarnessError, match="unknown platform 'x'"):
        get_platform("x")


def test_qemu_svm_bare(images, tmp_path):
    guest, _, _ = images
    p = make("qemu-svm")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = p.prepare(RunSpec(image=guest, args=["selftest", "a,b"], bare=True), run_dir)
    # QEMU 7.2 passes -append verbatim: commas stay single there
    assert launch.argv == QEMU_BASE + ["-kernel", "conformance.elf", "-append", "selftest a,b"]
    assert launch.cwd == run_dir and launch.console_file is None
    assert (run_dir / "conformance.elf").resolve() == guest.resolve()
    assert launch.exit_kind == "qemu"


def test_qemu_svm_nestbed_mode(images, tmp_path):
    guest, nestbed, _ = images
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    spec = RunSpec(image=guest, args=["x=1,2", "y"], nestbed=nestbed,
                   nestbed_args="quiet heap=8", memory=512)
    launch = make("qemu-svm").prepare(spec, run_dir)
    base = list(QEMU_BASE)
    base[base.index("256")] = "512"
    assert launch.argv == base + ["-kernel", "nestbed.elf", "-append", "quiet heap=8",
                                  "-initrd", "conformance.elf x=1,,2 y"]
    assert (run_dir / "nestbed.elf").resolve() == nestbed.resolve()
    assert (run_dir / "conformance.elf").resolve() == guest.resolve()


def test_qemu_svm_vgif_cpu(images, tmp_path):
    guest, nestbed, _ = images
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = make("qemu-svm-vgif").prepare(RunSpec(image=guest, nestbed=nestbed), run_dir)
    base = list(QEMU_BASE)
    base[base.index("EPYC,+svm,+npt")] = "EPYC,+svm,+npt,+vgif"
    assert launch.argv == base + ["-kernel", "nestbed.elf", "-append", "",
                                  "-initrd", "conformance.elf"]


def test_qemu_q35_iommu_and_disk(images, tmp_path):
    guest, nestbed, _ = images
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = make("qemu-q35-svm").prepare(RunSpec(image=guest, nestbed=nestbed), run_dir)
    assert launch.argv[:5] == ["/usr/bin/qemu-system-x86_64", "-machine", "q35", "-device",
                               "intel-iommu"]
    assert launch.argv[5:] == QEMU_BASE[1:] + [
        "-kernel", "nestbed.elf", "-append", "", "-initrd", "conformance.elf",
        "-drive", "file=dma-disk.img,format=raw,if=none,id=dmadisk",
        "-device", "ide-hd,drive=dmadisk,bus=ide.0"]
    disk = (run_dir / "dma-disk.img").read_bytes()
    assert len(disk) == platforms.DMA_DISK_SECTORS * 512
    # word 3 of sector 0x123: magic | sector << 8 | word
    assert struct.unpack_from("<Q", disk, 0x123 * 512 + 3 * 8)[0] == 0x4E42444D00012303


def test_qemu_q35_amd_iommu(images, tmp_path):
    guest, nestbed, _ = images
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = make("qemu-q35-amdvi-svm").prepare(RunSpec(image=guest, nestbed=nestbed), run_dir)
    assert launch.argv[1:5] == ["-machine", "q35", "-device", "amd-iommu"]
    assert launch.argv[-4:] == ["-drive", "file=dma-disk.img,format=raw,if=none,id=dmadisk",
                                "-device", "ide-hd,drive=dmadisk,bus=ide.0"]
    assert (run_dir / "dma-disk.img").stat().st_size == 4 << 20


def test_qemu_same_name_kernel_and_guest(tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    k = multiboot(a / "k.bin")
    g = multiboot(b / "k.bin")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = make("qemu-svm").prepare(RunSpec(image=g, nestbed=k), run_dir)
    assert launch.argv[-4:] == ["kernel/k.bin", "-append", "", "-initrd", "k.bin"][-4:]
    assert (run_dir / "kernel" / "k.bin").resolve() == k.resolve()


@pytest.mark.parametrize("name", ["qemu-svm", "kvm"])
def test_qemu_cpus(images, tmp_path, name):
    guest, nestbed, _ = images
    p = make(name, probe=lambda: None) if name == "kvm" else make(name)
    for cpus, mode in ((2, True), (4, False)):
        run_dir = tmp_path / ("run%d" % cpus)
        run_dir.mkdir()
        launch = p.prepare(RunSpec(image=guest, bare=mode, nestbed=nestbed, cpus=cpus), run_dir)
        m = launch.argv.index("-m")
        assert launch.argv[m:m + 4] == ["-m", "256", "-smp", str(cpus)]
        assert launch.argv.count("-smp") == 1
    # one CPU: today's command line, no -smp at all
    run_dir = tmp_path / "run1"
    run_dir.mkdir()
    assert "-smp" not in p.prepare(RunSpec(image=guest, bare=True), run_dir).argv


def test_uefi_cpus(images, tmp_path):
    guest, _, efi = images
    launch = make("qemu-uefi-svm").prepare(RunSpec(image=efi, bare=True, cpus=3), tmp_path)
    assert launch.argv[launch.argv.index("-smp") + 1] == "3"


@pytest.mark.parametrize("cpus", [0, 9, -1])
def test_cpus_out_of_range(images, tmp_path, no_tools, cpus):
    guest, _, _ = images
    for name in ("qemu-svm", "bochs-svm"):
        with pytest.raises(HarnessError, match=r"--cpus %d is out of range \(1\.\.8\)" % cpus):
            run_dir = tmp_path / name
            run_dir.mkdir()
            make(name).prepare(RunSpec(image=guest, bare=True, cpus=cpus), run_dir)


@pytest.mark.parametrize("name,model", [("bochs-vmx", "tigerlake"), ("bochs-svm", "ryzen")])
def test_bochs_cpus(images, tmp_path, no_tools, name, model):
    guest, _, _ = images
    make(name).prepare(RunSpec(image=guest, bare=True, cpus=2), tmp_path)
    rc = (tmp_path / "bochsrc").read_text()
    assert "cpu: model=%s, count=2, ips=4000000, reset_on_triple_fault=0\n" % model in rc
    assert rc.count("cpu:") == 1


def test_kvm_command_line(images, tmp_path):
    guest, _, _ = images
    p = make("kvm", probe=lambda: None)
    p.check_available()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    launch = p.prepare(RunSpec(image=guest, bare=True), run_dir)
    assert launch.argv[1:5] == ["-accel", "kvm", "-cpu", "host"]


def test_kvm_unavailable_is_a_skip():
    p = make("kvm", probe=lambda: "no KVM here")
    with pytest.raises(PlatformUnavailable) as e:
        p.check_available()
    assert e.value.platform == "kvm" and e.value.reason == "no KVM here"


def test_uefi_nestbed_mode_esp(images, tmp_path):
    guest, _, efi = images
    spec = RunSpec(image=guest, args=["a", "b"], nestbed=efi, nestbed_args="quiet")
    p = make("qemu-uefi-svm")
    p.validate(spec)
    launch = p.prepare(spec, tmp_path)
    esp = tmp_path / "esp"
    assert (esp / "EFI" / "BOOT" / "BOOTX64.EFI").read_bytes() == efi.read_bytes()
    assert (esp / "conformance.elf").read_bytes() == guest.read_bytes()
    assert (esp / "nestbed.cfg").read_text() == "quiet --- \\conformance.elf a b\n"
    assert (tmp_path / "OVMF_VARS.fd").is_file()
    assert launch.argv == QEMU_BASE + [
        "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
        "-drive", "if=pflash,format=raw,file=OVMF_VARS.fd",
        "-drive", "format=raw,file=fat:rw:esp"]


def test_uefi_nestbed_mode_modules_on_esp(images, tmp_path):
    guest, _, efi = images
    initrd = tmp_path / "initramfs.cpio"
    initrd.write_bytes(b"07070")
    spec = RunSpec(image=guest, args=["console=ttyS0"], nestbed=efi,
                   modules=[(initrd, "initrd")])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    make("qemu-uefi-svm").prepare(spec, run_dir)
    esp = run_dir / "esp"
    assert (esp / "initramfs.cpio").read_bytes() == b"07070"
    assert (esp / "nestbed.cfg").read_text() == (
        "--- \\conformance.elf console=ttyS0 --- \\initramfs.cpio initrd\n")


def test_uefi_nestbed_mode_module_named_like_the_guest(images, tmp_path):
    guest, _, efi = images
    spec = RunSpec(image=guest, nestbed=efi, modules=[(guest, "")])
    with pytest.raises(HarnessError, match="already on the ESP"):
        make("qemu-uefi-svm").prepare(spec, tmp_path)


def test_uefi_bare_efi_app(images, tmp_path):
    _, _, efi = images
    make("qemu-uefi-svm").prepare(RunSpec(image=efi, args=["selftest"], bare=True), tmp_path)
    assert (tmp_path / "esp" / "nestbed.cfg").read_text() == "selftest\n"
    assert (tmp_path / "esp/EFI/BOOT/BOOTX64.EFI").read_bytes() == efi.read_bytes()


def test_uefi_bare_multiboot_through_grub(images, tmp_path, no_tools):
    guest, _, _ = images
    make("qemu-uefi-svm").prepare(RunSpec(image=guest, args=["x", "y"], bare=True), tmp_path)
    esp = tmp_path / "esp"
    [argv] = no_tools
    assert argv[:3] == ["/usr/bin/grub-mkimage", "-O", "x86_64-efi"]
    assert "multiboot" in argv and "-p" in argv and argv[argv.index("-p") + 1] == "/boot/grub"
    assert argv[argv.index("-o") + 1] == str(esp / "EFI" / "BOOT" / "BOOTX64.EFI")
    cfg = (esp / "boot" / "grub" / "grub.cfg").read_text()
    assert "multiboot /boot/conformance.elf conformance.elf x y\n" in cfg
    assert "serial" not in cfg
    assert (esp / "boot" / "conformance.elf").read_bytes() == guest.read_bytes()


def test_uefi_rejects_multiboot_nestbed(images):
    guest, nestbed, _ = images
    with pytest.raises(HarnessError, match="is not an EFI application"):
        make("qemu-uefi-svm").validate(RunSpec(image=guest, nestbed=nestbed))


@pytest.mark.parametrize("name,model", [("bochs-vmx", "tigerlake"), ("bochs-svm", "ryzen")])
def test_bochs_nestbed_mode(images, tmp_path, no_tools, name, model):
    guest, nestbed, _ = images
    spec = RunSpec(image=guest, args=["g1"], nestbed=nestbed, nestbed_args="quiet")
    launch = make(name).prepare(spec, tmp_path)
    assert launch.argv == ["/usr/bin/bochs", "-q", "-f", "bochsrc", "-rc", "run.rc"]
    assert launch.console_file == tmp_path / "serial.txt" and launch.exit_kind == "bochs"
    assert (tmp_path / "run.rc").read_text() == "c\n"
    rc = (tmp_path / "bochsrc").read_text()
    assert "cpu: model=%s, count=1, ips=4000000, reset_on_triple_fault=0\n" % model in rc
    for line in ("megs: 256", "boot: cdrom", "panic: action=fatal",
                 "com1: enabled=1, mode=file, dev=serial.txt",
                 'display_library: rfb, options="timeout=0"',
                 "ata0-master: type=cdrom, path=boot.iso, status=inserted"):
        assert line + "\n" in rc
    cfg = (tmp_path / "iso" / "boot" / "grub" / "grub.cfg").read_text()
    assert cfg.startswith("set timeout=0\n")
    assert "multiboot /boot/nestbed.elf nestbed.elf quiet\n" in cfg
    assert "module /boot/conformance.elf conformance.elf g1\n" in cfg
    assert "\nboot\n" in cfg
    [argv] = no_tools
    assert argv[:3] == ["/usr/bin/grub-mkrescue", "-d", "/usr/lib/grub/i386-pc"]


def test_bochs_cpu_model_and_memory(images, tmp_path, no_tools):
    guest, _, _ = images
    spec = RunSpec(image=guest, bare=True, cpu_model="corei7_skylake_x", memory=1024)
    make("bochs-vmx").prepare(spec, tmp_path)
    rc = (tmp_path / "bochsrc").read_text()
    assert "model=corei7_skylake_x," in rc and "megs: 1024\n" in rc
    cfg = (tmp_path / "iso" / "boot" / "grub" / "grub.cfg").read_text()
    assert "multiboot /boot/conformance.elf conformance.elf\n" in cfg
    assert "module" not in cfg


def test_grub_cfg_quotes_odd_words():
    cfg = grub_cfg("k", "a $x it's", "g", "")
    assert "multiboot /boot/k k a '$x' 'it'\\''s'\n" in cfg
    assert "module /boot/g g\n" in cfg


def test_bochsrc_is_complete():
    rc = bochsrc("ryzen", 128)
    assert "romimage: file=/usr/share/bochs/BIOS-bochs-latest" in rc
    assert "vgaromimage: file=/usr/share/vgabios/vgabios.bin" in rc
    assert "sound: waveoutdrv=dummy" in rc


def test_efi_cfg_line():
    assert efi_cfg_line("", "g.elf", "") == "--- \\g.elf"
    assert efi_cfg_line("a b", "g.elf", "c") == "a b --- \\g.elf c"
    assert efi_cfg_line("selftest") == "selftest"
    assert efi_cfg_line("", "vmlinux", "quiet", [("initrd.cpio", "initrd"), ("m", "")]) == \
        "--- \\vmlinux quiet --- \\initrd.cpio initrd --- \\m"


def test_qemu_escape():
    assert qemu_escape("a,b,,c") == "a,,b,,,,c"


def test_image_kind(tmp_path, images):
    guest, _, efi = images
    assert image_kind(guest) == "multiboot" and image_kind(efi) == "efi"
    junk = tmp_path / "junk"
    junk.write_bytes(bytes(range(256)) * 8)
    assert image_kind(junk) == "unknown"
    bad = multiboot(tmp_path / "bad")
    data = bytearray(bad.read_bytes())
    data[24] ^= 1                                # break the checksum
    bad.write_bytes(bytes(data))
    assert image_kind(bad) == "unknown"
    late = tmp_path / "late"
    late.write_bytes(b"\0" * 8192 + multiboot(tmp_path / "x").read_bytes())
    assert image_kind(late) == "unknown"         # the header must be in the first 8 KiB


def test_validate_errors(tmp_path, images):
    guest, nestbed, efi = images
    p = make("qemu-svm")
    with pytest.raises(HarnessError, match="image .*missing.elf does not exist"):
        p.validate(RunSpec(image=tmp_path / "missing.elf", bare=True))
    with pytest.raises(HarnessError, match="is not a file"):
        p.validate(RunSpec(image=tmp_path, bare=True))
    with pytest.raises(HarnessError, match="is not a Multiboot 1 kernel"):
        p.validate(RunSpec(image=efi, bare=True))
    with pytest.raises(HarnessError, match="--nestbed-args has no effect with --bare"):
        p.validate(RunSpec(image=guest, bare=True, nestbed_args="x"))
    with pytest.raises(HarnessError, match="nestbed image .* does not exist"):
        p.validate(RunSpec(image=guest, nestbed=tmp_path / "nope.elf"))
    # a guest is not checked: nestbed itself must reject a broken one
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"junk")
    p.validate(RunSpec(image=junk, nestbed=nestbed))


def test_missing_emulator_is_an_error():
    p = PLATFORMS["bochs-svm"](which=lambda name: None)
    with pytest.raises(HarnessError, match=r"bochs not found \(install the Debian package bochs\)"):
        p.emulator_path()


# ---- KVM availability

CPUINFO_VMX = "processor\t: 0\nflags\t\t: fpu vme de vmx sse2\n\nprocessor\t: 1\n"
CPUINFO_NONE = "processor\t: 0\nflags\t\t: fpu vme de sse2 hypervisor\n"


def kvm_env(tmp_path, cpuinfo, pvm=False, mode=0o600):
    tmp_path.mkdir(parents=True, exist_ok=True)
    dev = tmp_path / "kvm"
    dev.write_text("")
    dev.chmod(mode)
    info = tmp_path / "cpuinfo"
    info.write_text(cpuinfo)
    modules = tmp_path / "module"
    (modules / ("kvm_pvm" if pvm else "kvm_intel")).mkdir(parents=True)
    return dict(dev=str(dev), cpuinfo=str(info), modules=str(modules),
                api_version=lambda d: 12)


def test_kvm_available_with_vmx(tmp_path):
    assert kvm_unavailable_reason(**kvm_env(tmp_path, CPUINFO_VMX)) is None
    svm = CPUINFO_VMX.replace("vmx", "svm")
    assert kvm_unavailable_reason(**kvm_env(tmp_path / "s", svm)) is None


def test_kvm_pvm_without_flags(tmp_path):
    why = kvm_unavailable_reason(**kvm_env(tmp_path, CPUINFO_NONE, pvm=True))
    assert "neither vmx nor svm" in why and "kvm_pvm" in why


def test_kvm_missing_device(tmp_path):
    env = kvm_env(tmp_path, CPUINFO_VMX)
    env["dev"] = str(tmp_path / "nothing")
    assert kvm_unavailable_reason(**env) == "%s does not exist" % env["dev"]


def test_kvm_device_not_answering(tmp_path):
    env = kvm_env(tmp_path, CPUINFO_VMX)
    del env["api_version"]                    # the real ioctl on a plain file: ENOTTY
    assert "does not answer KVM_GET_API_VERSION" in kvm_unavailable_reason(**env)
    env["api_version"] = lambda d: 11
    assert "KVM API 11" in kvm_unavailable_reason(**env)


def test_kvm_device_not_accessible(tmp_path, monkeypatch):
    env = kvm_env(tmp_path, CPUINFO_VMX, mode=0o000)
    monkeypatch.setattr(platforms.os, "access", lambda path, mode: False)  # even for root
    assert "not readable and writable" in kvm_unavailable_reason(**env)


def test_cpu_flags():
    assert "vmx" in cpu_flags(CPUINFO_VMX)
    assert cpu_flags("nothing here") == set()


def test_kvm_on_this_host_matches_cpuinfo():
    """Here /dev/kvm may exist (kvm_pvm) but only vmx/svm flags make KVM usable."""
    with open("/proc/cpuinfo") as f:
        flags = cpu_flags(f.read())
    why = kvm_unavailable_reason()
    if not ({"vmx", "svm"} & flags):
        assert why is not None


def test_linux_image_kinds_and_commands(tmp_path):
    """A PVH ELF (Linux's vmlinux) and a bzImage are recognised; QEMU boots the PVH ELF
    bare with its initrd, nestbed gets the kernel and the initrd as two modules."""
    import struct
    from harness.platforms import QemuSvm, RunSpec, grub_linux_cfg, image_kind
    # ELF64 header, one PT_NOTE at 0x100 holding the "Xen" note type 18
    elf = bytearray(0x200)
    elf[0:4] = b"\x7fELF"
    elf[4] = 2
    struct.pack_into("<Q", elf, 32, 64)          # e_phoff
    struct.pack_into("<HH", elf, 54, 56, 1)      # e_phentsize, e_phnum
    struct.pack_into("<I", elf, 64, 4)           # PT_NOTE
    struct.pack_into("<Q", elf, 64 + 8, 0x100)   # p_offset
    struct.pack_into("<Q", elf, 64 + 32, 20)     # p_filesz
    struct.pack_into("<III", elf, 0x100, 4, 4, 18)
    elf[0x10c:0x110] = b"Xen\x00"
    vmlinux = tmp_path / "vmlinux"
    vmlinux.write_bytes(bytes(elf))
    assert image_kind(vmlinux) == "pvh"
    bz = bytearray(0x400)
    bz[0:2] = b"MZ"
    bz[0x202:0x206] = b"HdrS"
    vmlinuz = tmp_path / "vmlinuz"
    vmlinuz.write_bytes(bytes(bz))
    assert image_kind(vmlinuz) == "bzimage"
    initrd = tmp_path / "initrd.cpio"
    initrd.write_bytes(b"07070")

    q = QemuSvm(which=lambda name: "/usr/bin/" + name)
    bare = RunSpec(image=vmlinux, args=["console=ttyS0"], bare=True, modules=[(initrd, "")])
    q.validate(bare)
    argv = q.command(bare, "vmlinux", None)
    assert argv[-6:] == ["-kernel", "vmlinux", "-append", "console=ttyS0", "-initrd",
                         "initrd.cpio"]
    nested = RunSpec(image=vmlinux, args=["console=ttyS0"], nestbed=vmlinux,
                     modules=[(initrd, "initrd")])
    argv = q.command(nested, "nestbed.elf", "vmlinux")
    assert argv[-2:] == ["-initrd", "vmlinux console=ttyS0,initrd.cpio initrd"]
    cfg = grub_linux_cfg("vmlinuz", "console=ttyS0 quiet", "initrd.cpio")
    assert "linux /boot/vmlinuz console=ttyS0 quiet\ninitrd /boot/initrd.cpio\nboot" in cfg
