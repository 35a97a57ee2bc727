"""harness/bench.py's Linux boot figures: the boot marker and the -icount command line."""
from pathlib import Path

from harness import bench
from harness.platforms import QemuSvm, RunSpec


def test_boot_marker_parsed():
    c = bench._CollectMarker()
    c("# boot-marker: tsc 0x5d071c79 idle_cs 12 uptime_cs 166", None)
    assert c.marker == {"tsc_at_init": 0x5d071c79, "idle_cs": 12, "uptime_cs": 166}
    c2 = bench._CollectMarker()
    c2("# boot-marker: tsc 0x1 idle_cs -1 uptime_cs -1", None)
    assert c2.marker["idle_cs"] == -1


def test_no_marker_no_figure():
    c = bench._CollectMarker()
    c("ok 1 - linux/init-reached", None)
    assert c.marker is None


def test_icount_sleep_off_only_when_asked():
    p = QemuSvm()
    spec = RunSpec(image=Path("vmlinux"), bare=True, icount=True)
    argv = p.command(spec, "vmlinux", None)
    assert argv[argv.index("-icount") + 1] == "shift=0"
    spec.icount_nosleep = True
    argv = p.command(spec, "vmlinux", None)
    assert argv[argv.index("-icount") + 1] == "shift=0,sleep=off"
    assert argv[argv.index("-accel") + 1] == "tcg,thread=single"


def test_icount_smp_is_a_skip_with_the_reason():
    assert bench.linux_boot_icount("qemu-svm", print, cpus=4) == {"skip": bench.ICOUNT_SMP_SKIP}


def test_per_cpu_stats_collected():
    c = bench._CollectMarker()
    c('nestbed-stats-cpu 1 {"exits":3,"l1":{"total":3,"tdp_fault":3}}', None)
    c('nestbed-stats {"exits":5,"l1":{"total":5,"cpuid":2,"tdp_fault":3}}', None)
    assert c.per_cpu == {1: {"exits": 3, "l1": {"total": 3, "tdp_fault": 3}}}
    assert c.stats["exits"] == 5
