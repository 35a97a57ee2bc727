/* inject/...: event injection at VM entry (SVM EVENTINJ, APM vol.2 15.20; VMX VM-entry
 * interruption information, error code and instruction length, SDM vol.3C 27.6): L2's
 * own IDT handler reports what it received (vector, error code, pushed RIP, CR2), and
 * a nested exception during delivery reports the injected event in EXITINTINFO / the
 * IDT-vectoring information. */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define RFLAGS_IF 0x200ull

MHV_L2_ASM(l2_nops, "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop");

static enum probe_status inject_and_run(struct probe_run *run, struct mhv_vm *vm,
					enum mhv_event_type type, uint8_t vector, bool has_error,
					uint32_t error, unsigned len, struct mhv_exit *e)
{
	mhv_inject(vm, type, vector, has_error, error, len);
	mhv_run(vm, e);
	mhv_diag_exit("after the injection", e);
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector received by L2's handler", vector, mhv_l2_event.vector);
	return PROBE_PASS;
}

static enum probe_status exception_no_error(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_HW_EXCEPTION, EXC_UD, false, 0, 0, &e));
	EXPECT_EQ(run, "RIP pushed for L2's handler (the entry RIP)", (uint64_t)l2_nops,
		  mhv_l2_event.rip);
	EXPECT_EQ(run, "L2 events", 1, mhv_l2_event.count);
	return PROBE_PASS;
}
PROBE("inject/exception", exception_no_error);

static enum probe_status exception_error(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_HW_EXCEPTION, EXC_GP, true, 0x1234, 0, &e));
	EXPECT_EQ(run, "error code pushed for L2's handler", 0x1234, mhv_l2_event.error_code);
	EXPECT_EQ(run, "RIP pushed for L2's handler (the entry RIP)", (uint64_t)l2_nops,
		  mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("inject/exception-error-code", exception_error);

/* Injecting #PF does not write CR2: the VMM sets L2's CR2 itself. */
static enum probe_status page_fault(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_CR2, 0xabc123);
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_HW_EXCEPTION, EXC_PF, true,
				 PF_ERROR_WRITE | PF_ERROR_PRESENT, 0, &e));
	EXPECT_EQ(run, "error code pushed for L2's handler", PF_ERROR_WRITE | PF_ERROR_PRESENT,
		  mhv_l2_event.error_code);
	EXPECT_EQ(run, "CR2 in L2's handler", 0xabc123, mhv_l2_event.cr2);
	return PROBE_PASS;
}
PROBE("inject/page-fault", page_fault);

/* An injected exception is delivered even when its intercept is on: injection is not
 * subject to the exception intercepts / bitmap (APM vol.2 15.20; SDM vol.3C 27.6.1). */
static enum probe_status not_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_UD, true);
	mhv_l2_call(vm, l2_nops, NULL);
	return inject_and_run(run, vm, MHV_EVENT_HW_EXCEPTION, EXC_UD, false, 0, 0, &e);
}
PROBE("inject/exception-not-intercepted", not_intercepted);

/* A software interrupt (INT 80h, 2 bytes) pushes the address after the instruction:
 * VMX adds the VM-entry instruction length to RIP (SDM vol.3C 27.6.1.1); SVM pushes
 * the VMCB RIP (the VMM advances it) or, with NRIPS, nRIP; both are set to it here. */
static enum probe_status soft_int(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	if (vm->vendor == MHV_VENDOR_SVM) {
		mhv_advance_rip(vm, 2);
		vm->vmcb->next_rip = (uint64_t)l2_nops + 2;
	}
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_SOFT_INT, 0x80, false, 0, 2, &e));
	EXPECT_EQ(run, "RIP pushed for INT 80h", (uint64_t)l2_nops + 2, mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("inject/soft-int", soft_int);

/* SVM with NRIPS: the return address of an injected software interrupt is nRIP, not
 * RIP (APM vol.2 15.20 and 15.7.1; KVM relies on it: "otherwise hardware will fail to
 * advance guest RIP during event injection"). */
static enum probe_status soft_int_next_rip(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX uses the VM-entry instruction "
				     "length (inject/soft-int)"));
	MHV_CHECK(mhv_require(run, MHV_FEATURE_NEXT_RIP));
	mhv_l2_call(vm, l2_nops, NULL);
	vm->vmcb->next_rip = (uint64_t)l2_nops + 2;
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_SOFT_INT, 0x80, false, 0, 2, &e));
	EXPECT_EQ(run, "RIP pushed for INT 80h (nRIP, with VMCB RIP at the INT)",
		  (uint64_t)l2_nops + 2, mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("inject/soft-int-next-rip", soft_int_next_rip);

static enum probe_status nmi(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_NMI, EXC_NMI, false, 0, 0, &e));
	EXPECT_EQ(run, "RIP pushed for L2's NMI handler", (uint64_t)l2_nops, mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("inject/nmi", nmi);

/* An external interrupt (VMX requires RFLAGS.IF = 1 for it, SDM vol.3C 27.3.1.4). */
static enum probe_status external_interrupt(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	MHV_CHECK(inject_and_run(run, vm, MHV_EVENT_EXTINT, 0x40, false, 0, 0, &e));
	EXPECT_EQ(run, "RIP pushed for L2's handler", (uint64_t)l2_nops, mhv_l2_event.rip);
	EXPECT_EQ(run, "RFLAGS.IF pushed for L2's handler", RFLAGS_IF,
		  mhv_l2_event.rflags & RFLAGS_IF);
	return PROBE_PASS;
}
PROBE("inject/external-interrupt", external_interrupt);

/* inject/vectoring-info: an injected external interrupt whose vector lies beyond L2's
 * IDT limit raises #GP(vector*8 + IDT + EXT) during delivery; with #GP intercepted the
 * exit reports the injected event as being delivered: SVM EXITINTINFO, VMX
 * IDT-vectoring information (APM vol.2 15.7.2; SDM vol.3C 28.2.4). */
static enum probe_status vectoring_info(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	mhv_intercept_exception(vm, EXC_GP, true);
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->idtr.limit = 0x80 * 16 - 1;
	else
		vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x80 * 16 - 1);
	mhv_inject(vm, MHV_EVENT_EXTINT, 0x90, false, 0, 0);
	mhv_run(vm, &e);
	mhv_diag_exit("#GP delivering the injected interrupt", &e);
	uint32_t error = 0x90 * 8 + 2 + 1; /* index, IDT, EXT: SDM vol.3A 6.13 */
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_GP, true, error, (uint64_t)l2_nops));
	if (e.vendor == MHV_VENDOR_SVM)
		EXPECT_EQ(run, "SVM EXITINTINFO (the injected INTR 90h)", SVM_EVENT_VALID | 0x90,
			  e.exitintinfo);
	else
		EXPECT_EQ(run, "VMX IDT-vectoring information (the injected interrupt 90h)",
			  VMX_INTR_VALID | 0x90, e.idt_vectoring_info);
	return PROBE_PASS;
}
PROBE("inject/vectoring-info", vectoring_info);
