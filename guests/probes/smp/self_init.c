/* smp/self-init: an AP sends INIT to itself, by its own APIC ID (the "self" shorthand is
 * not allowed with INIT, SDM vol.3A 11.6.1 Table 11-? / APM vol.2 16.5), and so enters
 * wait-for-SIPI; the boot CPU's startup IPI with a new vector starts it again in real
 * mode at CS = new vector << 8, IP = 0, in the INIT state (SDM 9.1.2, Table 10-1; APM
 * Table 14-1), and the old trampoline is not entered again. */
#include "lib/cpu.h"
#include "lib/delay.h"
#include "lib/lapic.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

#define INIT_SETTLE_US 10000

/* Never returns: the INIT takes the CPU away. */
static uint64_t ap_init_self(void *arg)
{
	struct smp_cpu *self = arg;
	lapic_send_ipi(lapic_id(), ICR_INIT | ICR_LEVEL_ASSERT);
	while (!self->stop)
		cpu_relax();
	return 1;
}

static enum probe_status self_init(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	struct smp_cpu *ap = smp_cpu(1);
	if (!smp_post(1, ap_init_self, ap))
		return probe_fail(run, "AP 1 is not online");
	uint64_t result;
	if (smp_wait_result(1, &result, INIT_SETTLE_US))
		return probe_fail(run, "AP 1 went on running after sending INIT to its own APIC "
				  "ID %u", ap->apic_id);
	struct smp_entry_state first, e;
	smp_trampoline_entry_state(SMP_TRAMPOLINE_VECTOR, &first);
	if (smp_sipi(1, SMP_TRAMPOLINE_VECTOR_ALT, &e, why, sizeof(why)) < 0)
		return probe_fail(run, "after its self-INIT: %s", why);
	struct smp_entry_state old;
	smp_trampoline_entry_state(SMP_TRAMPOLINE_VECTOR, &old);
	EXPECT_EQ(run, "entries into the first trampoline (only the first start)", first.entries,
		  old.entries);
	status = smp_expect_init_state(run, &e, SMP_TRAMPOLINE_VECTOR_ALT);
	if (status != PROBE_PASS)
		return status;
	EXPECT_EQ(run, "the AP's local APIC ID after the restart", ap->apic_id,
		  ap->in_long_mode_apic_id);
	return smp_expect_init_edx(run, &e, cpuid(1).eax);
}
PROBE("smp/self-init", self_init);
