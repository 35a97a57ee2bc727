/* smp/self-init: an AP sends INIT to itself, by its own APIC ID (the "self" shorthand is
 * not allowed with INIT, SDM vol.3A 11.6.1 / APM vol.2 16.5), and so enters
 * wait-for-SIPI, and does not go on running; the boot CPU's startup IPIs with a new
 * vector start it again in real mode at CS = new vector << 8, IP = 0, in the INIT state
 * (SDM 9.1.2, Table 10-1; APM Table 14-1), once, and the old trampoline is not entered
 * again. The startup IPIs follow the AP's own sign that it sends its INIT, and repeat
 * (bounded) while it has not started: lib/smp.h smp_restart_after_self_init. */
#include "lib/cpu.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

static enum probe_status self_init(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	struct smp_cpu *ap = smp_cpu(1);
	struct smp_entry_state first, e;
	smp_trampoline_entry_state(SMP_TRAMPOLINE_VECTOR, &first);
	if (!smp_post(1, smp_ap_init_self, ap))
		return probe_fail(run, "AP 1 is not online");
	unsigned sipis;
	if (smp_restart_after_self_init(1, SMP_TRAMPOLINE_VECTOR_ALT, &e, &sipis, why,
					sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	if (sipis > 2)
		diag("%u startup IPIs before the AP came online: the SIPI pair was sent again while "
		     "its INIT or its start was slow", sipis);
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
