#include <stdbool.h>

#include "nested/svm/vmcb12_check.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_SVME (1ull << 12)
#define SEG_L (1u << 9)
#define SEG_DB (1u << 10)
#define CR3_LONG_MBZ 0xfff0000000000000ull /* bits 63:52 (APM vol.2 3.1.2) */
#define EVENT_TYPE_SHIFT 8
#define EVENT_TYPE_MASK 7ull
#define EVENT_TYPE_INTR 0
#define EVENT_TYPE_NMI 2
#define EVENT_TYPE_EXCEPTION 3
#define EVENT_TYPE_SOFT_INT 4
#define VECTOR_NMI 2
#define VECTOR_BP 3
#define VECTOR_OF 4
#define IOPM_BYTES (3 * 4096ull)
#define MSRPM_BYTES (2 * 4096ull)

/* APM vol.2 15.20: exception vectors that cannot be injected as exceptions. */
static const char *check_event_injection(uint64_t eventinj)
{
	if (!(eventinj & SVM_EVENT_VALID))
		return 0;
	unsigned type = (unsigned)((eventinj >> EVENT_TYPE_SHIFT) & EVENT_TYPE_MASK);
	unsigned vector = (unsigned)(eventinj & 0xff);
	switch (type) {
	case EVENT_TYPE_INTR:
	case EVENT_TYPE_SOFT_INT:
		return 0;
	case EVENT_TYPE_NMI:
		return 0; /* the vector is ignored for NMI */
	case EVENT_TYPE_EXCEPTION:
		if (vector == VECTOR_NMI || vector >= 32)
			return "EVENTINJ injects an exception with vector 2 (NMI) or above 31";
		return 0;
	default:
		return "EVENTINJ has a reserved event type (1, 5, 6 or 7)";
	}
	(void)VECTOR_BP;
	(void)VECTOR_OF;
}

const char *nsvm_check_vmcb12(const struct vmcb *vmcb, const struct nsvm_check_limits *lim)
{
	const struct vmcb_save *s = &vmcb->save;
	const struct vmcb_control *c = &vmcb->control;
	bool long_paging = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	if (!(s->efer & EFER_SVME))
		return "EFER.SVME is zero";
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return "CR0.CD is zero and CR0.NW is set";
	if (s->cr0 >> 32)
		return "CR0[63:32] are not zero";
	if (long_paging && (s->cr3 & CR3_LONG_MBZ))
		return "CR3 has must-be-zero bits set (63:52) in long mode";
	if (s->cr4 & ~lim->cr4_allowed)
		return "CR4 has reserved bits set";
	if (s->dr6 >> 32)
		return "DR6[63:32] are not zero";
	if (s->dr7 >> 32)
		return "DR7[63:32] are not zero";
	if (s->efer & ~lim->efer_allowed)
		return "EFER has must-be-zero bits set";
	if (long_paging && !(s->cr4 & CR4_PAE))
		return "EFER.LME and CR0.PG are set and CR4.PAE is zero";
	if (long_paging && !(s->cr0 & CR0_PE))
		return "EFER.LME and CR0.PG are set and CR0.PE is zero";
	if (long_paging && (s->cr4 & CR4_PAE) && (s->cs.attrib & SEG_L) && (s->cs.attrib & SEG_DB))
		return "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all set";
	if (!(c->intercept_misc2 & SVM_INTERCEPT_VMRUN))
		return "the VMRUN intercept bit is clear";
	if (((c->msrpm_base_pa & ~0xfffull) + MSRPM_BYTES - 1) & lim->phys_addr_mask)
		return "the MSR permission map lies beyond the physical address width";
	if (((c->iopm_base_pa & ~0xfffull) + IOPM_BYTES - 1) & lim->phys_addr_mask)
		return "the I/O permission map lies beyond the physical address width";
	/* the only ASID rule: one at or above CPUID 8000_000Ah EBX is not a VMRUN failure
	 * (15.5.1 lists none; KVM checks none either), and nestbed maps every L1 ASID to its own */
	if (c->guest_asid == 0)
		return "the ASID is zero";
	const char *event = check_event_injection(c->eventinj);
	if (event)
		return event;
	return 0;
}
