/* event/reinject-after-tdp-fault-*: an event on its way to L2 (through L2's IDT) meets a
 * nested page fault, then is delivered again, once, as the CPU would have delivered it.
 *
 * Each probe runs the event twice with nested paging:
 * - L0's fault: L1's table maps everything; the first entry flushes the TLB, so a nested
 *   L0 (nestbed) has no shadow entry for L2's IDT page yet, takes the fault itself and
 *   must re-deliver the event (APM vol.2 15.7.2 EXITINTINFO, 15.20 event injection; SDM
 *   vol.3C 28.2.4, 27.6). L2's handler must see the event once, with the right vector,
 *   error code and return RIP. Bare, the same run simply delivers the event.
 * - L1's fault: L1's table lacks L2's IDT page: the exit is L1's nested page fault / EPT
 *   violation at the gate, with the event in flight in EXITINTINFO (SVM) or the
 *   IDT-vectoring information (VMX), RIP where the delivery started. L1 then maps the
 *   page and re-delivers as a hypervisor does (an exception, interrupt or NMI injected
 *   again; L2's own INTn/INT3 executed again; a software event L1 injected injected
 *   again with its next RIP) and L2's handler sees the event once.
 * The EXITINTINFO types are the APM's: INT3 and INTO are exceptions (type 3), only INTn
 * is a software interrupt (type 4), interrupts are type 0 and NMIs type 2. */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define RFLAGS_IF 0x200ull
#define INTN_VECTOR 0x41
#define INTR_VECTOR 0x42
#define PF_ADDRESS 0x112345678ull
#define GATE_SIZE 16 /* a 64-bit IDT gate, APM vol.2 4.8.4 */

extern struct { uint64_t low, high; } mhv_l2_idt[256];

MHV_L2_ASM(l2_int3, "int3\n\tnop");                                        /* 1 */
MHV_L2_ASM(l2_intn, "int $0x41\n\tnop");                                   /* 2 */
MHV_L2_ASM(l2_pf_write, "movabs $0x112345678, %rax\n\tmov %rbx, (%rax)");  /* 10, 3 */
MHV_L2_ASM(l2_nops, "nop\n\tnop\n\tnop\n\tnop");

enum source {
	FROM_L2,      /* L2's own instruction raises it */
	INJECTED,     /* L1 injects it at the entry */
};

struct reinject_case {
	void (*l2)(void *);
	enum source source;
	enum mhv_event_type type;     /* as injected (SVM numbering; VMX for VMX) */
	uint8_t vector;
	bool has_error;
	uint32_t error;
	unsigned insn_len;            /* software events: the instruction's length */
	unsigned event_rip_offset;    /* the RIP the delivery starts from, from l2 */
	unsigned pushed_rip_offset;   /* the return RIP L2's handler sees */
	uint64_t svm_exitintinfo;     /* expected, error code included */
	uint32_t vmx_vectoring, vmx_vectoring_error;
	bool vmx_len;                 /* VMX saves the instruction length for it */
	uint64_t cr2;                 /* expected CR2 in the handler, 0 = not checked */
};

#define SVM_EV(type, vector) (SVM_EVENT_VALID | ((uint64_t)(type) << SVM_EVENT_TYPE_SHIFT) | (vector))
#define VMX_EV(type, vector) (VMX_INTR_VALID | ((uint32_t)(type) << VMX_INTR_TYPE_SHIFT) | (vector))

/* L1 makes the entry inject the case's event (a software event returns past its
 * instruction: SVM nRIP with NRIPS, else RIP moved past it by L1, as KVM does; VMX the
 * VM-entry instruction length). */
static void inject_event(struct mhv_vm *vm, const struct reinject_case *c, uint64_t rip)
{
	enum mhv_event_type type = c->type;
	bool soft = type == MHV_EVENT_SOFT_INT ||
		    (type == MHV_EVENT_HW_EXCEPTION && (c->vector == EXC_BP || c->vector == EXC_OF));
	/* VMX injects an external interrupt only into a guest with RFLAGS.IF = 1 (SDM vol.3C
	 * 26.3.1.4); SVM at any IF (APM 15.20): both get IF = 1 */
	if (type == MHV_EVENT_EXTINT)
		mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	if (vm->vendor == MHV_VENDOR_SVM) {
		mhv_set(vm, MHV_REG_RIP, rip);
		if (soft && mhv_has(MHV_FEATURE_NEXT_RIP))
			vm->vmcb->next_rip = rip + c->insn_len;
		else if (soft)
			mhv_set(vm, MHV_REG_RIP, rip + c->insn_len);
	} else if (soft && type == MHV_EVENT_HW_EXCEPTION) {
		type = MHV_EVENT_SOFT_EXCEPTION; /* INT3, INTO: VMX type 6 (SDM vol.3C 25.8.3) */
	}
	mhv_inject(vm, type, c->vector, c->has_error, c->error, soft ? c->insn_len : 0);
}

static enum probe_status expect_handler(struct probe_run *run, struct mhv_vm *vm,
					const struct reinject_case *c, const struct mhv_exit *e,
					const char *part)
{
	if (e->kind != MHV_EXIT_L2_EVENT) {
		char observed[320];
		mhv_describe_exit(e, observed, sizeof(observed));
		return probe_fail(run, "%s: expected L2's handler to run, observed %s", part, observed);
	}
	uint64_t base = (uint64_t)c->l2;
	EXPECT_EQ(run, "vector L2's handler received", c->vector, mhv_l2_event.vector);
	EXPECT_EQ(run, "error code L2's handler received", c->has_error ? c->error : 0,
		  mhv_l2_event.error_code);
	EXPECT_EQ(run, "return RIP L2's handler received", base + c->pushed_rip_offset,
		  mhv_l2_event.rip);
	if (c->cr2)
		EXPECT_EQ(run, "CR2 in L2's handler", c->cr2, mhv_l2_event.cr2);
	EXPECT_EQ(run, "events L2 received (delivered once)", 1, mhv_l2_event.count);
	(void)vm;
	return PROBE_PASS;
}

/* L0's fault: the event arrives once, right. */
static enum probe_status l0_fault(struct probe_run *run, const struct reinject_case *c)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	mhv_l2_call(vm, c->l2, NULL);
	if (c->type == MHV_EVENT_EXTINT && c->source == FROM_L2) {
		/* a virtual interrupt (SVM V_IRQ), taken at L2's first instruction */
		vm->vmcb->vintr |= SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT) |
				   ((uint64_t)c->vector << SVM_VINTR_VECTOR_SHIFT);
		mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	}
	if (c->source == INJECTED)
		inject_event(vm, c, (uint64_t)c->l2 + c->event_rip_offset);
	mhv_tdp_changed(vm); /* an empty TLB: L2's IDT page is not cached anywhere */
	mhv_run(vm, &e);
	mhv_diag_exit("L0's fault: the event", &e);
	return expect_handler(run, vm, c, &e, "nested page fault taken by L0");
}

static enum probe_status l1_fault(struct probe_run *run, const struct reinject_case *c)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint64_t idt = (uint64_t)mhv_l2_idt, base = (uint64_t)c->l2;
	MHV_CHECK(mhv_tdp_set(run, vm, idt, 0));
	mhv_l2_call(vm, c->l2, NULL);
	if (c->type == MHV_EVENT_EXTINT && c->source == FROM_L2) {
		vm->vmcb->vintr |= SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT) |
				   ((uint64_t)c->vector << SVM_VINTR_VECTOR_SHIFT);
		mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	}
	if (c->source == INJECTED)
		inject_event(vm, c, base + c->event_rip_offset);
	uint64_t entry_rip = mhv_get(vm, MHV_REG_RIP);
	mhv_run(vm, &e);
	mhv_diag_exit("L1's fault: reading the gate", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	uint64_t gate = idt + (uint64_t)c->vector * GATE_SIZE;
	EXPECT_EQ(run, "guest-physical address of the fault (the IDT gate)", gate, e.gpa);
	/* the RIP the delivery started from: the instruction, or the entry's RIP */
	uint64_t exit_rip = c->source == INJECTED ? entry_rip : base + c->event_rip_offset;
	if (c->source == INJECTED && vm->vendor == MHV_VENDOR_SVM)
		exit_rip = mhv_has(MHV_FEATURE_NEXT_RIP) ? base + c->event_rip_offset : entry_rip;
	EXPECT_EQ(run, "L2 RIP at the exit (where the delivery started)", exit_rip, e.rip);
	if (e.vendor == MHV_VENDOR_SVM) {
		EXPECT_EQ(run, "SVM EXITINTINFO (the event in flight, APM 15.7.2)", c->svm_exitintinfo,
			  e.exitintinfo);
	} else {
		EXPECT_EQ(run, "VMX IDT-vectoring information", c->vmx_vectoring, e.idt_vectoring_info);
		if (c->vmx_vectoring & VMX_INTR_ERROR_VALID)
			EXPECT_EQ(run, "VMX IDT-vectoring error code", c->vmx_vectoring_error,
				  e.idt_vectoring_error);
		if (c->vmx_len)
			EXPECT_EQ(run, "VMX VM-exit instruction length", c->insn_len, e.insn_len);
	}

	/* L1 maps the page and delivers the event again */
	MHV_CHECK(mhv_tdp_set(run, vm, idt, TDP_RWX));
	if (c->type == MHV_EVENT_EXTINT && c->source == FROM_L2) {
		vm->vmcb->vintr &= ~SVM_VINTR_IRQ; /* taken: the CPU cleared V_IRQ (15.21.4) */
		mhv_inject(vm, MHV_EVENT_EXTINT, c->vector, false, 0, 0);
	} else if (c->source == INJECTED) {
		inject_event(vm, c, base + c->event_rip_offset);
	} else if (c->type != MHV_EVENT_SOFT_INT && !(c->type == MHV_EVENT_HW_EXCEPTION &&
						     (c->vector == EXC_BP || c->vector == EXC_OF))) {
		mhv_inject(vm, c->type, c->vector, c->has_error, c->error, 0);
	} /* else L2's INTn/INT3 runs again from its RIP */
	mhv_run(vm, &e);
	mhv_diag_exit("L1's fault: the event delivered again", &e);
	return expect_handler(run, vm, c, &e, "after L1 delivered it again");
}

static enum probe_status reinject(struct probe_run *run, const struct reinject_case *c)
{
	MHV_CHECK(l0_fault(run, c));
	return l1_fault(run, c);
}

static enum probe_status int3(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_int3, .source = FROM_L2, .type = MHV_EVENT_HW_EXCEPTION, .vector = EXC_BP,
		.insn_len = 1, .event_rip_offset = 0, .pushed_rip_offset = 1,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_EXCEPTION, EXC_BP),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_SOFT_EXCEPTION, EXC_BP), .vmx_len = true,
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-int3", int3);

static enum probe_status intn(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_intn, .source = FROM_L2, .type = MHV_EVENT_SOFT_INT, .vector = INTN_VECTOR,
		.insn_len = 2, .event_rip_offset = 0, .pushed_rip_offset = 2,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_SOFT_INT, INTN_VECTOR),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_SOFT_INT, INTN_VECTOR), .vmx_len = true,
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-intn", intn);

/* A write to an unmapped address: #PF with error code 2 (write, not present) */
static enum probe_status exception(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_pf_write, .source = FROM_L2, .type = MHV_EVENT_HW_EXCEPTION, .vector = EXC_PF,
		.has_error = true, .error = PF_ERROR_WRITE, .event_rip_offset = 10,
		.pushed_rip_offset = 10, .cr2 = PF_ADDRESS,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_EXCEPTION, EXC_PF) | SVM_EVENT_ERROR_VALID |
				   ((uint64_t)PF_ERROR_WRITE << SVM_EVENT_ERROR_SHIFT),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_HW_EXCEPTION, EXC_PF) | VMX_INTR_ERROR_VALID,
		.vmx_vectoring_error = PF_ERROR_WRITE,
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-exception", exception);

/* An external interrupt L1 injects (EVENTINJ type 0 / VM-entry type 0) */
static enum probe_status intr(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_nops, .source = INJECTED, .type = MHV_EVENT_EXTINT, .vector = INTR_VECTOR,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_INTR, INTR_VECTOR),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_EXTINT, INTR_VECTOR),
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-intr", intr);

static enum probe_status nmi(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_nops, .source = INJECTED, .type = MHV_EVENT_NMI, .vector = EXC_NMI,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_NMI, EXC_NMI),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_NMI, EXC_NMI),
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-nmi", nmi);

/* A #BP L1 injects for an INT3 it intercepted (as Xen does for its guests): it returns
 * past the INT3 (SVM: nRIP with NRIPS, APM 15.20; VMX: type 6 with the instruction
 * length). */
static enum probe_status injected_bp(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_int3, .source = INJECTED, .type = MHV_EVENT_HW_EXCEPTION, .vector = EXC_BP,
		.insn_len = 1, .event_rip_offset = 0, .pushed_rip_offset = 1,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_EXCEPTION, EXC_BP),
		.vmx_vectoring = VMX_EV(VMX_INTR_TYPE_SOFT_EXCEPTION, EXC_BP), .vmx_len = true,
	};
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-injected-bp", injected_bp);

/* SVM's virtual interrupt (V_IRQ, APM 15.21.4), taken by L2 at its first instruction:
 * a hardware interrupt in EXITINTINFO, type 0. */
static enum probe_status vintr(struct probe_run *run)
{
	static const struct reinject_case c = {
		.l2 = l2_nops, .source = FROM_L2, .type = MHV_EVENT_EXTINT, .vector = INTR_VECTOR,
		.svm_exitintinfo = SVM_EV(SVM_EVENT_TYPE_INTR, INTR_VECTOR),
	};
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "V_IRQ is SVM's (VMX: virtual-interrupt "
				     "delivery)"));
	return reinject(run, &c);
}
PROBE("event/reinject-after-tdp-fault-vintr", vintr);
