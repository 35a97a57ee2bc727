/* tdp/fault-during-delivery-{int3,intn,pf}: L1's own nested page table lacks L2's IDT
 * page, so delivering an event to L2 exits to L1 with the event in the IDT-vectoring
 * information (VMX, with the instruction length of INT3 / INT n, SDM vol.3C 27.2.4,
 * 27.2.5) or EXITINTINFO (APM vol.2 15.7.2); L1 maps the page and delivers the event
 * again as KVM does (VMX: injects it with that length; SVM: resumes at the instruction,
 * which runs again, or injects the exception with its error code).
 *
 * event/reinject-after-tdp-fault-icebp: the VMX privileged software exception (type 5)
 * interrupted by a fault in the nested page tables of the hypervisor underneath, which
 * must re-inject it with the instruction length. The other event/reinject-* probes are
 * in event/reinject.c. */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define INTN_VECTOR 0x80
#define PF_READ_NOT_PRESENT 0u /* #PF error code: P = 0, W/R = 0, U/S = 0 (SDM vol.3A 4.7) */
#define PML4_SHIFT 39
#define PTE_P 1ull

MHV_L2_ASM(l2_int3, "int3\n\tnop");                 /* CC: 1 byte */
MHV_L2_ASM(l2_intn, "int $0x80\n\tnop");            /* CD 80: 2 bytes */
MHV_L2_ASM(l2_icebp, ".byte 0xf1\n\tnop");          /* ICEBP (INT1): 1 byte */
MHV_L2_ASM(l2_read, "mov (%rdi), %rax\n\tnop");     /* 48 8B 07: 3 bytes */

extern struct { uint64_t low, high; } mhv_l2_idt[256];

/* A linear address L1's (and so L2's) page tables leave unmapped: the first PML4 entry
 * after the identity-mapped low half that is not present; 0 when there is none. */
static uint64_t unmapped_linear(void)
{
	const uint64_t *pml4 = (const uint64_t *)(read_cr3() & TDP_ADDR_MASK);
	for (unsigned i = 1; i < 256; i++)
		if (!(pml4[i] & PTE_P))
			return (uint64_t)i << PML4_SHIFT;
	return 0;
}

/* A VM with nested paging whose tables the next entry flushes. */
static enum probe_status start_flushed(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_CHECK(mhv_start(run, vm, MHV_MODE_LONG, MHV_TDP));
	mhv_tdp_changed(*vm);
	return PROBE_PASS;
}

static enum probe_status expect_l2_event(struct probe_run *run, const struct mhv_exit *e,
					 unsigned vector, uint64_t error, uint64_t rip)
{
	mhv_diag_exit("L2's handler", e);
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector received by L2's handler", vector, mhv_l2_event.vector);
	EXPECT_EQ(run, "error code received by L2's handler", error, mhv_l2_event.error_code);
	EXPECT_EQ(run, "RIP pushed for L2's handler", rip, mhv_l2_event.rip);
	EXPECT_EQ(run, "events L2's handlers saw (delivered once)", 1, mhv_l2_event.count);
	return PROBE_PASS;
}

/* ICEBP raises #DB as a trap: for VMX a privileged software exception, re-injected as
 * type 5 with the instruction length (SDM vol.3C 24.8.3, 27.2.4). */
static enum probe_status reinject_icebp(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(start_flushed(run, &vm));
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "the privileged software exception "
				     "(type 5) is VMX's; AMD-V has no such event type"));
	mhv_l2_call(vm, l2_icebp, NULL);
	mhv_run(vm, &e);
	return expect_l2_event(run, &e, EXC_DB, 0, (uint64_t)l2_icebp + 1);
}
PROBE("event/reinject-after-tdp-fault-icebp", reinject_icebp);


/* ---- L1 intercepts the fault on L2's IDT page ---- */

static enum probe_status expect_idt_fault(struct probe_run *run, const struct mhv_exit *e,
					  unsigned vector, uint64_t rip)
{
	uint64_t gate = (uint64_t)mhv_l2_idt + vector * 16;
	mhv_diag_exit("fault reading L2's IDT gate", e);
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	EXPECT_EQ(run, "guest-physical address of the fault (the gate)", gate,
		  e->vendor == MHV_VENDOR_SVM ? e->exitinfo2 : e->guest_physical);
	return PROBE_PASS;
}

/* INT3 / INT n (len bytes at code): VMX IDT-vectoring information type 6 / 4 with the
 * VM-exit instruction length (27.2.4, 27.2.5); SVM EXITINTINFO valid with the vector. */
static enum probe_status l1_sees_soft(struct probe_run *run, void (*code)(void *), unsigned vector,
				      unsigned len, unsigned vmx_type)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)mhv_l2_idt, 0));
	mhv_l2_call(vm, code, NULL);
	mhv_run(vm, &e);
	MHV_CHECK(expect_idt_fault(run, &e, vector, (uint64_t)code));
	if (e.vendor == MHV_VENDOR_VMX) {
		EXPECT_EQ(run, "VMX IDT-vectoring information",
			  VMX_INTR_VALID | (vmx_type << VMX_INTR_TYPE_SHIFT) | vector, e.idt_vectoring_info);
		EXPECT_EQ(run, "VMX VM-exit instruction length (of the instruction being delivered)", len,
			  e.insn_len);
	} else {
		EXPECT_EQ(run, "SVM EXITINTINFO valid", SVM_EVENT_VALID, e.exitintinfo & SVM_EVENT_VALID);
		EXPECT_EQ(run, "SVM EXITINTINFO vector", vector, e.exitintinfo & SVM_EVENT_VECTOR_MASK);
	}
	/* L1 maps the page and delivers the event again */
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)mhv_l2_idt, TDP_RWX));
	if (e.vendor == MHV_VENDOR_VMX)
		mhv_inject(vm, (enum mhv_event_type)vmx_type, (uint8_t)vector, false, 0, len);
	mhv_run(vm, &e);
	return expect_l2_event(run, &e, vector, 0, (uint64_t)code + len);
}

static enum probe_status l1_sees_int3(struct probe_run *run)
{
	return l1_sees_soft(run, l2_int3, EXC_BP, 1, VMX_INTR_TYPE_SOFT_EXCEPTION);
}
PROBE("tdp/fault-during-delivery-int3", l1_sees_int3);

static enum probe_status l1_sees_intn(struct probe_run *run)
{
	return l1_sees_soft(run, l2_intn, INTN_VECTOR, 2, VMX_INTR_TYPE_SOFT_INT);
}
PROBE("tdp/fault-during-delivery-intn", l1_sees_intn);

/* #PF with its error code: VMX IDT-vectoring information type 3 with the error code in
 * the IDT-vectoring error code; SVM EXITINTINFO type 3 with the error code in its
 * high half. L1 injects it again (CR2 still holds the address). */
static enum probe_status l1_sees_pf(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint64_t addr = unmapped_linear();
	if (!addr)
		return probe_fail(run, "L1's page tables map every PML4 slot of the lower half");
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)mhv_l2_idt, 0));
	mhv_l2_call(vm, l2_read, (void *)addr);
	mhv_run(vm, &e);
	MHV_CHECK(expect_idt_fault(run, &e, EXC_PF, (uint64_t)l2_read));
	if (e.vendor == MHV_VENDOR_VMX) {
		EXPECT_EQ(run, "VMX IDT-vectoring information",
			  VMX_INTR_VALID | VMX_INTR_ERROR_VALID | (VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_TYPE_SHIFT) |
				  EXC_PF, e.idt_vectoring_info);
		EXPECT_EQ(run, "VMX IDT-vectoring error code", PF_READ_NOT_PRESENT, e.idt_vectoring_error);
	} else {
		EXPECT_EQ(run, "SVM EXITINTINFO",
			  SVM_EVENT_VALID | SVM_EVENT_ERROR_VALID | (SVM_EVENT_TYPE_EXCEPTION << SVM_EVENT_TYPE_SHIFT) |
				  ((uint64_t)PF_READ_NOT_PRESENT << SVM_EVENT_ERROR_SHIFT) | EXC_PF,
			  e.exitintinfo);
	}
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)mhv_l2_idt, TDP_RWX));
	mhv_inject(vm, MHV_EVENT_HW_EXCEPTION, EXC_PF, true, PF_READ_NOT_PRESENT, 0);
	mhv_run(vm, &e);
	MHV_CHECK(expect_l2_event(run, &e, EXC_PF, PF_READ_NOT_PRESENT, (uint64_t)l2_read));
	EXPECT_EQ(run, "CR2 seen by L2's #PF handler", addr, mhv_l2_event.cr2);
	return PROBE_PASS;
}
PROBE("tdp/fault-during-delivery-pf", l1_sees_pf);
