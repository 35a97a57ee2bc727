/* cost/own-<insn>: what one exit that the hypervisor under this guest handles itself costs
 * (issue 13): the guest executes CPUID, RDMSR of EFER or OUT to the Bochs shutdown port
 * (with a byte that is no part of "Shutdown") COST_OWN_EXITS times and reads its TSC
 * around the loop. Under nestbed each is an exit nestbed answers without any L1 (nestbed
 * intercepts CPUID, EFER reads and port 0x8900 for itself); bare, the instruction runs on
 * the platform. The line
 *
 *     # cost own-<insn>: <N> round trips, <ticks> ticks, <ticks/N> ticks per round trip
 *
 * has cost/'s format (harness/bench.py). Under QEMU -icount shift=0 the ticks are the
 * instructions retired: the loop's own, the guest's, and nestbed's (harness profile
 * counts nestbed's alone, per function).
 *
 * The probe checks what each instruction gave: every CPUID(0) answers as the first did,
 * every RDMSR of EFER equals the first and has LME and LMA set (this guest runs in
 * 64-bit mode, APM vol.2 14.6), and the loops ran to their end. */
#include "lib/cpu.h"
#include "lib/probe.h"

#define COST_OWN_EXITS 1000
#define MSR_EFER 0xC0000080u           /* APM vol.2 3.1.7 */
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define SHUTDOWN_PORT 0x8900           /* Bochs' shutdown port: nestbed always intercepts it */
#define NOT_IN_SHUTDOWN 0x00           /* no byte of "Shutdown": the match restarts */

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t ticks)
{
	diag("cost %s: %u round trips, %llu ticks, %llu ticks per round trip", name,
	     COST_OWN_EXITS, (unsigned long long)ticks,
	     (unsigned long long)(ticks / COST_OWN_EXITS));
}

static enum probe_status own_cpuid(struct probe_run *run)
{
	struct cpuid_regs first = cpuid_subleaf(0, 0);
	unsigned differ = 0;
	uint64_t start = tsc();
	for (unsigned i = 0; i < COST_OWN_EXITS; i++) {
		uint32_t a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		differ += a != first.eax || b != first.ebx || c != first.ecx || d != first.edx;
	}
	uint64_t ticks = tsc() - start;
	EXPECT_EQ(run, "CPUID(0) answers that differ from the first", 0, differ);
	report("own-cpuid", ticks);
	return PROBE_PASS;
}
PROBE("cost/own-cpuid", own_cpuid);

static enum probe_status own_rdmsr(struct probe_run *run)
{
	uint64_t first = rdmsr(MSR_EFER);
	EXPECT_EQ(run, "EFER.LME and LMA in 64-bit mode", EFER_LME | EFER_LMA,
		  first & (EFER_LME | EFER_LMA));
	unsigned differ = 0;
	uint64_t start = tsc();
	for (unsigned i = 0; i < COST_OWN_EXITS; i++) {
		uint32_t lo, hi;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
		differ += (((uint64_t)hi << 32) | lo) != first;
	}
	uint64_t ticks = tsc() - start;
	EXPECT_EQ(run, "EFER reads that differ from the first", 0, differ);
	report("own-rdmsr", ticks);
	return PROBE_PASS;
}
PROBE("cost/own-rdmsr", own_rdmsr);

/* OUT has no result to check: the probe passes when the loop ends (under nestbed, every
 * OUT was an exit that came back). */
static enum probe_status own_out(struct probe_run *run)
{
	(void)run;
	uint64_t start = tsc();
	for (unsigned i = 0; i < COST_OWN_EXITS; i++)
		__asm__ volatile("outb %b0, %w1" : : "a"(NOT_IN_SHUTDOWN), "d"(SHUTDOWN_PORT));
	uint64_t ticks = tsc() - start;
	report("own-out", ticks);
	return PROBE_PASS;
}
PROBE("cost/own-out", own_out);
