#include <stdbool.h>

#include "nested/svm/vmcb12_check.h"
#include "core/x86.h"
#include "svm/vmcb.h"

#define SEG_L (1u << 9)
#define SEG_DB (1u << 10)
#define CR3_LONG_MBZ 0xfff0000000000000ull /* bits 63:52 (APM vol.2 3.1.2) */
#define EVENT_TYPE_SHIFT 8
#define EVENT_TYPE_MASK 7ull
#define EVENT_TYPE_INTR 0
#define EVENT_TYPE_NMI 2
#define EVENT_TYPE_EXCEPTION 3
#define EVENT_TYPE_SOFT_INT 4

/* CR4 (APM vol.2 3.1.3, Figure 3-7; SDM vol.3A 2.5) and the CPUID bit each needs
 * (APM vol.3 appendix E; SDM vol.2A CPUID). */
#define CR4_ARCH_BITS 0x7ffull       /* VME ... OSXMMEXCPT: every CPU with SVM */
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_SMX (1u << 6)
#define CPUID1_ECX_PCID (1u << 17)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID7_EBX_FSGSBASE (1u << 0)
#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID7_EBX_SMAP (1u << 20)
#define CPUID7_ECX_UMIP (1u << 2)
#define CPUID7_ECX_PKU (1u << 3)
#define CPUID7_ECX_CET_SS (1u << 7)
#define CPUID7_ECX_LA57 (1u << 16)
#define CPUID7_ECX_PKS (1u << 31)
#define CPUID7_EDX_UINTR (1u << 5)
#define CPUID7_EDX_CET_IBT (1u << 20)

uint64_t nsvm_cr4_allowed(const struct nsvm_cr4_cpuid *f)
{
	uint64_t cr4 = CR4_ARCH_BITS;
	cr4 |= (f->leaf7_ecx & CPUID7_ECX_UMIP) ? CR4_UMIP : 0;
	cr4 |= (f->leaf7_ecx & CPUID7_ECX_LA57) ? CR4_LA57 : 0;
	cr4 |= (f->leaf1_ecx & CPUID1_ECX_VMX) ? CR4_VMXE : 0;
	cr4 |= (f->leaf1_ecx & CPUID1_ECX_SMX) ? CR4_SMXE : 0;
	cr4 |= (f->leaf7_ebx & CPUID7_EBX_FSGSBASE) ? CR4_FSGSBASE : 0;
	cr4 |= (f->leaf1_ecx & CPUID1_ECX_PCID) ? CR4_PCIDE : 0;
	cr4 |= (f->leaf1_ecx & CPUID1_ECX_XSAVE) ? CR4_OSXSAVE : 0;
	cr4 |= (f->leaf7_ebx & CPUID7_EBX_SMEP) ? CR4_SMEP : 0;
	cr4 |= (f->leaf7_ebx & CPUID7_EBX_SMAP) ? CR4_SMAP : 0;
	cr4 |= (f->leaf7_ecx & CPUID7_ECX_PKU) ? CR4_PKE : 0;
	cr4 |= ((f->leaf7_ecx & CPUID7_ECX_CET_SS) || (f->leaf7_edx & CPUID7_EDX_CET_IBT)) ? CR4_CET : 0;
	cr4 |= (f->leaf7_ecx & CPUID7_ECX_PKS) ? CR4_PKS : 0;
	cr4 |= (f->leaf7_edx & CPUID7_EDX_UINTR) ? CR4_UINTR : 0;
	return cr4;
}

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
	/* CR3 by the mode L2 enters (APM vol.2 3.1.2): in long mode bits 63:52 are MBZ and
	 * the base ends at MAXPHYADDR (KVM's kvm_vcpu_is_legal_cr3); outside it CR3 is a
	 * 32-bit register, legacy and PAE alike, and VMCB bits 63:32 are not part of it. */
	if (long_paging && (s->cr3 & CR3_LONG_MBZ))
		return "CR3 has must-be-zero bits set (63:52) in long mode";
	if (long_paging && (s->cr3 & lim->phys_addr_mask))
		return "CR3 has bits set above the physical address width in long mode";
	if (s->cr4 & ~lim->cr4_allowed)
		return "CR4 has bits set that L1's CPUID does not offer (reserved)";
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
