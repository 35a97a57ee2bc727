/* smp/ap-startup: INIT, SIPI, SIPI start every AP the MADT lists, in real mode at
 * CS = vector << 8, IP = 0, in the INIT state (SDM vol.3A 9.4.4, Table 10-1; APM vol.2
 * 16.5, Table 14-1), and the AP's local APIC ID and CPUID initial APIC ID are the
 * MADT's. */
#include "lib/cpu.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

static uint64_t ap_cpuid1_ebx(void *arg)
{
	(void)arg;
	return cpuid(1).ebx;
}

static enum probe_status ap_startup(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	uint32_t signature = cpuid(1).eax;
	struct smp_entry_state entry[SMP_MAX_CPUS];
	for (unsigned k = 1; k < smp_count(); k++) {
		struct smp_cpu *c = smp_cpu(k);
		struct smp_entry_state *e = &entry[k];
		char why[PROBE_REASON_MAX];
		if (smp_start(k, SMP_TRAMPOLINE_VECTOR, e, why, sizeof(why)) < 0)
			return probe_fail(run, "%s", why);
		diag("AP %u: APIC ID %u (MADT %s entry)", k, c->apic_id,
		     c->x2apic_entry ? "x2APIC" : "local APIC");
		status = smp_expect_init_state(run, e, SMP_TRAMPOLINE_VECTOR);
		if (status != PROBE_PASS)
			return status;
		EXPECT_EQ(run, "the AP's local APIC ID (MADT's)", c->apic_id,
			  c->in_long_mode_apic_id);
		uint64_t ebx;
		if (!smp_call(k, ap_cpuid1_ebx, NULL, &ebx, 1000000))
			return probe_fail(run, "AP %u did not run CPUID within 1 s", k);
		if (c->apic_id < 256)
			EXPECT_EQ(run, "the AP's CPUID.1:EBX[31:24] initial APIC ID (MADT's)",
				  c->apic_id, ebx >> 24);
	}
	for (unsigned k = 1; k < smp_count(); k++) {
		status = smp_expect_init_edx(run, &entry[k], signature);
		if (status != PROBE_PASS)
			return status;
	}
	return PROBE_PASS;
}
PROBE("smp/ap-startup", ap_startup);
