/* smp/wait-for-sipi (VT-x only): where IA32_VMX_MISC[8] allows it, L1 enters L2 in the
 * wait-for-SIPI activity state (guest activity state 3, SDM vol.3C 25.4.2 Table 25-3);
 * a startup IPI to that CPU then causes a VM exit with basic reason 4 (SIPI) and the
 * SIPI's vector in exit qualification bits 7:0 (SDM vol.3C 26.2, 28.2.1, Table 28-1).
 * AMD-V has no such state: SKIP. */
#include "lib/cpu.h"
#include "lib/delay.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/smp.h"
#include "lib/vmx.h"
#include "probes/smp/smp_probe.h"

#define VMX_MISC_WAIT_FOR_SIPI (1ull << 8)
#define ACTIVITY_WAIT_FOR_SIPI 3
#define SIPI_VECTOR            0x9a /* any vector: nothing runs at 9A000h */
#define SETTLE_US              10000
#define WAIT_US                1000000
#define SIPI_ROUND_US          200000

static struct mhv_cpu ap_region;

struct sipi_job {
	struct probe_run *run;
	volatile uint32_t entering;
	volatile uint32_t exited;
	struct mhv_exit exit;
};

static uint64_t ap_wait_for_sipi(void *arg)
{
	struct sipi_job *job = arg;
	struct probe_run *run = job->run;
	MHV_CHECK(mhv_enable_this_cpu(run, &ap_region));
	struct mhv_vm *vm;
	enum probe_status status = mhv_start(run, &vm, MHV_MODE_LONG, 0);
	if (status != PROBE_PASS) {
		mhv_disable_this_cpu(NULL);
		return status;
	}
	vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_WAIT_FOR_SIPI);
	job->entering = 1;
	mhv_run(vm, &job->exit);
	job->exited = 1;
	mhv_disable_this_cpu(vm);
	return PROBE_PASS;
}

static bool exited(void *arg)
{
	return ((struct sipi_job *)arg)->exited != 0;
}

static bool entering(void *arg)
{
	return ((struct sipi_job *)arg)->entering != 0;
}

static enum probe_status wait_for_sipi(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	MHV_CHECK(mhv_prepare(run));
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX,
				     "AMD-V has no wait-for-SIPI activity state"));
	uint64_t misc = rdmsr(MSR_IA32_VMX_MISC);
	if (!(misc & VMX_MISC_WAIT_FOR_SIPI))
		return probe_skip(run, "IA32_VMX_MISC[8] = 0 (%#llx): no wait-for-SIPI activity "
				  "state", (unsigned long long)misc);
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	static struct sipi_job job;
	job = (struct sipi_job){ .run = run };
	struct smp_cpu *ap = smp_cpu(1);
	if (!smp_post(1, ap_wait_for_sipi, &job))
		return probe_fail(run, "AP 1 is not online");
	if (!delay_poll(entering, &job, WAIT_US, 1000)) {
		uint64_t result;
		if (smp_wait_result(1, &result, WAIT_US) && result != PROBE_PASS)
			return (enum probe_status)result;
		return probe_fail(run, "AP 1's L1 did not reach VM entry within 1 s");
	}
	delay_us(SETTLE_US);
	if (job.exited)
		return probe_fail(run, "VM entry in wait-for-SIPI exited at once: reason %#x "
				  "qualification %#llx%s", job.exit.reason,
				  (unsigned long long)job.exit.qualification,
				  job.exit.vmfail ? " (VMfail)" : "");
	/* entering is said before the VM entry: an AP whose host thread stalls in between
	 * for longer than SETTLE_US is not yet waiting when the SIPI comes, and a CPU outside
	 * wait-for-SIPI ignores it (SDM vol.3A 9.4.4; VMX root operation too): the SIPI goes
	 * again every SIPI_ROUND_US while no exit came, WAIT_US in all */
	unsigned sipis = 0;
	for (unsigned waited = 0; waited < WAIT_US && !job.exited; waited += SIPI_ROUND_US) {
		if (!lapic_send_ipi(ap->apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | SIPI_VECTOR))
			return probe_fail(run, "the startup IPI stayed pending");
		sipis++;
		delay_poll(exited, &job, SIPI_ROUND_US, 1000);
	}
	if (!job.exited)
		return probe_fail(run, "no VM exit reached the AP's L1 within 1 s of the first of %u "
				  "SIPIs", sipis);
	if (sipis > 1)
		diag("the SIPI exit came after SIPI %u: the AP's L2 was not yet waiting for the "
		     "ones before, or its exit was slow", sipis);
	uint64_t result = PROBE_FAIL;
	if (!smp_wait_result(1, &result, WAIT_US))
		return probe_fail(run, "the AP's L1 did not return after the SIPI exit");
	EXPECT_EXIT(run, MHV_VENDOR_VMX,
		    "VMX exit reason (SIPI)", VMX_EXIT_SIPI, job.exit.reason);
	EXPECT_EQ(run, "VMX exit qualification (the SIPI's vector)", SIPI_VECTOR,
		  job.exit.qualification);
	return (enum probe_status)result;
}
PROBE("smp/wait-for-sipi", wait_for_sipi);
