/* smp/probe-on-ap: CPUID and RDMSR of EFER on an AP answer as on the boot CPU (bare:
 * the same CPU model; under a hypervisor: its CPUID and MSR policy on every CPU).
 * Fields that describe the CPU itself are left out: the APIC IDs (CPUID.1:EBX[31:24],
 * 0Bh/1Fh EDX, 8000_001Eh EAX) and the bits that mirror CR4 (CPUID.1:ECX[27] OSXSAVE,
 * 7:ECX[4] OSPKE). EFER: both CPUs run in long mode with paging, so LME and LMA (bits 8
 * and 10, SDM vol.3A 2.2.1; APM vol.2 3.1.7) read 1; the trampoline wrote LME (and NXE
 * as the boot CPU has it), so the AP reads exactly that plus LMA. */
#include "lib/cpu.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

#define MSR_EFER 0xc0000080u
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

struct leaf {
	uint32_t leaf, subleaf;
	struct cpuid_regs mask; /* bits compared */
};

static const struct leaf leaves[] = {
	{ 0x0, 0, { ~0u, ~0u, ~0u, ~0u } },
	{ 0x1, 0, { ~0u, 0x00ffffffu, ~(1u << 27), ~0u } },
	{ 0x7, 0, { ~0u, ~0u, ~(1u << 4), ~0u } },
	{ 0xd, 0, { ~0u, 0, ~0u, ~0u } },   /* EBX: the size for the current XCR0 */
	{ 0x40000000, 0, { ~0u, ~0u, ~0u, ~0u } },
	{ 0x80000000, 0, { ~0u, ~0u, ~0u, ~0u } },
	{ 0x80000001, 0, { ~0u, ~0u, ~0u, ~0u } },
	{ 0x80000008, 0, { ~0u, ~0u, ~0u, ~0u } },
	{ 0x8000000a, 0, { ~0u, ~0u, ~0u, ~0u } },
};
#define NR_LEAVES (sizeof(leaves) / sizeof(leaves[0]))

struct answers {
	struct cpuid_regs regs[NR_LEAVES];
	uint64_t efer;
};

static void ask(struct answers *a)
{
	for (unsigned i = 0; i < NR_LEAVES; i++)
		a->regs[i] = cpuid_subleaf(leaves[i].leaf, leaves[i].subleaf);
	a->efer = rdmsr(MSR_EFER);
}

static uint64_t ap_ask(void *arg)
{
	ask(arg);
	return 0;
}

static enum probe_status probe_on_ap(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	static struct answers bsp, ap;
	for (unsigned k = 1; k < smp_count(); k++) {
		if (smp_start(k, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
			return probe_fail(run, "%s", why);
		ask(&bsp);
		if (!smp_call(k, ap_ask, &ap, NULL, 1000000))
			return probe_fail(run, "AP %u did not answer within 1 s", k);
		for (unsigned i = 0; i < NR_LEAVES; i++) {
			const struct cpuid_regs *m = &leaves[i].mask, *b = &bsp.regs[i],
						*a = &ap.regs[i];
			if (((a->eax ^ b->eax) & m->eax) || ((a->ebx ^ b->ebx) & m->ebx) ||
			    ((a->ecx ^ b->ecx) & m->ecx) || ((a->edx ^ b->edx) & m->edx))
				return probe_fail(run, "CPUID %#x.%u on AP %u: expected (boot CPU) "
						  "%08x %08x %08x %08x, observed %08x %08x %08x %08x",
						  leaves[i].leaf, leaves[i].subleaf, k, b->eax, b->ebx,
						  b->ecx, b->edx, a->eax, a->ebx, a->ecx, a->edx);
		}
		EXPECT_EQ(run, "boot CPU EFER.LME and LMA", EFER_LME | EFER_LMA,
			  bsp.efer & (EFER_LME | EFER_LMA));
		EXPECT_EQ(run, "AP EFER (LME written, LMA set by the CPU)",
			  EFER_LME | EFER_LMA | (bsp.efer & EFER_NXE), ap.efer);
	}
	return PROBE_PASS;
}
PROBE("smp/probe-on-ap", probe_on_ap);
