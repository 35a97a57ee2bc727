/*
 * boot_marker: the first thing the Linux scenario's /init runs (scripts/make-initramfs).
 * It prints one line with where the boot stands when user space starts:
 *
 *   # boot-marker: tsc 0x<TSC> idle_cs <N> uptime_cs <N>
 *
 * tsc: RDTSC. The TSC counts from the machine's power-on (reset value 0, SDM vol.3
 * 18.17, APM vol.2 13.2.4), and nestbed runs its guest with TSC_OFFSET 0, so bare and
 * under nestbed it is the same clock. Under QEMU's -icount shift=0 the TSC advances one
 * tick per retired instruction and, with sleep=off, by the virtual time the machine spent
 * idle (QEMU warps the virtual clock to the next timer instead of sleeping): the virtual
 * nanoseconds from power-on to /init, deterministic, whatever the host's load (the
 * harness's `bench` reads it: harness/bench.py linux_boot).
 * idle_cs: the idle time of every CPU so far (/proc/stat's "cpu" line, in USER_HZ = 100
 * ticks a second, Linux's ABI), so that busy time = CPUs x uptime - idle.
 * uptime_cs: /proc/uptime's first field in hundredths of a second (Linux's clock since
 * its own timekeeping started).
 * /proc must be mounted for the last two; without it they are -1.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The sum of the idle field of /proc/stat's "cpu" line (its 4th value), or -1. */
static long long idle_cs(void)
{
	unsigned long long user, nice, system, idle;
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	int n = fscanf(f, "cpu %llu %llu %llu %llu", &user, &nice, &system, &idle);
	fclose(f);
	return n == 4 ? (long long)idle : -1;
}

static long long uptime_cs(void)
{
	unsigned long long s, cs;
	FILE *f = fopen("/proc/uptime", "r");
	if (!f)
		return -1;
	int n = fscanf(f, "%llu.%llu", &s, &cs);
	fclose(f);
	return n == 2 ? (long long)(s * 100 + cs) : -1;
}

int main(void)
{
	uint64_t tsc = rdtsc();
	printf("# boot-marker: tsc 0x%" PRIx64 " idle_cs %lld uptime_cs %lld\n", tsc, idle_cs(),
	       uptime_cs());
	return 0;
}
