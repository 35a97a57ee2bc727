/* event/mtf-...: the monitor trap flag (SDM vol.3C 25.5.3): with the control on, a VM exit
 * with reason 37 and exit qualification 0 (27.2.1) comes on the instruction boundary
 * after each L2 instruction, trap-like (RIP already past it); after an injected event it
 * comes once the event is delivered, before the handler's first instruction (26.7.2);
 * an injected "pending MTF VM exit" (type 7, vector 0) exits before L2's first
 * instruction even with the control off (26.7.8). MTF VM exits take priority over
 * debug traps, NMIs and interrupts, so over an interrupt window opening on the same
 * boundary. AMD-V has no such control: SKIP. */
#include "lib/exception.h"
#include "lib/layout.h"
#include "lib/mhv.h"
#include "lib/vmx.h"

#define RFLAGS_IF 0x200ull
#define INT_BLOCKING_STI 1u     /* guest interruptibility state bit 0, SDM vol.3C 24.4.2 */
#define INT_FRAME_64 40u        /* SS, RSP, RFLAGS, CS, RIP (SDM vol.3A 6.14.2) */
#define INT_STACK_ALIGN 0xfull  /* 64-bit delivery aligns RSP to 16 bytes first */
#define IDT_GATE_SIZE 16u

/* One instruction per label; each label is where RIP is after the one before it. The
 * RDMSR of EFER is one a hypervisor underneath may complete itself (nestbed does): its
 * MTF exit must come all the same. */
MHV_L2_ASM(l2_steps, "nop\n"
		     "mtf_step1:\n\tmov $0xc0000080, %ecx\n"
		     "mtf_step2:\n\trdmsr\n"
		     "mtf_step3:\n\tmov $0x12345678, %eax\n"
		     "mtf_step4:\n\tadd $0x11, %rax\n"
		     "mtf_step5:\n\tjmp mtf_step7\n"
		     "mtf_step6:\n\tud2\n"
		     "mtf_step7:\n\tpush %rax\n"
		     "mtf_step8:\n\tpop %rcx\n"
		     "mtf_step9:\n\tnop");
extern const char mtf_step1[], mtf_step2[], mtf_step3[], mtf_step4[], mtf_step5[], mtf_step7[],
	mtf_step8[], mtf_step9[];

MHV_L2_ASM(l2_nops, "nop\n\tnop\n\tnop\n\tnop");
MHV_L2_ASM(l2_sti_nops, "sti\n\tnop\n\tnop\n\tnop");

/* An MTF exit: reason 37, qualification 0, no event being delivered, L2 at rip. */
static enum probe_status expect_mtf(struct probe_run *run, const struct mhv_exit *e, uint64_t rip)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_MTF));
	EXPECT_EXIT(run, MHV_VENDOR_VMX,
		    "VMX exit reason (monitor trap flag)", VMX_EXIT_MTF, e->reason);
	EXPECT_EQ(run, "exit qualification of an MTF exit", 0, e->qualification);
	MHV_CHECK(mhv_expect_no_vectoring(run, e));
	EXPECT_EQ(run, "L2 RIP at the MTF exit", rip, e->rip);
	return PROBE_PASS;
}

static enum probe_status single_step(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, true));
	mhv_l2_call(vm, l2_steps, NULL);
	uint64_t rsp0 = mhv_get(vm, MHV_REG_RSP);
	vm->regs.rax = 0;
	vm->regs.rcx = 0;

	uint64_t efer = mhv_get(vm, MHV_REG_EFER);
	static const char *const after[] = { mtf_step1, mtf_step2, mtf_step3, mtf_step4, mtf_step5,
					     mtf_step7, mtf_step8, mtf_step9 };
	for (unsigned i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		mhv_run(vm, &e);
		if (i == 0)
			mhv_diag_exit("MTF after the first instruction", &e);
		if (e.kind != MHV_EXIT_MTF || e.rip != (uint64_t)after[i]) {
			mhv_diag_exit("unexpected", &e);
			return probe_fail(run, "after L2 instruction %u: expected an MTF exit (reason 37) "
					  "at RIP %#llx, observed reason %u at RIP %#llx", i + 1,
					  (unsigned long long)(uint64_t)after[i], e.reason,
					  (unsigned long long)e.rip);
		}
		MHV_CHECK(expect_mtf(run, &e, (uint64_t)after[i]));
		if (after[i] == mtf_step3)
			EXPECT_EQ(run, "L2 RAX after RDMSR of EFER", efer & 0xffffffffu, e.rax);
		if (after[i] == mtf_step4)
			EXPECT_EQ(run, "L2 RAX after MOV (the instruction completed)", 0x12345678, e.rax);
		if (after[i] == mtf_step5)
			EXPECT_EQ(run, "L2 RAX after ADD", 0x12345689, e.rax);
		if (after[i] == mtf_step8)
			EXPECT_EQ(run, "L2 RSP after PUSH", rsp0 - 8, e.rsp);
		if (after[i] == mtf_step9) {
			EXPECT_EQ(run, "L2 RCX after POP", 0x12345689, vm->regs.rcx);
			EXPECT_EQ(run, "L2 RSP after POP", rsp0, e.rsp);
		}
	}
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, false));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/mtf-single-step", single_step);

/* The handler L2's IDT names for a vector (64-bit gate, SDM vol.3A 6.14.1). */
static uint64_t l2_handler(unsigned vector)
{
	const uint64_t *gate = (const uint64_t *)(vmread(VMCS_GUEST_IDTR_BASE) + IDT_GATE_SIZE * vector);
	return (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull) | (gate[1] << 32);
}

static enum probe_status after_injection(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, true));
	mhv_l2_call(vm, l2_nops, NULL);
	uint64_t rsp0 = mhv_get(vm, MHV_REG_RSP);
	uint64_t handler = l2_handler(EXC_UD);
	uint64_t events = mhv_l2_event.count;
	mhv_inject(vm, MHV_EVENT_HW_EXCEPTION, EXC_UD, false, 0, 0);
	mhv_run(vm, &e);
	mhv_diag_exit("MTF after the injected #UD", &e);
	MHV_CHECK(expect_mtf(run, &e, handler));
	uint64_t frame = (rsp0 & ~INT_STACK_ALIGN) - INT_FRAME_64;
	EXPECT_EQ(run, "L2 RSP at the MTF exit (the #UD frame pushed)", frame, e.rsp);
	const uint64_t *pushed = (const uint64_t *)e.rsp;
	EXPECT_EQ(run, "RIP in the #UD frame (the entry RIP)", (uint64_t)l2_nops, pushed[0]);
	EXPECT_EQ(run, "CS in the #UD frame", GDT_CODE64, pushed[1]);
	EXPECT_EQ(run, "L2 events before the handler ran", events, mhv_l2_event.count);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, false));
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector L2's handler received", EXC_UD, mhv_l2_event.vector);
	return PROBE_PASS;
}
PROBE("event/mtf-after-injection", after_injection);

static enum probe_status pending_injection(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	/* type 7 is reserved unless the CPU has the control (26.2.1.3) */
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, true));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, false));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_inject(vm, MHV_EVENT_OTHER, 0, false, 0, 0);
	mhv_run(vm, &e);
	mhv_diag_exit("injected pending MTF VM exit", &e);
	MHV_CHECK(expect_mtf(run, &e, (uint64_t)l2_nops));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/mtf-pending-injection", pending_injection);

/* sti; nop: after STI the window is still shut (STI blocking); after the NOP it opens
 * on the same boundary as the MTF exit, which wins; the next entry, with no instruction
 * executed, exits for the window. */
static enum probe_status priority(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, true));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR_WINDOW, true));
	mhv_l2_call(vm, l2_sti_nops, NULL);
	uint64_t sti = (uint64_t)l2_sti_nops;
	mhv_run(vm, &e);
	mhv_diag_exit("after STI", &e);
	MHV_CHECK(expect_mtf(run, &e, sti + 1));
	EXPECT_EQ(run, "interruptibility state after STI (blocking by STI)", INT_BLOCKING_STI,
		  vmread(VMCS_GUEST_INTERRUPTIBILITY) & 0xf);
	mhv_run(vm, &e);
	mhv_diag_exit("after the NOP", &e);
	MHV_CHECK(expect_mtf(run, &e, sti + 2));
	EXPECT_EQ(run, "L2 RFLAGS.IF", RFLAGS_IF, e.rflags & RFLAGS_IF);
	mhv_run(vm, &e);
	mhv_diag_exit("next entry", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR_WINDOW));
	EXPECT_EQ(run, "L2 RIP at the interrupt-window exit (no instruction ran)", sti + 2, e.rip);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_MTF, false));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR_WINDOW, false));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/mtf-priority", priority);
