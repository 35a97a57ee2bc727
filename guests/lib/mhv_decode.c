/* Native exit values -> neutral kinds and fields, for both vendors. Pure: also
 * compiled for the host tests. */
#include "lib/mhv_backend.h"
#include "lib/svm.h"
#include "lib/vmx.h"

/* Exceptions that push an error code, SDM vol.3A 6.15 / APM vol.2 8.2. */
static bool vector_has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

static struct mhv_event event_from(uint32_t info, bool valid_bit, uint32_t error)
{
	struct mhv_event ev = { 0 };
	ev.valid = valid_bit;
	if (!ev.valid)
		return ev;
	ev.vector = info & 0xff;
	ev.type = (enum mhv_event_type)((info >> 8) & 7);
	ev.has_error = info & (1u << 11);
	ev.error_code = ev.has_error ? error : 0;
	return ev;
}

static const struct {
	uint32_t code;
	enum mhv_exit_kind kind;
} svm_codes[] = {
	{ SVM_EXIT_INTR, MHV_EXIT_INTR },         { SVM_EXIT_NMI, MHV_EXIT_NMI },
	{ SVM_EXIT_VINTR, MHV_EXIT_INTR_WINDOW }, { SVM_EXIT_IDTR_READ, MHV_EXIT_DESCRIPTOR },
	{ SVM_EXIT_GDTR_READ, MHV_EXIT_DESCRIPTOR }, { SVM_EXIT_LDTR_READ, MHV_EXIT_DESCRIPTOR },
	{ SVM_EXIT_TR_READ, MHV_EXIT_DESCRIPTOR }, { SVM_EXIT_IDTR_WRITE, MHV_EXIT_DESCRIPTOR },
	{ SVM_EXIT_GDTR_WRITE, MHV_EXIT_DESCRIPTOR }, { SVM_EXIT_LDTR_WRITE, MHV_EXIT_DESCRIPTOR },
	{ SVM_EXIT_TR_WRITE, MHV_EXIT_DESCRIPTOR }, { SVM_EXIT_RDTSC, MHV_EXIT_RDTSC },
	{ SVM_EXIT_RDPMC, MHV_EXIT_RDPMC },       { SVM_EXIT_CPUID, MHV_EXIT_CPUID },
	{ SVM_EXIT_IRET, MHV_EXIT_IRET },         { SVM_EXIT_SWINT, MHV_EXIT_SOFT_INT },
	{ SVM_EXIT_INVD, MHV_EXIT_INVD },         { SVM_EXIT_PAUSE, MHV_EXIT_PAUSE },
	{ SVM_EXIT_HLT, MHV_EXIT_HLT },           { SVM_EXIT_INVLPG, MHV_EXIT_INVLPG },
	{ SVM_EXIT_INVLPGA, MHV_EXIT_VM_INSN },   { SVM_EXIT_IOIO, MHV_EXIT_IO },
	{ SVM_EXIT_TASK_SWITCH, MHV_EXIT_TASK_SWITCH }, { SVM_EXIT_SHUTDOWN, MHV_EXIT_SHUTDOWN },
	{ SVM_EXIT_VMRUN, MHV_EXIT_VM_INSN },     { SVM_EXIT_VMMCALL, MHV_EXIT_HYPERCALL },
	{ SVM_EXIT_VMLOAD, MHV_EXIT_VM_INSN },    { SVM_EXIT_VMSAVE, MHV_EXIT_VM_INSN },
	{ SVM_EXIT_STGI, MHV_EXIT_VM_INSN },      { SVM_EXIT_CLGI, MHV_EXIT_VM_INSN },
	{ SVM_EXIT_SKINIT, MHV_EXIT_VM_INSN },    { SVM_EXIT_RDTSCP, MHV_EXIT_RDTSCP },
	{ SVM_EXIT_WBINVD, MHV_EXIT_WBINVD },     { SVM_EXIT_MONITOR, MHV_EXIT_MONITOR },
	{ SVM_EXIT_MWAIT, MHV_EXIT_MWAIT },       { SVM_EXIT_MWAIT_CONDITIONAL, MHV_EXIT_MWAIT },
	{ SVM_EXIT_XSETBV, MHV_EXIT_XSETBV },     { SVM_EXIT_NPF, MHV_EXIT_TDP_FAULT },
};

void mhv_decode_svm(struct mhv_exit *e)
{
	uint64_t code = e->exitcode;
	e->vendor = MHV_VENDOR_SVM;
	e->kind = MHV_EXIT_OTHER;
	e->vectoring = event_from((uint32_t)e->exitintinfo, e->exitintinfo & SVM_EVENT_VALID,
				  (uint32_t)(e->exitintinfo >> SVM_EVENT_ERROR_SHIFT));

	if ((uint32_t)code == (uint32_t)SVM_EXIT_INVALID) {
		e->kind = MHV_EXIT_INVALID_STATE;
		return;
	}
	if (code < SVM_EXIT_CR_WRITE_BASE) {
		e->kind = MHV_EXIT_CR_READ;
		e->cr = (uint8_t)code;
		return;
	}
	if (code < SVM_EXIT_DR_READ_BASE) {
		e->kind = MHV_EXIT_CR_WRITE;
		e->cr = (uint8_t)(code - SVM_EXIT_CR_WRITE_BASE);
		return;
	}
	if (code < SVM_EXIT_EXCEPTION_BASE) {
		e->kind = MHV_EXIT_DR_ACCESS;
		return;
	}
	if (code < SVM_EXIT_EXCEPTION_BASE + 32) {
		e->kind = MHV_EXIT_EXCEPTION;
		e->vector = (uint8_t)(code - SVM_EXIT_EXCEPTION_BASE);
		e->has_error = vector_has_error_code(e->vector);
		e->error_code = e->has_error ? (uint32_t)e->exitinfo1 : 0;
		return;
	}
	if (code == SVM_EXIT_CR0_SEL_WRITE) {
		e->kind = MHV_EXIT_CR_WRITE;
		e->cr = 0;
		return;
	}
	if (code == SVM_EXIT_MSR) {
		e->kind = e->exitinfo1 ? MHV_EXIT_MSR_WRITE : MHV_EXIT_MSR_READ;
		return;
	}
	for (unsigned i = 0; i < sizeof(svm_codes) / sizeof(svm_codes[0]); i++)
		if (svm_codes[i].code == code)
			e->kind = svm_codes[i].kind;

	if (e->kind == MHV_EXIT_IO) {
		uint64_t info = e->exitinfo1;
		e->io.port = (uint16_t)(info >> SVM_IOIO_PORT_SHIFT);
		e->io.in = info & SVM_IOIO_IN;
		e->io.string = info & SVM_IOIO_STRING;
		e->io.rep = info & SVM_IOIO_REP;
		e->io.size = (info & SVM_IOIO_SZ32) ? 4 : (info & SVM_IOIO_SZ16) ? 2 :
			     (info & SVM_IOIO_SZ8) ? 1 : 0;
		e->io.addr_size = (info & SVM_IOIO_A64) ? 8 : (info & SVM_IOIO_A32) ? 4 :
				  (info & SVM_IOIO_A16) ? 2 : 0;
	} else if (e->kind == MHV_EXIT_TDP_FAULT) {
		e->gpa = e->exitinfo2;
		e->tdp_write = e->exitinfo1 & SVM_NPF_WRITE;
		e->tdp_fetch = e->exitinfo1 & SVM_NPF_FETCH;
		e->tdp_read = !e->tdp_write && !e->tdp_fetch;
	}
}

static const struct {
	uint32_t reason;
	enum mhv_exit_kind kind;
} vmx_reasons[] = {
	{ VMX_EXIT_EXTINT, MHV_EXIT_INTR },        { VMX_EXIT_TRIPLE_FAULT, MHV_EXIT_SHUTDOWN },
	{ VMX_EXIT_INTR_WINDOW, MHV_EXIT_INTR_WINDOW }, { VMX_EXIT_NMI_WINDOW, MHV_EXIT_NMI_WINDOW },
	{ VMX_EXIT_TASK_SWITCH, MHV_EXIT_TASK_SWITCH }, { VMX_EXIT_CPUID, MHV_EXIT_CPUID },
	{ VMX_EXIT_HLT, MHV_EXIT_HLT },            { VMX_EXIT_INVD, MHV_EXIT_INVD },
	{ VMX_EXIT_INVLPG, MHV_EXIT_INVLPG },      { VMX_EXIT_RDPMC, MHV_EXIT_RDPMC },
	{ VMX_EXIT_RDTSC, MHV_EXIT_RDTSC },        { VMX_EXIT_VMCALL, MHV_EXIT_HYPERCALL },
	{ VMX_EXIT_VMCLEAR, MHV_EXIT_VM_INSN },    { VMX_EXIT_VMLAUNCH, MHV_EXIT_VM_INSN },
	{ VMX_EXIT_VMPTRLD, MHV_EXIT_VM_INSN },    { VMX_EXIT_VMPTRST, MHV_EXIT_VM_INSN },
	{ VMX_EXIT_VMREAD, MHV_EXIT_VM_INSN },     { VMX_EXIT_VMRESUME, MHV_EXIT_VM_INSN },
	{ VMX_EXIT_VMWRITE, MHV_EXIT_VM_INSN },    { VMX_EXIT_VMXOFF, MHV_EXIT_VM_INSN },
	{ VMX_EXIT_VMXON, MHV_EXIT_VM_INSN },      { VMX_EXIT_DR_ACCESS, MHV_EXIT_DR_ACCESS },
	{ VMX_EXIT_IO, MHV_EXIT_IO },              { VMX_EXIT_RDMSR, MHV_EXIT_MSR_READ },
	{ VMX_EXIT_WRMSR, MHV_EXIT_MSR_WRITE },    { VMX_EXIT_MWAIT, MHV_EXIT_MWAIT },
	{ VMX_EXIT_MONITOR, MHV_EXIT_MONITOR },    { VMX_EXIT_PAUSE, MHV_EXIT_PAUSE },
	{ VMX_EXIT_GDTR_IDTR, MHV_EXIT_DESCRIPTOR }, { VMX_EXIT_LDTR_TR, MHV_EXIT_DESCRIPTOR },
	{ VMX_EXIT_EPT_VIOLATION, MHV_EXIT_TDP_FAULT },
	{ VMX_EXIT_EPT_MISCONFIG, MHV_EXIT_TDP_MISCONFIG },
	{ VMX_EXIT_INVEPT, MHV_EXIT_VM_INSN },     { VMX_EXIT_RDTSCP, MHV_EXIT_RDTSCP },
	{ VMX_EXIT_INVVPID, MHV_EXIT_VM_INSN },    { VMX_EXIT_WBINVD, MHV_EXIT_WBINVD },
	{ VMX_EXIT_XSETBV, MHV_EXIT_XSETBV },      { VMX_EXIT_MTF, MHV_EXIT_MTF },
	{ VMX_EXIT_PREEMPTION_TIMER, MHV_EXIT_PREEMPTION_TIMER },
};

void mhv_decode_vmx(struct mhv_exit *e)
{
	e->vendor = MHV_VENDOR_VMX;
	e->kind = MHV_EXIT_OTHER;
	if (e->vmfail) {
		e->kind = MHV_EXIT_VMFAIL;
		return;
	}
	e->vectoring = event_from(e->idt_vectoring_info, e->idt_vectoring_info & VMX_INTR_VALID,
				  e->idt_vectoring_error);
	uint32_t basic = e->reason & 0xffff;
	if (e->reason & VMX_EXIT_ENTRY_FAILURE) {
		if (basic == VMX_EXIT_INVALID_GUEST)
			e->kind = MHV_EXIT_INVALID_STATE;
		else if (basic == VMX_EXIT_MSR_LOADING)
			e->kind = MHV_EXIT_ENTRY_MSR;
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI: {
		unsigned type = (e->intr_info & VMX_INTR_TYPE_MASK) >> VMX_INTR_TYPE_SHIFT;
		e->vector = e->intr_info & VMX_INTR_VECTOR_MASK;
		if (type == VMX_INTR_TYPE_NMI) {
			e->kind = MHV_EXIT_NMI;
			return;
		}
		e->kind = MHV_EXIT_EXCEPTION;
		e->has_error = e->intr_info & VMX_INTR_ERROR_VALID;
		e->error_code = e->has_error ? e->intr_error : 0;
		return;
	}
	case VMX_EXIT_CR_ACCESS: {
		unsigned type = (e->qualification >> VMX_CR_QUAL_TYPE_SHIFT) & 3;
		e->cr = e->qualification & VMX_CR_QUAL_CR_MASK;
		e->kind = type == VMX_CR_TYPE_MOV_FROM ? MHV_EXIT_CR_READ : MHV_EXIT_CR_WRITE;
		return;
	}
	default:
		break;
	}
	for (unsigned i = 0; i < sizeof(vmx_reasons) / sizeof(vmx_reasons[0]); i++)
		if (vmx_reasons[i].reason == basic)
			e->kind = vmx_reasons[i].kind;

	if (e->kind == MHV_EXIT_IO) {
		uint64_t q = e->qualification;
		e->io.port = (uint16_t)(q >> VMX_IO_QUAL_PORT_SHIFT);
		e->io.size = (uint8_t)((q & VMX_IO_QUAL_SIZE_MASK) + 1);
		e->io.in = q & VMX_IO_QUAL_IN;
		e->io.string = q & VMX_IO_QUAL_STRING;
		e->io.rep = q & VMX_IO_QUAL_REP;
		e->io.imm = q & VMX_IO_QUAL_IMM;
		if (e->io.string) {
			unsigned asize = (e->insn_info & VMX_INSN_INFO_ASIZE_MASK) >>
					 VMX_INSN_INFO_ASIZE_SHIFT;
			e->io.addr_size = asize == 0 ? 2 : asize == 1 ? 4 : asize == 2 ? 8 : 0;
		}
	} else if (e->kind == MHV_EXIT_TDP_FAULT || e->kind == MHV_EXIT_TDP_MISCONFIG) {
		e->gpa = e->guest_physical;
		if (e->kind == MHV_EXIT_TDP_FAULT) {
			e->tdp_read = e->qualification & VMX_EPT_QUAL_READ;
			e->tdp_write = e->qualification & VMX_EPT_QUAL_WRITE;
			e->tdp_fetch = e->qualification & VMX_EPT_QUAL_FETCH;
		}
	}
}

int64_t mhv_svm_exitcode_of(enum mhv_exit_kind kind)
{
	switch (kind) {
	case MHV_EXIT_DONE:
	case MHV_EXIT_L2_EVENT:
	case MHV_EXIT_HYPERCALL: return SVM_EXIT_VMMCALL;
	case MHV_EXIT_MSR_READ:
	case MHV_EXIT_MSR_WRITE: return SVM_EXIT_MSR;
	case MHV_EXIT_INVALID_STATE: return (int64_t)SVM_EXIT_INVALID;
	case MHV_EXIT_VM_INSN: return SVM_EXIT_VMRUN;
	case MHV_EXIT_MWAIT: return SVM_EXIT_MWAIT;
	default: break;
	}
	for (unsigned i = 0; i < sizeof(svm_codes) / sizeof(svm_codes[0]); i++)
		if (svm_codes[i].kind == kind)
			return svm_codes[i].code;
	return -1;
}

int64_t mhv_vmx_reason_of(enum mhv_exit_kind kind)
{
	switch (kind) {
	case MHV_EXIT_DONE:
	case MHV_EXIT_L2_EVENT:
	case MHV_EXIT_HYPERCALL: return VMX_EXIT_VMCALL;
	case MHV_EXIT_CR_READ:
	case MHV_EXIT_CR_WRITE: return VMX_EXIT_CR_ACCESS;
	case MHV_EXIT_EXCEPTION:
	case MHV_EXIT_NMI: return VMX_EXIT_EXCEPTION_NMI;
	case MHV_EXIT_INVALID_STATE: return VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST;
	case MHV_EXIT_ENTRY_MSR: return VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_MSR_LOADING;
	case MHV_EXIT_VM_INSN: return VMX_EXIT_VMLAUNCH;
	case MHV_EXIT_DESCRIPTOR: return VMX_EXIT_GDTR_IDTR;
	default: break;
	}
	for (unsigned i = 0; i < sizeof(vmx_reasons) / sizeof(vmx_reasons[0]); i++)
		if (vmx_reasons[i].kind == kind)
			return vmx_reasons[i].reason;
	return -1;
}
