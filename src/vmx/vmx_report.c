/* VMCS access with every failure reported, VM-instruction failures named (SDM vol.3
 * 30.2, 30.4) and the VMCS dump nestbed prints when a guest cannot go on. */
#include "vmx/vmx.h"

#include "core/console.h"
#include "core/pcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"

#define DUMP_UNREADABLE (~0ull)

static void report_access(const char *insn, uint32_t field, enum vmx_result r)
{
	pcpu_this()->vmcs_access_errors++;
	if (r == VMX_FAIL_INVALID) {
		kprintf("nestbed: vmx: %s of field %#x failed: VMfailInvalid (no current VMCS)\n", insn, field);
		return;
	}
	uint64_t error = 0;
	(void)vmcs_read_checked(VMCS_VM_INSTRUCTION_ERROR, &error);
	kprintf("nestbed: vmx: %s of field %#x failed: VM-instruction error %llu (%s)\n", insn, field,
		(unsigned long long)error, vmx_instruction_error_name((uint32_t)error));
}

uint64_t vmcs_read(uint32_t field)
{
	uint64_t value;
	enum vmx_result r = vmcs_read_checked(field, &value);
	if (r != VMX_OK) {
		report_access("VMREAD", field, r);
		return 0;
	}
	return value;
}

void vmcs_write(uint32_t field, uint64_t value)
{
	enum vmx_result r = vmcs_write_checked(field, value);
	if (r != VMX_OK)
		report_access("VMWRITE", field, r);
}

uint32_t vmx_report_failure(const char *what, enum vmx_result r)
{
	if (r == VMX_FAIL_INVALID) {
		kprintf("nestbed: vmx: %s failed: VMfailInvalid (no current VMCS, or a bad region "
			"pointer: SDM vol.3 30.2)\n", what);
		return 0;
	}
	uint64_t error = 0;
	if (vmcs_read_checked(VMCS_VM_INSTRUCTION_ERROR, &error) != VMX_OK) {
		kprintf("nestbed: vmx: %s failed: VMfailValid, and the VM-instruction error field "
			"cannot be read\n", what);
		return 0;
	}
	kprintf("nestbed: vmx: %s failed: VMfailValid, VM-instruction error %llu (%s)\n", what,
		(unsigned long long)error, vmx_instruction_error_name((uint32_t)error));
	return (uint32_t)error;
}

/* The dump reads quietly: a field the CPU does not have prints as all ones. */
static unsigned long long rd(uint32_t field)
{
	uint64_t v;
	return vmcs_read_checked(field, &v) == VMX_OK ? v : DUMP_UNREADABLE;
}

static void dump_segment(const char *name, uint32_t selector, uint32_t ar, uint32_t limit, uint32_t base)
{
	kprintf(" %s=%04llx/%05llx/%#llx/%#llx", name, rd(selector), rd(ar), rd(limit), rd(base));
}

static const char *instruction_error_text(uint64_t error)
{
	return error ? vmx_instruction_error_name((uint32_t)error) : "none";
}

void vmx_dump_vmcs(bool after_exit)
{
	if (after_exit) {
		uint32_t reason = (uint32_t)rd(VMCS_EXIT_REASON);
		kprintf("nestbed:   vmcs exit reason=%#x (%s) qualification=%#llx gpa=%#llx intr_info=%#llx "
			"intr_error=%#llx idt_vectoring=%#llx insn_len=%llu insn_error=%llu (%s)\n", reason,
			vmx_exit_reason_name(reason & VMX_EXIT_REASON_BASIC_MASK),
			rd(VMCS_EXIT_QUALIFICATION), rd(VMCS_GUEST_PHYSICAL_ADDRESS), rd(VMCS_EXIT_INTR_INFO),
			rd(VMCS_EXIT_INTR_ERROR_CODE), rd(VMCS_IDT_VECTORING_INFO),
			rd(VMCS_EXIT_INSTRUCTION_LEN), rd(VMCS_VM_INSTRUCTION_ERROR),
			instruction_error_text(rd(VMCS_VM_INSTRUCTION_ERROR)));
	} else {
		kprintf("nestbed:   vmcs no exit: the entry failed before the guest ran, VM-instruction "
			"error %llu (%s)\n", rd(VMCS_VM_INSTRUCTION_ERROR),
			instruction_error_text(rd(VMCS_VM_INSTRUCTION_ERROR)));
	}
	kprintf("nestbed:   vmcs controls pin=%#llx proc=%#llx proc2=%#llx exit=%#llx entry=%#llx "
		"exception_bitmap=%#llx entry_intr_info=%#llx eptp=%#llx vpid=%llu msr_bitmap=%#llx "
		"io_bitmaps=%#llx/%#llx\n", rd(VMCS_PIN_BASED_CTLS), rd(VMCS_PROC_BASED_CTLS),
		rd(VMCS_PROC_BASED_CTLS2), rd(VMCS_EXIT_CTLS), rd(VMCS_ENTRY_CTLS),
		rd(VMCS_EXCEPTION_BITMAP), rd(VMCS_ENTRY_INTR_INFO), rd(VMCS_EPT_POINTER), rd(VMCS_VPID),
		rd(VMCS_MSR_BITMAP), rd(VMCS_IO_BITMAP_A), rd(VMCS_IO_BITMAP_B));
	kprintf("nestbed:   vmcs guest rip=%#llx rsp=%#llx rflags=%#llx cr0=%#llx (shadow %#llx mask %#llx) "
		"cr3=%#llx cr4=%#llx (shadow %#llx mask %#llx) efer=%#llx dr7=%#llx\n",
		rd(VMCS_GUEST_RIP), rd(VMCS_GUEST_RSP), rd(VMCS_GUEST_RFLAGS), rd(VMCS_GUEST_CR0),
		rd(VMCS_CR0_READ_SHADOW), rd(VMCS_CR0_GUEST_HOST_MASK), rd(VMCS_GUEST_CR3),
		rd(VMCS_GUEST_CR4), rd(VMCS_CR4_READ_SHADOW), rd(VMCS_CR4_GUEST_HOST_MASK),
		rd(VMCS_GUEST_IA32_EFER), rd(VMCS_GUEST_DR7));
	kprintf("nestbed:   vmcs guest");
	dump_segment("cs", VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_AR, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_BASE);
	dump_segment("ss", VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_AR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_BASE);
	dump_segment("ds", VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_AR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_BASE);
	dump_segment("tr", VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_AR, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_BASE);
	dump_segment("ldtr", VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_BASE);
	kprintf("\n");
	kprintf("nestbed:   vmcs guest gdtr=%#llx/%#llx idtr=%#llx/%#llx interruptibility=%#llx "
		"activity=%llu pending_dbg=%#llx link=%#llx pdpte0=%#llx\n", rd(VMCS_GUEST_GDTR_BASE),
		rd(VMCS_GUEST_GDTR_LIMIT), rd(VMCS_GUEST_IDTR_BASE), rd(VMCS_GUEST_IDTR_LIMIT),
		rd(VMCS_GUEST_INTERRUPTIBILITY), rd(VMCS_GUEST_ACTIVITY_STATE),
		rd(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), rd(VMCS_LINK_POINTER), rd(VMCS_GUEST_PDPTE(0)));
	kprintf("nestbed:   vmcs host rip=%#llx rsp=%#llx cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx "
		"cs=%#llx ss=%#llx tr=%#llx/%#llx gdtr=%#llx idtr=%#llx\n", rd(VMCS_HOST_RIP),
		rd(VMCS_HOST_RSP), rd(VMCS_HOST_CR0), rd(VMCS_HOST_CR3), rd(VMCS_HOST_CR4),
		rd(VMCS_HOST_IA32_EFER), rd(VMCS_HOST_CS_SELECTOR), rd(VMCS_HOST_SS_SELECTOR),
		rd(VMCS_HOST_TR_SELECTOR), rd(VMCS_HOST_TR_BASE), rd(VMCS_HOST_GDTR_BASE),
		rd(VMCS_HOST_IDTR_BASE));
}
