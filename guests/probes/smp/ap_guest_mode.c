/* smp/ap-guest-mode: under nestbed, an AP the guest starts (INIT, SIPI, SIPI) runs in
 * guest mode, and so does one that sent INIT to itself and was started again: nestbed's
 * VERSION hypercall made on the AP is answered, with the same ABI version and vendor as
 * on the boot CPU. An AP that answered #UD would run outside guest mode, with the whole
 * machine (nestbed's memory included) in reach. SKIP bare: "not running under nestbed". */
#include "lib/nestbed_hc.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

struct hc_answer {
	enum nestbed_hc_outcome outcome;
	uint64_t vector;
	struct nestbed_hc_regs regs;
};

static void version(struct hc_answer *a)
{
	a->regs = (struct nestbed_hc_regs){ NESTBED_HC_MAGIC | NESTBED_HC_VERSION, 0, 0, 0 };
	a->vector = 0;
	a->outcome = nestbed_hypercall(&a->regs, &a->vector);
}

static uint64_t ap_version(void *arg)
{
	version(arg);
	return 0;
}

static enum probe_status expect_answer(struct probe_run *run, const char *when,
				       const struct hc_answer *bsp, const struct hc_answer *ap)
{
	if (ap->outcome != NESTBED_HC_ANSWERED)
		return probe_fail(run, "%s: nestbed's hypercall on the AP: expected an answer (the "
				  "AP in guest mode), observed %s (vector %llu)", when,
				  nestbed_hc_absent_reason(ap->outcome), (unsigned long long)ap->vector);
	EXPECT_EQ(run, "RAX (status) on the AP", 0, ap->regs.rax);
	EXPECT_EQ(run, "RBX (ABI version) on the AP, as on the boot CPU", bsp->regs.rbx,
		  ap->regs.rbx);
	EXPECT_EQ(run, "RCX (vendor) on the AP, as on the boot CPU", bsp->regs.rcx, ap->regs.rcx);
	return PROBE_PASS;
}

static enum probe_status ap_guest_mode(struct probe_run *run)
{
	static struct hc_answer bsp, ap;
	version(&bsp);
	if (bsp.outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu on the boot CPU",
				  (unsigned long long)bsp.vector);
	if (bsp.outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(bsp.outcome));
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	for (unsigned k = 1; k < smp_count(); k++) {
		if (smp_start(k, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
			return probe_fail(run, "%s", why);
		if (!smp_call(k, ap_version, &ap, NULL, 1000000))
			return probe_fail(run, "AP %u did not answer within 1 s", k);
		status = expect_answer(run, "after INIT-SIPI-SIPI", &bsp, &ap);
		if (status != PROBE_PASS)
			return status;
	}
	/* AP 1 sends INIT to itself, the boot CPU starts it again. */
	struct smp_cpu *c = smp_cpu(1);
	if (!smp_post(1, smp_ap_init_self, c))
		return probe_fail(run, "AP 1 is not online");
	if (smp_restart_after_self_init(1, SMP_TRAMPOLINE_VECTOR_ALT, NULL, NULL, why,
					sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	if (!smp_call(1, ap_version, &ap, NULL, 1000000))
		return probe_fail(run, "AP 1 did not answer within 1 s after its self-INIT");
	return expect_answer(run, "after a self-INIT and SIPI", &bsp, &ap);
}
PROBE("smp/ap-guest-mode", ap_guest_mode);
