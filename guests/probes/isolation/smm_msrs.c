/* isolation/smm-msrs (AMD-V): SMM_BASE (C001_0111h) places the SMM state save at
 * SMBASE + FE00h; SMM_ADDR/SMM_MASK (C001_0112h/0113h) place ASeg and TSeg; SMM_CTL
 * (C001_0116h) enters and leaves SMM. A CPU whose firmware set HWCR.SMMLOCK
 * (C001_0015h bit 0) makes them read-only: WRMSR raises #GP(0) (APM vol.2 10.2, 10.7),
 * and nestbed answers the same. Asserted: WRMSR to each of the four raises #GP with error
 * code 0 and HWCR.SMMLOCK reads 1; nestbed's canary is unchanged. SKIP on VT-x (the
 * MSRs are AMD's) and without nestbed (bare, the firmware leaves SMM unlocked and the
 * writes would move it). */
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "lib/msr.h"
#include "probes/isolation/l0_doors.h"
#include "lib/probe.h"

#define MSR_HWCR 0xc0010015u
#define HWCR_SMMLOCK 1ull
#define VECTOR_GP 13

struct msr_write {
	uint32_t msr;
	uint64_t value;
};

static void do_wrmsr(void *arg)
{
	const struct msr_write *w = arg;
	wrmsr(w->msr, w->value);
}

static enum probe_status smm_msrs(struct probe_run *run)
{
	if (cpu_vendor() != CPU_VENDOR_AMD)
		return probe_skip(run, "not an AMD CPU: SMM_BASE/SMM_ADDR/SMM_MASK/SMM_CTL and HWCR.SMMLOCK are AMD's");
	struct l0_canary canary = { 0, 0, 0 };
	enum probe_status s = l0_canary_get(run, &canary);
	if (s != PROBE_PASS)
		return s;
	static const struct {
		uint32_t msr;
		const char *name;
	} msrs[] = {
		{ 0xc0010111u, "SMM_BASE" },
		{ 0xc0010112u, "SMM_ADDR" },
		{ 0xc0010113u, "SMM_MASK" },
		{ 0xc0010116u, "SMM_CTL" },
	};
	uint64_t hwcr = 0;
	if (!rdmsr_safe(MSR_HWCR, &hwcr))
		return probe_fail(run, "RDMSR HWCR: expected a value, observed #GP");
	diag("HWCR %#llx", (unsigned long long)hwcr);
	EXPECT_EQ(run, "HWCR.SMMLOCK", 1, hwcr & HWCR_SMMLOCK);
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uint64_t value = 0;
		bool readable = rdmsr_safe(msrs[i].msr, &value);
		diag("%s reads %s%#llx", msrs[i].name, readable ? "" : "#GP, writing ",
		     (unsigned long long)(readable ? value : 0));
		/* SMM_BASE moved onto address 0x1000, where the attack of issue 11 aimed its state save */
		struct msr_write w = { msrs[i].msr, i == 0 ? 0x1000 : value ^ 0x1000 };
		struct exc_record fault;
		if (!exc_try(&fault, do_wrmsr, &w))
			return probe_fail(run, "WRMSR %s (%#x) = %#llx: expected #GP(0) with HWCR.SMMLOCK set, observed no exception",
					  msrs[i].name, msrs[i].msr, (unsigned long long)w.value);
		if (fault.vector != VECTOR_GP || fault.error_code != 0)
			return probe_fail(run, "WRMSR %s: expected #GP(0), observed vector %llu error %#llx",
					  msrs[i].name, (unsigned long long)fault.vector,
					  (unsigned long long)fault.error_code);
	}
	return l0_canary_same(run, &canary, "after the SMM MSR writes");
}
PROBE("isolation/smm-msrs", smm_msrs);
