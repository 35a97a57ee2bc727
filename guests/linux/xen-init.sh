#!/bin/sh
# /init of the Xen initramfs (scripts/make-xen-initramfs builds it): Linux is Xen's
# dom0 (a PVH guest: SVM/VMX guest mode under Xen, so L2 under nestbed), or a domU that
# dom0 started; it runs the exit loops of /bin/xen_exit_loops, which prints the TAP and a
# "xen-loops: PASS|FAIL xen/dom0" (or xen/domU) line the harness waits for
# (python3 -m harness xen).
#
# Words of the kernel command line it reads (the harness sets them):
#   xen_loops.loops=N          loop iterations (CPUID, port pairs)
#   xen_loops.version=MAJ.MIN  the Xen version the CPUID leaf 0x40000001 must give
#   xen_loops.pci_id=HEX       what PCI 00:00.0's vendor/device dword must read
#   xen_loops.domu=1           (dom0) then start a domU with Xen's toolstack
#                              (/bin/xen-domu.sh: xenstored, xl) running the same loops
#   xen_loops.role=domu        (the domU's command line) this is the domU: loops only
#   xen_loops.role=pvdom0      dom0 is PV: no loops (its CPUID and port I/O do not exit
#                              through SVM/VMX), only the domU's
# Then it ends the run through the exit port (0 every test passed, 1 one failed, 2 the
# program could not finish) from dom0: QEMU's isa-debug-exit bare; under nestbed the L2
# write that Xen lets through reaches nestbed, which prints its counters (nestbed-stats)
# and ends the run. poweroff, which makes Xen halt the machine, is the fallback.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

cmdline=$(cat /proc/cmdline)

# The value of the last WORD=V on the command line.
cmdline_value() {
	v=
	for w in $cmdline; do
		case "$w" in "$1"=*) v=${w#*=} ;; esac
	done
	echo "$v"
}

loops=$(cmdline_value xen_loops.loops)
version=$(cmdline_value xen_loops.version)
pci_id=$(cmdline_value xen_loops.pci_id)
role=dom0
case "$(cmdline_value xen_loops.role)" in
domu) role=domU ;;
pvdom0) role=pvdom0 ;;
esac
echo "# nestbed-xen: $role init reached (kernel $(uname -r))"
echo "# $role: $(grep -c ^processor /proc/cpuinfo) CPU(s), $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
if [ $role = pvdom0 ]; then
	echo "# dom0 is PV: no exit loops in dom0"
	rc=0
else
	/bin/xen_exit_loops --prefix xen/$role ${loops:+--loops "$loops"} \
		${version:+--xen-version "$version"} ${pci_id:+--pci-id "$pci_id"}
	rc=$?
fi
code=$rc
if [ $rc -gt 1 ]; then
	code=2
	echo "xen-loops: FAIL xen/$role (xen_exit_loops ended with status $rc)"
fi
if [ $role = domU ]; then
	poweroff -f   # the domain ends; dom0's xen-domu.sh reports
fi
if [ "$(cmdline_value xen_loops.domu)" = 1 ]; then
	/bin/sh /bin/xen-domu.sh || code=1
fi
sleep 1   # let the console drain before the emulator stops
printf "\\$(printf %03o "$code")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null ||
	echo "# the exit-port write through /dev/port failed"
sleep 1
poweroff -f
