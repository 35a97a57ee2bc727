/* smp/nested-l2-on-ap: the mini-hypervisor runs an L2 on an AP (its own VMXON region or
 * host-save area, the VMCS/VMCB released by the boot CPU), and an L2 CPUID exits to the
 * AP's L1 with the exact exit values: VMX basic reason 10, SVM exit code 72h, RIP of the
 * CPUID, length 2 (SDM vol.3C 26.1.2, Appendix C; APM vol.2 15.9, Appendix C); L2 then
 * runs to its end. The AP leaves VMX operation afterwards (INIT is blocked in VMX root
 * operation). */
#include "lib/mhv.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

MHV_L2_ASM(l2_cpuid_on_ap, "mov $1, %eax\n\tcpuid"); /* 5 + 2 */
#define CPUID_OFFSET 5
#define CPUID_LENGTH 2

static struct mhv_cpu ap_region;

static enum probe_status on_ap(struct probe_run *run)
{
	MHV_CHECK(mhv_enable_this_cpu(run, &ap_region));
	struct mhv_vm *vm;
	enum probe_status status = mhv_start(run, &vm, MHV_MODE_LONG, 0);
	if (status != PROBE_PASS) {
		mhv_disable_this_cpu(NULL);
		return status;
	}
	status = mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true);
	if (status == PROBE_PASS) {
		mhv_l2_call(vm, l2_cpuid_on_ap, NULL);
		struct mhv_exit e;
		mhv_run(vm, &e);
		status = mhv_expect_insn(run, &e, MHV_EXIT_CPUID,
					 (uint64_t)l2_cpuid_on_ap + CPUID_OFFSET, CPUID_LENGTH);
		if (status == PROBE_PASS) {
			mhv_advance_rip(vm, CPUID_LENGTH);
			status = mhv_run_expect_done(run, vm);
		}
	}
	mhv_disable_this_cpu(vm);
	return status;
}

static uint64_t ap_run(void *arg)
{
	return on_ap(arg);
}

static enum probe_status nested_l2_on_ap(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	MHV_CHECK(mhv_prepare(run));
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	uint64_t result;
	if (!smp_call(1, ap_run, run, &result, 5000000))
		return probe_fail(run, "the AP's L1 did not finish within 5 s");
	return (enum probe_status)result;
}
PROBE("smp/nested-l2-on-ap", nested_l2_on_ap);
