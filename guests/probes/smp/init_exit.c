/* smp/init-exit: an INIT sent to an AP while its L1 runs an L2.
 *   VT-x: INIT causes a VM exit, basic reason 3, qualification 0, with L2's RIP saved
 *   and nothing else done (SDM vol.3C 26.2, 28.2.1): the exit is the INIT's delivery,
 *   so the AP's L1 goes on, past VMXOFF too (INIT is only blocked in VMX root
 *   operation, 24.8).
 *   AMD-V: with the INIT intercept set (VMCB vector 3 bit 3), #VMEXIT 63h (APM vol.2
 *   15.13.3, Appendix C); the #VMEXIT clears GIF and an INIT is held pending while GIF
 *   is 0 (15.17.1), so L1 runs on until its STGI, where the INIT takes the AP into
 *   wait-for-SIPI. The probe sees that the code after VMRUN ran (it stores L2's RBX)
 *   before the CPU went away. (With the intercept clear the INIT would reset the CPU:
 *   not tested.) */
#include "lib/delay.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/smp.h"
#include "lib/svm.h"
#include "lib/vmx.h"
#include "probes/smp/smp_probe.h"

#define L2_RBX_MARK 0x1e1715e7u
#define WAIT_US     1000000

volatile uint32_t smp_l2_spinning;
/* L2: says it runs, then spins with a mark in RBX. */
MHV_L2_ASM(l2_spin, "movl $1, smp_l2_spinning(%rip)\n\tmov $0x1e1715e7, %ebx\n"
		    "smp_l2_spin_loop:\n\tpause\n\tjmp smp_l2_spin_loop");
extern const char smp_l2_spin_loop[];
#define SPIN_LOOP_LENGTH 4 /* pause (2), jmp rel8 (2) */

static struct mhv_cpu ap_region;

struct init_job {
	struct probe_run *run;
	struct mhv_vm *volatile vm;       /* for the boot CPU, once started */
	volatile uint32_t exited;         /* VMX: the AP's L1 got its exit back */
	volatile uint32_t left_vmx;       /* VMX: ... and went on past VMXOFF */
	struct mhv_exit exit;
};

static uint64_t ap_run_spinning_l2(void *arg)
{
	struct init_job *job = arg;
	struct probe_run *run = job->run;
	MHV_CHECK(mhv_enable_this_cpu(run, &ap_region));
	struct mhv_vm *vm;
	enum probe_status status = mhv_start(run, &vm, MHV_MODE_LONG, 0);
	if (status != PROBE_PASS) {
		mhv_disable_this_cpu(NULL);
		return status;
	}
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_INIT;
	mhv_l2_call(vm, l2_spin, NULL);
	job->vm = vm;
	mhv_run(vm, &job->exit);
	job->exited = 1;
	mhv_disable_this_cpu(vm);
	job->left_vmx = 1;
	return PROBE_PASS;
}

static bool spinning(void *arg)
{
	(void)arg;
	return smp_l2_spinning != 0;
}

static bool exited(void *arg)
{
	return ((struct init_job *)arg)->exited != 0;
}

static bool rip_in_spin_loop(uint64_t rip)
{
	return rip >= (uint64_t)smp_l2_spin_loop && rip < (uint64_t)smp_l2_spin_loop + SPIN_LOOP_LENGTH;
}

static enum probe_status init_exit(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	MHV_CHECK(mhv_prepare(run));
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	static struct init_job job;
	job = (struct init_job){ .run = run };
	smp_l2_spinning = 0;
	struct smp_cpu *ap = smp_cpu(1);
	if (!smp_post(1, ap_run_spinning_l2, &job))
		return probe_fail(run, "AP 1 is not online");
	if (!delay_poll(spinning, NULL, WAIT_US, 1000)) {
		uint64_t result;
		if (smp_wait_result(1, &result, WAIT_US) && result != PROBE_PASS)
			return (enum probe_status)result; /* SKIP or FAIL with the AP's reason */
		return probe_fail(run, "L2 on AP 1 did not start within 1 s");
	}
	if (!lapic_send_ipi(ap->apic_id, ICR_INIT | ICR_LEVEL_ASSERT))
		return probe_fail(run, "the INIT IPI stayed pending");
	bool back = delay_poll(exited, &job, WAIT_US, 1000);
	uint64_t result = PROBE_FAIL;
	bool returned = smp_wait_result(1, &result, WAIT_US);

	if (mhv_vendor() == MHV_VENDOR_VMX) {
		if (!back)
			return probe_fail(run, "no VM exit reached the AP's L1 within 1 s of the INIT");
		EXPECT_EXIT(run, MHV_VENDOR_VMX,
			    "VMX exit reason (INIT signal)", VMX_EXIT_INIT, job.exit.reason);
		EXPECT_EQ(run, "VMX exit qualification", 0, job.exit.qualification);
		if (!rip_in_spin_loop(job.exit.rip))
			return probe_fail(run, "L2 RIP saved by the INIT exit: expected %#llx..%#llx, "
					  "observed %#llx", (unsigned long long)smp_l2_spin_loop,
					  (unsigned long long)smp_l2_spin_loop + SPIN_LOOP_LENGTH - 1,
					  (unsigned long long)job.exit.rip);
		if (!job.left_vmx)
			return probe_fail(run, "the INIT that caused the exit stayed pending: the AP's "
					  "L1 never got past VMXOFF (an INIT exit consumes the INIT, "
					  "SDM vol.3C 26.2)");
		if (!returned)
			return probe_fail(run, "the AP's L1 did not return after the INIT exit");
		return (enum probe_status)result;
	}
	/* AMD-V: the VMCB in memory says what the #VMEXIT wrote. */
	struct svm_vmcb *v = job.vm->vmcb;
	EXPECT_EXIT(run, MHV_VENDOR_SVM,
		    "SVM EXITCODE (INIT intercept), low 32 bits", SVM_EXIT_INIT,
		  (uint32_t)v->exitcode);
	if (!rip_in_spin_loop(v->rip))
		return probe_fail(run, "L2 RIP in the VMCB: expected %#llx..%#llx, observed %#llx",
				  (unsigned long long)smp_l2_spin_loop,
				  (unsigned long long)smp_l2_spin_loop + SPIN_LOOP_LENGTH - 1,
				  (unsigned long long)v->rip);
	EXPECT_EQ(run, "L2's RBX stored by L1 after VMRUN (INIT held pending while GIF = 0)",
		  L2_RBX_MARK, job.vm->regs.rbx);
	if (back || returned)
		return probe_fail(run, "the AP's L1 went on past STGI: the pending INIT was not "
				  "taken there");
	return PROBE_PASS;
}
PROBE("smp/init-exit", init_exit);
