#!/bin/sh
# Run by dom0's /init (guests/linux/xen-init.sh) when the command line has
# xen_loops.domu=1: starts Xen's toolstack from Debian's packages (xenstored, xen-init-dom0,
# xenconsoled; scripts/make-xen-initramfs --domu copies them with their libraries) and
# creates a PVH domU with xl: dom0's own kernel (/boot/vmlinuz) and the plain initramfs
# (/boot/domu.cpio) whose /init runs the same exit loops as "xen/domU". xenconsoled logs
# the domU's console to a file, which this script prints as it grows (tail -f), so the
# harness sees the domU's lines at once; it waits for the domain to end.
# Status 0 when the domU printed "xen-loops: PASS xen/domU", 1 otherwise, each step's
# failure as a "# domU: ..." line and a "xen-loops: FAIL xen/domU" line.
export PATH=/bin:/usr/lib/xen-4.17/bin
XEN_BIN=/usr/lib/xen-4.17/bin
# Rounds of 2 s the domU may run. dom0's clock is only as good as Xen's TSC calibration,
# which a loaded machine spoils (600 "s" passed in 4 minutes): the harness's timeout is
# the real bound.
# xen_loops.domu_rounds=N on dom0's command line sets it (harness bench: a bounded run).
DOMU_ROUNDS=$(sed -n 's/.*xen_loops\.domu_rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
DOMU_ROUNDS=${DOMU_ROUNDS:-3000}
DOMU_MEM_MB=192
DOMU_MEM_KB=$((DOMU_MEM_MB * 1024))

fail() {
	echo "# domU: $*"
	echo "xen-loops: FAIL xen/domU ($*)"
	exit 1
}

for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
	[ -f /lib/modules/xen/$m.ko ] || continue
	out=$(insmod /lib/modules/xen/$m.ko 2>&1) || echo "# insmod $m: $out"
done
mkdir -p /proc/xen /dev/pts /var/run/xen /var/run/xenstored /var/lib/xenstored \
	/var/lib/xen /var/log/xen /var/lock /run /tmp /etc/xen
# dom0 has all the memory (Xen's default): it hands DOMU_MEM_KB back to Xen through its
# balloon driver itself, and xl does not balloon (its autoballoon, through xenstore, gave
# up on these slow machines: "failed to free memory for the domain")
echo 'autoballoon="off"' > /etc/xen/xl.conf
mount -t xenfs xenfs /proc/xen || fail "cannot mount xenfs"
mount -t devpts devpts /dev/pts 2>/dev/null
grep -q control_d /proc/xen/capabilities || fail "not the control domain ($(cat /proc/xen/capabilities))"

echo "# domU: starting xenstored"
$XEN_BIN/xenstored --pid-file /var/run/xenstored.pid || fail "xenstored failed ($?)"
i=0
until [ -S /var/run/xenstored/socket ] || [ $i -ge 30 ]; do sleep 1; i=$((i + 1)); done
$XEN_BIN/xen-init-dom0 || fail "xen-init-dom0 failed"
$XEN_BIN/xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest \
	--log-dir=/var/log/xen || fail "xenconsoled failed"

bal=/sys/devices/system/xen_memory/xen_memory0
if [ -f $bal/target_kb ]; then
	target=$(( $(cat $bal/target_kb) - DOMU_MEM_KB - 32768 ))
	echo "# domU: dom0 balloons down to $target kB"
	echo $target > $bal/target_kb
	i=0
	until [ "$(cat $bal/info/current_kb)" -le $target ] || [ $i -ge 120 ]; do
		sleep 1
		i=$((i + 1))
	done
	echo "# domU: dom0 has $(cat $bal/info/current_kb) kB after $i s"
else
	echo "# domU: no balloon driver in dom0 ($bal)"
fi

loops=$(sed -n 's/.*xen_loops\.loops=\([0-9]*\).*/\1/p' /proc/cmdline)
version=$(sed -n 's/.*xen_loops\.version=\([0-9.]*\).*/\1/p' /proc/cmdline)
# A PVH domU has no PCI bus: Xen answers a port no one claims with all ones. loglevel=5
# after quiet: the domU's kernel warnings reach its console (the harness stops on them)
cat > /etc/domu.cfg <<CFG
type = "pvh"
name = "domu"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio"
cmdline = "console=hvc0 quiet loglevel=5 xen_loops.role=domu xen_loops.loops=${loops:-2000} xen_loops.version=$version xen_loops.pci_id=ffffffff"
memory = $DOMU_MEM_MB
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
CFG
log=/var/log/xen/guest-domu.log
echo "# domU: xl create"
$XEN_BIN/xl create /etc/domu.cfg 2>&1 | sed 's/^/# xl: /'
$XEN_BIN/xl list 2>&1 | sed 's/^/# xl list: /'
[ -f $log ] || fail "no console log of the domU (xenconsoled)"
tail -f $log &
tail_pid=$!
i=0
while $XEN_BIN/xl domid domu >/dev/null 2>&1 && [ $i -lt $DOMU_ROUNDS ]; do
	sleep 2
	i=$((i + 1))
done
sleep 1
kill $tail_pid
if $XEN_BIN/xl domid domu >/dev/null 2>&1; then
	$XEN_BIN/xl destroy domu
	fail "the domU still ran after $DOMU_ROUNDS rounds of 2 s"
fi
grep -q "^xen-loops: PASS xen/domU" $log || { echo "xen-loops: FAIL xen/domU (see its console above)"; exit 1; }
exit 0
