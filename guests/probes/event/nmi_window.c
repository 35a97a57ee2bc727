/* event/nmi-window-...: NMI-window exiting (SDM vol.3C 26.7.6; with the virtual NMIs and
 * NMI exiting it needs, 26.2.1.1): a VM exit with reason 8 and exit qualification 0
 * (27.2.1) before any instruction while there is no virtual-NMI blocking; with blocking
 * by NMI in the guest interruptibility state (24.4.2), right after the IRET that ends it
 * (25.3: IRET unblocks virtual NMIs). AMD-V has no NMI-window control: SKIP. */
#include "lib/mhv.h"
#include "lib/vmx.h"

#define INT_BLOCKING_NMI (1u << 3) /* guest interruptibility state, SDM vol.3C 24.4.2 */

MHV_L2_ASM(l2_nops, "nop\n\tnop\n\tnop\n\tnop");
/* An IRETQ to the next instruction (a frame of SS, RSP, RFLAGS, CS, RIP). */
MHV_L2_ASM(l2_iret, "mov %rsp, %rax\n\t"
		    "mov %ss, %ecx\n\tpush %rcx\n\t"
		    "push %rax\n\t"
		    "pushfq\n\t"
		    "mov %cs, %ecx\n\tpush %rcx\n\t"
		    "lea nmiw_after_iret(%rip), %rcx\n\tpush %rcx\n\t"
		    "iretq\n"
		    "nmiw_after_iret:\n\tnop\n\tnop");
extern const char nmiw_after_iret[];

static enum probe_status expect_nmi_window(struct probe_run *run, const struct mhv_exit *e,
					   uint64_t rip)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_NMI_WINDOW));
	EXPECT_EXIT(run, MHV_VENDOR_VMX,
		    "VMX exit reason (NMI window)", VMX_EXIT_NMI_WINDOW, e->reason);
	EXPECT_EQ(run, "exit qualification of an NMI-window exit", 0, e->qualification);
	MHV_CHECK(mhv_expect_no_vectoring(run, e));
	EXPECT_EQ(run, "L2 RIP at the NMI-window exit", rip, e->rip);
	return PROBE_PASS;
}

static enum probe_status window_open(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_NMI_WINDOW, true));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("NMI window", &e);
	MHV_CHECK(expect_nmi_window(run, &e, (uint64_t)l2_nops));
	/* the window stays open: the next entry exits again at the same place */
	mhv_run(vm, &e);
	MHV_CHECK(expect_nmi_window(run, &e, (uint64_t)l2_nops));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_NMI_WINDOW, false));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/nmi-window", window_open);

static enum probe_status after_iret(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_NMI_WINDOW, true));
	mhv_l2_call(vm, l2_iret, NULL);
	uint64_t rsp0 = mhv_get(vm, MHV_REG_RSP);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, INT_BLOCKING_NMI); /* L2 "in its NMI handler" */
	mhv_run(vm, &e);
	mhv_diag_exit("NMI window after IRET", &e);
	MHV_CHECK(expect_nmi_window(run, &e, (uint64_t)nmiw_after_iret));
	EXPECT_EQ(run, "L2 RSP after IRET", rsp0, e.rsp);
	EXPECT_EQ(run, "blocking by NMI after IRET", 0,
		  vmread(VMCS_GUEST_INTERRUPTIBILITY) & INT_BLOCKING_NMI);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_NMI_WINDOW, false));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/nmi-window-after-iret", after_iret);
