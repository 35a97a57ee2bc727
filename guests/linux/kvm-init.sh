#!/bin/sh
# /init of the KVM initramfs (scripts/make-kvm-initramfs builds it): Linux is L1, its KVM
# runs a small L2 through kvm_l2_runner, which prints the TAP.
#
# 1. mounts proc, sys, dev;
# 2. loads the KVM modules of this CPU's vendor (/lib/modules/kvm/amd.order or
#    intel.order: dependencies first) with the parameters the kernel command line gives
#    them (kvm.X=V, kvm_amd.X=V, kvm_intel.X=V). busybox's insmod does not read
#    /proc/cmdline (kmod's modprobe does) and the kernel passes dotted words to no one,
#    so this script hands them over;
# 3. runs /bin/kvm_l2_runner [--loops N] [--phase-timeout S] [--vcpus N] [--pin]
#    (kvm_l2_runner.loops=N, kvm_l2_runner.phase_timeout=S, kvm_l2.vcpus=N: L2's vCPUs,
#    default 1, and kvm_l2.pin=1: each vCPU thread must have its own CPU, on the command
#    line);
# 4. ends through the exit protocol: "exit-port: <code>", the code to port 0xf4 (QEMU's
#    isa-debug-exit; nestbed catches it too), "Shutdown" to port 0x8900 (Bochs), one byte
#    at a time, all through /dev/port (kvm_l2_runner --exit-port, else dd); then poweroff.
#    code: 0 every test passed, 1 a test failed, 2 the runner could not finish.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

echo "# nestbed-kvm: init reached (kernel $(uname -r))"
cmdline=$(cat /proc/cmdline)

# The value of the last WORD=V on the command line.
cmdline_value() {
	v=
	for w in $cmdline; do
		case "$w" in "$1"=*) v=${w#*=} ;; esac
	done
	echo "$v"
}

# The parameters the command line gives module $1 (name with underscores), as insmod
# arguments.
module_params() {
	p=
	for w in $cmdline; do
		case "$w" in *.*=*) ;; *) continue ;; esac
		m=$(echo "${w%%.*}" | tr - _)
		[ "$m" = "$1" ] && p="$p ${w#*.}"
	done
	echo "$p"
}

vendor=$(sed -n 's/^vendor_id[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
case " $flags " in
*" svm "*) virt=svm ;;
*" vmx "*) virt=vmx ;;
*) virt=none ;;
esac
case "$vendor" in
AuthenticAMD | HygonGenuine) order=/lib/modules/kvm/amd.order ;;
GenuineIntel) order=/lib/modules/kvm/intel.order ;;
*) order= ;;
esac
echo "# CPU: $vendor, hardware virtualization: $virt, $(grep -c ^processor /proc/cpuinfo) CPU(s)"
echo "# CPUs online: $(cat /sys/devices/system/cpu/online)"

if [ -z "$order" ] || [ ! -f "$order" ]; then
	echo "# no KVM module list for CPU vendor '$vendor'"
else
	for mod in $(cat "$order"); do
		name=$(echo "$mod" | tr - _)
		params=$(module_params "$name")
		if [ -d "/sys/module/$name" ]; then
			echo "# $name: already present (built in)"
			continue
		fi
		# shellcheck disable=SC2086 # the parameters are separate words
		if out=$(insmod "/lib/modules/kvm/$mod.ko" $params 2>&1); then
			echo "# insmod $mod$params: ok"
		else
			echo "# insmod $mod$params: failed: $out"
		fi
	done
fi

loops=$(cmdline_value kvm_l2_runner.loops)
phase_timeout=$(cmdline_value kvm_l2_runner.phase_timeout)
vcpus=$(cmdline_value kvm_l2.vcpus)
pin=$(cmdline_value kvm_l2.pin)
[ "$pin" = 1 ] || pin=
/bin/kvm_l2_runner ${loops:+--loops "$loops"} ${phase_timeout:+--phase-timeout "$phase_timeout"} \
	${vcpus:+--vcpus "$vcpus"} ${pin:+--pin}
rc=$?
code=0
if [ $rc -eq 1 ]; then
	code=1
elif [ $rc -ne 0 ]; then
	code=2
	echo "Bail out! kvm_l2_runner ended with status $rc"
fi
if [ $rc -ne 0 ]; then
	# the kernel's words since /init started (an oops, a KVM warning) go with the evidence
	dmesg | sed -n '/Run \/init as init process/,$p' |
		grep -v -e 'Run /init' -e 'with arguments:' -e 'with environment:' \
			-e '^\[[ 0-9.]*\]     ' | tail -n 40 | sed 's/^/# dmesg: /'
fi

echo "exit-port: $code"
# the runner drains the UART and writes the ports (on Bochs with 2 CPUs, sleep 0.2 and a
# dd per byte took 19 s, more than the harness waits); sleep and dd when that fails
if ! /bin/kvm_l2_runner --exit-port "$code"; then
	sleep 0.2   # let the UART drain before the emulator stops
	printf "\\$(printf %03o "$code")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	for c in S h u t d o w n; do
		printf $c | dd of=/dev/port bs=1 seek=35072 count=1 2>/dev/null
	done
fi
poweroff -f
