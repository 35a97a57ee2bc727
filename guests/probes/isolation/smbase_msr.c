/* isolation/smbase-msr (VT-x): IA32_SMBASE (9EH) is read-only and readable in SMM only,
 * and IA32_SMM_MONITOR_CTL (9BH, where the SMM-transfer monitor's MSEG lies) may be
 * written only in SMM (SDM vol.3C 34.15.5, 34.15.6.4): outside SMM, RDMSR and WRMSR of
 * IA32_SMBASE and WRMSR of IA32_SMM_MONITOR_CTL raise #GP(0). A guest never runs in SMM,
 * so neither can move the CPU's SMM state. Architectural: asserted bare and under
 * nestbed. SKIP on AMD-V (isolation/smm-msrs has AMD's SMM MSRs). */
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "core/format.h"
#include "lib/probe.h"

#define MSR_IA32_SMM_MONITOR_CTL 0x9bu
#define MSR_IA32_SMBASE 0x9eu
#define VECTOR_GP 13

struct msr_access {
	uint32_t msr;
	bool write;
	uint64_t value;
};

static void do_access(void *arg)
{
	struct msr_access *a = arg;
	if (a->write)
		wrmsr(a->msr, a->value);
	else
		a->value = rdmsr(a->msr);
}

/* Writes "#GP(0)" or what the access did instead into buf; true for #GP(0). */
static bool raises_gp(struct msr_access *a, char *buf, size_t size)
{
	struct exc_record fault;
	if (!exc_try(&fault, do_access, a)) {
		if (a->write)
			format_buf(buf, size, "no exception");
		else
			format_buf(buf, size, "no exception, value %#llx", (unsigned long long)a->value);
		return false;
	}
	if (fault.vector != VECTOR_GP || fault.error_code != 0) {
		format_buf(buf, size, "vector %llu error %#llx", (unsigned long long)fault.vector,
			   (unsigned long long)fault.error_code);
		return false;
	}
	format_buf(buf, size, "#GP(0)");
	return true;
}

static enum probe_status smbase_msr(struct probe_run *run)
{
	if (cpu_vendor() != CPU_VENDOR_INTEL)
		return probe_skip(run, "not an Intel CPU: IA32_SMBASE and IA32_SMM_MONITOR_CTL are Intel's "
				  "(isolation/smm-msrs checks AMD's)");
	struct msr_access read_smbase = { MSR_IA32_SMBASE, false, 0 };
	struct msr_access write_smbase = { MSR_IA32_SMBASE, true, 0x1000 };
	struct msr_access write_monitor = { MSR_IA32_SMM_MONITOR_CTL, true, 0x100001 }; /* valid, MSEG at 1 MiB */
	char o1[48], o2[48], o3[48];
	bool ok = raises_gp(&read_smbase, o1, sizeof(o1));
	ok &= raises_gp(&write_smbase, o2, sizeof(o2));
	ok &= raises_gp(&write_monitor, o3, sizeof(o3));
	if (!ok)
		return probe_fail(run, "expected #GP(0) outside SMM for each; observed: RDMSR IA32_SMBASE %s; "
				  "WRMSR IA32_SMBASE %s; WRMSR IA32_SMM_MONITOR_CTL %s", o1, o2, o3);
	return PROBE_PASS;
}
PROBE("isolation/smbase-msr", smbase_msr);
