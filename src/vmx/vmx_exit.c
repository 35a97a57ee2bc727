#include "vmx/vmx_exit.h"

#include "core/string.h"
#include "vmx/vmcs.h"
#include "core/array_size.h"

/* One row per basic exit reason, ACRN-style: the neutral kind and whether the exit is
 * an instruction's, so that VM_EXIT_INSTRUCTION_LEN is valid (27.2.4). Reasons not
 * listed decode as EXIT_UNKNOWN. */
struct vmx_exit_desc {
	enum exit_kind kind;
	bool insn;
	const char *name;
};

static const struct vmx_exit_desc exit_table[VMX_EXIT_REASON_COUNT] = {
	[VMX_EXIT_REASON_EXCEPTION_NMI] = { EXIT_EXCEPTION, false, "exception or NMI" },
	[VMX_EXIT_REASON_EXTERNAL_INTR] = { EXIT_INTR, false, "external interrupt" },
	[VMX_EXIT_REASON_TRIPLE_FAULT] = { EXIT_SHUTDOWN, false, "triple fault" },
	[VMX_EXIT_REASON_INIT] = { EXIT_INIT, false, "INIT signal" },
	[VMX_EXIT_REASON_SIPI] = { EXIT_SIPI, false, "start-up IPI" },
	[VMX_EXIT_REASON_IO_SMI] = { EXIT_OTHER, false, "I/O SMI" },
	[VMX_EXIT_REASON_OTHER_SMI] = { EXIT_OTHER, false, "other SMI" },
	[VMX_EXIT_REASON_INTR_WINDOW] = { EXIT_OTHER, false, "interrupt window" },
	[VMX_EXIT_REASON_NMI_WINDOW] = { EXIT_OTHER, false, "NMI window" },
	[VMX_EXIT_REASON_TASK_SWITCH] = { EXIT_OTHER, false, "task switch" },
	[VMX_EXIT_REASON_CPUID] = { EXIT_CPUID, true, "CPUID" },
	[VMX_EXIT_REASON_GETSEC] = { EXIT_OTHER, true, "GETSEC" },
	[VMX_EXIT_REASON_HLT] = { EXIT_HLT, true, "HLT" },
	[VMX_EXIT_REASON_INVD] = { EXIT_OTHER, true, "INVD" },
	[VMX_EXIT_REASON_INVLPG] = { EXIT_OTHER, true, "INVLPG" },
	[VMX_EXIT_REASON_RDPMC] = { EXIT_OTHER, true, "RDPMC" },
	[VMX_EXIT_REASON_RDTSC] = { EXIT_OTHER, true, "RDTSC" },
	[VMX_EXIT_REASON_RSM] = { EXIT_OTHER, true, "RSM" },
	[VMX_EXIT_REASON_VMCALL] = { EXIT_HYPERCALL, true, "VMCALL" },
	[VMX_EXIT_REASON_VMCLEAR] = { EXIT_VM_INSN, true, "VMCLEAR" },
	[VMX_EXIT_REASON_VMLAUNCH] = { EXIT_VM_INSN, true, "VMLAUNCH" },
	[VMX_EXIT_REASON_VMPTRLD] = { EXIT_VM_INSN, true, "VMPTRLD" },
	[VMX_EXIT_REASON_VMPTRST] = { EXIT_VM_INSN, true, "VMPTRST" },
	[VMX_EXIT_REASON_VMREAD] = { EXIT_VM_INSN, true, "VMREAD" },
	[VMX_EXIT_REASON_VMRESUME] = { EXIT_VM_INSN, true, "VMRESUME" },
	[VMX_EXIT_REASON_VMWRITE] = { EXIT_VM_INSN, true, "VMWRITE" },
	[VMX_EXIT_REASON_VMXOFF] = { EXIT_VM_INSN, true, "VMXOFF" },
	[VMX_EXIT_REASON_VMXON] = { EXIT_VM_INSN, true, "VMXON" },
	[VMX_EXIT_REASON_CR_ACCESS] = { EXIT_CR_ACCESS, true, "control-register access" },
	[VMX_EXIT_REASON_DR_ACCESS] = { EXIT_OTHER, true, "MOV DR" },
	[VMX_EXIT_REASON_IO] = { EXIT_IO, true, "I/O instruction" },
	[VMX_EXIT_REASON_RDMSR] = { EXIT_MSR_READ, true, "RDMSR" },
	[VMX_EXIT_REASON_WRMSR] = { EXIT_MSR_WRITE, true, "WRMSR" },
	[VMX_EXIT_REASON_INVALID_GUEST_STATE] = { EXIT_INVALID_STATE, false, "VM-entry failure: invalid guest state" },
	[VMX_EXIT_REASON_MSR_LOADING] = { EXIT_INVALID_STATE, false, "VM-entry failure: MSR loading" },
	[VMX_EXIT_REASON_MWAIT] = { EXIT_OTHER, true, "MWAIT" },
	[VMX_EXIT_REASON_MONITOR_TRAP_FLAG] = { EXIT_OTHER, false, "monitor trap flag" },
	[VMX_EXIT_REASON_MONITOR] = { EXIT_OTHER, true, "MONITOR" },
	[VMX_EXIT_REASON_PAUSE] = { EXIT_OTHER, true, "PAUSE" },
	[VMX_EXIT_REASON_MACHINE_CHECK] = { EXIT_INVALID_STATE, false, "VM-entry failure: machine-check event" },
	[VMX_EXIT_REASON_TPR_BELOW_THRESHOLD] = { EXIT_OTHER, false, "TPR below threshold" },
	[VMX_EXIT_REASON_APIC_ACCESS] = { EXIT_OTHER, false, "APIC access" },
	[VMX_EXIT_REASON_VIRTUALIZED_EOI] = { EXIT_OTHER, false, "virtualized EOI" },
	[VMX_EXIT_REASON_GDTR_IDTR] = { EXIT_OTHER, true, "access to GDTR or IDTR" },
	[VMX_EXIT_REASON_LDTR_TR] = { EXIT_OTHER, true, "access to LDTR or TR" },
	[VMX_EXIT_REASON_EPT_VIOLATION] = { EXIT_TDP_FAULT, false, "EPT violation" },
	[VMX_EXIT_REASON_EPT_MISCONFIG] = { EXIT_TDP_MISCONFIG, false, "EPT misconfiguration" },
	[VMX_EXIT_REASON_INVEPT] = { EXIT_VM_INSN, true, "INVEPT" },
	[VMX_EXIT_REASON_RDTSCP] = { EXIT_OTHER, true, "RDTSCP" },
	[VMX_EXIT_REASON_PREEMPTION_TIMER] = { EXIT_OTHER, false, "VMX-preemption timer expired" },
	[VMX_EXIT_REASON_INVVPID] = { EXIT_VM_INSN, true, "INVVPID" },
	[VMX_EXIT_REASON_WBINVD] = { EXIT_OTHER, true, "WBINVD" },
	[VMX_EXIT_REASON_XSETBV] = { EXIT_XSETBV, true, "XSETBV" },
	[VMX_EXIT_REASON_APIC_WRITE] = { EXIT_OTHER, false, "APIC write" },
	[VMX_EXIT_REASON_RDRAND] = { EXIT_OTHER, true, "RDRAND" },
	[VMX_EXIT_REASON_INVPCID] = { EXIT_OTHER, true, "INVPCID" },
	[VMX_EXIT_REASON_VMFUNC] = { EXIT_OTHER, true, "VMFUNC" },
	[VMX_EXIT_REASON_ENCLS] = { EXIT_OTHER, true, "ENCLS" },
	[VMX_EXIT_REASON_RDSEED] = { EXIT_OTHER, true, "RDSEED" },
	[VMX_EXIT_REASON_PML_FULL] = { EXIT_OTHER, false, "page-modification log full" },
	[VMX_EXIT_REASON_XSAVES] = { EXIT_OTHER, true, "XSAVES" },
	[VMX_EXIT_REASON_XRSTORS] = { EXIT_OTHER, true, "XRSTORS" },
};

static const struct vmx_exit_desc *exit_desc(uint32_t basic)
{
	return basic < ARRAY_SIZE(exit_table) && exit_table[basic].name ? &exit_table[basic] : NULL;
}

bool vmx_exit_has_insn_len(uint32_t basic_reason)
{
	const struct vmx_exit_desc *d = exit_desc(basic_reason);
	return d && d->insn;
}

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	const struct vmx_exit_desc *d = exit_desc(basic_reason);
	return d ? d->name : "unknown exit reason";
}

static void decode_io(uint64_t q, struct exit_io *io)
{
	/* 27.2.1 table 27-5: size 0, 1, 3 for 1, 2, 4 bytes */
	io->size = (uint8_t)((q & VMX_IO_QUAL_SIZE_MASK) + 1);
	io->in = (q & VMX_IO_QUAL_IN) != 0;
	io->string = (q & VMX_IO_QUAL_STRING) != 0;
	io->rep = (q & VMX_IO_QUAL_REP) != 0;
	io->port = (uint16_t)((q >> VMX_IO_QUAL_PORT_SHIFT) & VMX_IO_QUAL_PORT_MASK);
}

static void decode_ept_violation(uint64_t q, uint64_t gpa, struct exit_tdp *t)
{
	/* 27.2.1 table 27-7 */
	t->gpa = gpa;
	t->read = (q & VMX_EPT_QUAL_READ) != 0;
	t->write = (q & VMX_EPT_QUAL_WRITE) != 0;
	t->fetch = (q & VMX_EPT_QUAL_FETCH) != 0;
	t->present = (q & (VMX_EPT_QUAL_READABLE | VMX_EPT_QUAL_WRITABLE | VMX_EPT_QUAL_EXECUTABLE)) != 0;
}

void vmx_decode_exit(const struct vmx_exit_raw *raw, struct exit *e)
{
	memset(e, 0, sizeof(*e));
	uint32_t basic = raw->reason & VMX_EXIT_REASON_BASIC_MASK;
	const struct vmx_exit_desc *d = exit_desc(basic);
	e->native_code = raw->reason;
	e->info1 = raw->qualification;
	e->intr_info = raw->intr_info;
	if ((raw->intr_info & VMX_INTR_INFO_VALID) && (raw->intr_info & VMX_INTR_INFO_ERROR_VALID))
		e->error_code = raw->intr_error;
	if (raw->reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		/* 26.7: the entry failed while or after loading guest state. */
		e->kind = EXIT_INVALID_STATE;
		return;
	}
	e->kind = d ? d->kind : EXIT_UNKNOWN;
	if (d && d->insn && raw->insn_len >= 1 && raw->insn_len <= 15)
		e->insn_len = (uint8_t)raw->insn_len;

	switch (basic) {
	case VMX_EXIT_REASON_EXCEPTION_NMI: {
		unsigned type = (raw->intr_info >> VMX_INTR_INFO_TYPE_SHIFT) & VMX_INTR_INFO_TYPE_MASK;
		e->info2 = raw->intr_info;
		if (type == VMX_INTR_TYPE_NMI) {
			e->kind = EXIT_NMI;
			break;
		}
		e->u.exception.vector = (uint8_t)(raw->intr_info & VMX_INTR_INFO_VECTOR_MASK);
		e->u.exception.has_error_code = (raw->intr_info & VMX_INTR_INFO_ERROR_VALID) != 0;
		e->u.exception.error_code = e->u.exception.has_error_code ? raw->intr_error : 0;
		break;
	}
	case VMX_EXIT_REASON_IO:
		decode_io(raw->qualification, &e->u.io);
		break;
	case VMX_EXIT_REASON_RDMSR:
	case VMX_EXIT_REASON_WRMSR:
		e->u.msr = (uint32_t)raw->rcx;
		break;
	case VMX_EXIT_REASON_EPT_VIOLATION:
		e->info2 = raw->gpa;
		decode_ept_violation(raw->qualification, raw->gpa, &e->u.tdp);
		break;
	case VMX_EXIT_REASON_EPT_MISCONFIG:
		e->info2 = raw->gpa;
		e->u.tdp.gpa = raw->gpa;
		break;
	default:
		break;
	}
}

void vmx_decode_cr_access(uint64_t q, struct vmx_cr_access *out)
{
	out->cr = (unsigned)(q & VMX_CR_QUAL_CR_MASK);
	out->type = (unsigned)((q >> VMX_CR_QUAL_TYPE_SHIFT) & VMX_CR_QUAL_TYPE_MASK);
	out->lmsw_memory = (q & VMX_CR_QUAL_LMSW_MEMORY) != 0;
	out->gpr = (unsigned)((q >> VMX_CR_QUAL_GPR_SHIFT) & VMX_CR_QUAL_GPR_MASK);
	out->lmsw_data = (uint16_t)((q >> VMX_CR_QUAL_LMSW_DATA_SHIFT) & VMX_CR_QUAL_LMSW_DATA_MASK);
}

uint64_t *vmx_gpr_slot(struct vcpu_state *st, unsigned index)
{
	return vcpu_gpr(st, index); /* the exit information numbers registers as encodings do */
}

static const char *const instruction_errors[] = {
	[VMX_ERROR_VMCALL_IN_ROOT] = "VMCALL executed in VMX root operation",
	[VMX_ERROR_VMCLEAR_INVALID_ADDR] = "VMCLEAR with invalid physical address",
	[VMX_ERROR_VMCLEAR_VMXON_PTR] = "VMCLEAR with VMXON pointer",
	[VMX_ERROR_VMLAUNCH_NOT_CLEAR] = "VMLAUNCH with non-clear VMCS",
	[VMX_ERROR_VMRESUME_NOT_LAUNCHED] = "VMRESUME with non-launched VMCS",
	[VMX_ERROR_VMRESUME_AFTER_VMXOFF] = "VMRESUME after VMXOFF",
	[VMX_ERROR_ENTRY_INVALID_CONTROL] = "VM entry with invalid control field(s)",
	[VMX_ERROR_ENTRY_INVALID_HOST_STATE] = "VM entry with invalid host-state field(s)",
	[VMX_ERROR_VMPTRLD_INVALID_ADDR] = "VMPTRLD with invalid physical address",
	[VMX_ERROR_VMPTRLD_VMXON_PTR] = "VMPTRLD with VMXON pointer",
	[VMX_ERROR_VMPTRLD_BAD_REVISION] = "VMPTRLD with incorrect VMCS revision identifier",
	[VMX_ERROR_UNSUPPORTED_FIELD] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[VMX_ERROR_VMWRITE_READ_ONLY] = "VMWRITE to read-only VMCS component",
	[VMX_ERROR_VMXON_IN_ROOT] = "VMXON executed in VMX root operation",
	[VMX_ERROR_ENTRY_INVALID_EXEC_VMCS] = "VM entry with invalid executive-VMCS pointer",
	[VMX_ERROR_ENTRY_EXEC_VMCS_NOT_LAUNCHED] = "VM entry with non-launched executive VMCS",
	[VMX_ERROR_ENTRY_EXEC_VMCS_NOT_VMXON] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[VMX_ERROR_VMCALL_NOT_CLEAR] = "VMCALL with non-clear VMCS",
	[VMX_ERROR_VMCALL_INVALID_EXIT_CONTROLS] = "VMCALL with invalid VM-exit control fields",
	[VMX_ERROR_VMCALL_BAD_MSEG_REVISION] = "VMCALL with incorrect MSEG revision identifier",
	[VMX_ERROR_VMXOFF_DUAL_MONITOR] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[VMX_ERROR_VMCALL_INVALID_SMM_FEATURES] = "VMCALL with invalid SMM-monitor features",
	[VMX_ERROR_ENTRY_INVALID_EXEC_CONTROLS] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[VMX_ERROR_ENTRY_MOV_SS_BLOCKING] = "VM entry with events blocked by MOV SS",
	[VMX_ERROR_INVALID_INVEPT_INVVPID] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t error)
{
	if (error < ARRAY_SIZE(instruction_errors) && instruction_errors[error])
		return instruction_errors[error];
	return "unknown VM-instruction error";
}

const char *vmx_entry_failure_detail(uint32_t basic_reason, uint64_t qualification)
{
	switch (basic_reason) {
	case VMX_EXIT_REASON_INVALID_GUEST_STATE:
		/* 26.3.1: the qualification names a few causes; 0 is any other check */
		switch (qualification) {
		case VMX_ENTRY_QUAL_PDPTE: return "loading the PDPTEs failed";
		case VMX_ENTRY_QUAL_NMI_INJECTION: return "NMI injection while NMIs are blocked";
		case VMX_ENTRY_QUAL_LINK_POINTER: return "invalid VMCS link pointer";
		default: return "a guest-state check (26.3.1) failed";
		}
	case VMX_EXIT_REASON_MSR_LOADING:
		return "an entry of the VM-entry MSR-load area (its 1-based index is the qualification) failed";
	case VMX_EXIT_REASON_MACHINE_CHECK:
		return "a machine-check event during VM entry";
	default:
		return "unexpected VM-entry failure reason";
	}
}
