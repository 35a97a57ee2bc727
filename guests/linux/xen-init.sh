#!/bin/sh
# /init of the Xen dom0 initramfs (scripts/make-xen-initramfs builds it): Linux is Xen's
# dom0 (a PVH guest: SVM/VMX guest mode under Xen, so L2 under nestbed); it runs the exit
# loops of /bin/xen_exit_loops, which prints the TAP and a "xen-loops: PASS|FAIL" line the
# harness waits for (python3 -m harness xen).
#
# Words of the kernel command line it reads (the harness sets them):
#   xen_loops.loops=N          loop iterations (CPUID, port pairs)
#   xen_loops.version=MAJ.MIN  the Xen version the CPUID leaf 0x40000001 must give
#   xen_loops.pci_id=HEX       what PCI 00:00.0's vendor/device dword must read
# Then it powers dom0 off, which makes Xen halt the machine.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

echo "# nestbed-xen: dom0 init reached (kernel $(uname -r))"
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
echo "# dom0: $(grep -c ^processor /proc/cpuinfo) CPU(s), $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
/bin/xen_exit_loops --prefix xen/dom0 ${loops:+--loops "$loops"} \
	${version:+--xen-version "$version"} ${pci_id:+--pci-id "$pci_id"}
rc=$?
if [ $rc -gt 1 ]; then
	echo "xen-loops: FAIL xen/dom0 (xen_exit_loops ended with status $rc)"
fi
sleep 1
poweroff -f
