#include "vmx/vmx_controls.h"

#include "core/cpu.h"
#include "core/cr0_write.h"
#include "vmx/vmcs.h"

#define CR3_PCID_MASK 0xfffull        /* CR3[11:0] is the PCID with CR4.PCIDE (4.10.1) */
#define CR3_NO_FLUSH (1ull << 63)      /* MOV to CR3 with PCIDE: keep the PCID's entries */
#define CR4_PDPTE_RELOAD_BITS (VMX_CR4_PAE | VMX_CR4_PSE | VMX_CR4_PGE | VMX_CR4_SMEP)

static const char *const control_set_names[VMX_CTLS_COUNT] = {
	[VMX_CTLS_PIN] = "pin-based",
	[VMX_CTLS_PROC] = "primary processor-based",
	[VMX_CTLS_PROC2] = "secondary processor-based",
	[VMX_CTLS_EXIT] = "VM-exit",
	[VMX_CTLS_ENTRY] = "VM-entry",
};

const char *vmx_control_set_name(enum vmx_control_set set)
{
	return set < VMX_CTLS_COUNT ? control_set_names[set] : "unknown";
}

uint64_t vmx_control_cap(const struct vmx_caps *caps, enum vmx_control_set set)
{
	bool true_ctls = (caps->basic & VMX_BASIC_TRUE_CTLS) != 0;
	switch (set) {
	case VMX_CTLS_PIN:
		return true_ctls ? caps->true_pinbased : caps->pinbased;
	case VMX_CTLS_PROC:
		return true_ctls ? caps->true_procbased : caps->procbased;
	case VMX_CTLS_PROC2:
		/* A.3.3: IA32_VMX_PROCBASED_CTLS2 exists only when the primary controls allow
		 * "activate secondary controls" to be 1. */
		return (caps->procbased & VMX_PROCBASED_ACTIVATE_SECONDARY) ? caps->procbased2 : 0;
	case VMX_CTLS_EXIT:
		return true_ctls ? caps->true_exit : caps->exit;
	case VMX_CTLS_ENTRY:
		return true_ctls ? caps->true_entry : caps->entry;
	default:
		return 0;
	}
}

uint32_t vmx_controls_adjust(uint64_t cap, uint32_t wanted, uint32_t required, uint32_t *out)
{
	uint32_t value = vmx_adjust_controls(cap, wanted);
	*out = value;
	return required & ~value;
}

bool vmx_msr_bitmap_intercept(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	uint32_t read_base, write_base, index;
	if (msr <= VMX_MSR_LOW_LAST) {
		read_base = VMX_MSR_BITMAP_READ_LOW;
		write_base = VMX_MSR_BITMAP_WRITE_LOW;
		index = msr;
	} else if (msr >= VMX_MSR_HIGH_FIRST && msr <= VMX_MSR_HIGH_LAST) {
		read_base = VMX_MSR_BITMAP_READ_HIGH;
		write_base = VMX_MSR_BITMAP_WRITE_HIGH;
		index = msr - VMX_MSR_HIGH_FIRST;
	} else {
		return false;
	}
	if (read)
		bitmap[read_base + index / 8] |= (uint8_t)(1u << (index % 8));
	if (write)
		bitmap[write_base + index / 8] |= (uint8_t)(1u << (index % 8));
	return true;
}

void vmx_io_bitmap_intercept(uint8_t *bitmap_a, uint8_t *bitmap_b, uint16_t port)
{
	uint8_t *bitmap = port < VMX_IO_BITMAP_B_FIRST_PORT ? bitmap_a : bitmap_b;
	uint16_t index = port < VMX_IO_BITMAP_B_FIRST_PORT ? port : (uint16_t)(port - VMX_IO_BITMAP_B_FIRST_PORT);
	bitmap[index / 8] |= (uint8_t)(1u << (index % 8));
}

uint64_t vmx_cr0_forced(const struct vmx_cr_fixed *f)
{
	/* A.7: a bit set in FIXED0 is fixed to 1; 26.3.1.1 lets an unrestricted guest run
	 * with PE and PG clear. Bits FIXED1 clears are not forced: the CPU's own reserved-bit
	 * checks refuse them as on bare metal. */
	uint64_t forced = f->cr0_fixed0 & f->cr0_fixed1;
	if (f->unrestricted_guest)
		forced &= ~(VMX_CR0_PE | VMX_CR0_PG);
	return forced & CR_LOW32;
}

uint64_t vmx_cr4_forced(const struct vmx_cr_fixed *f)
{
	return f->cr4_fixed0 & f->cr4_fixed1; /* A.8: CR4.VMXE in practice */
}

static bool long_mode_active(const struct vmx_cr_view *cur)
{
	return (cur->efer & EFER_LMA) != 0;
}

int vmx_cr0_write(const struct vmx_cr_fixed *f, const struct vmx_cr_view *cur, uint64_t value,
		  struct vmx_cr_update *out)
{
	/* The architectural #GP rules and the LMA change are the core's; a bit the CPU does
	 * not allow to be 1 in VMX operation (FIXED1, A.7) is reserved here as well. */
	struct cr0_write_view view = { .cr0 = cur->cr0, .cr4 = cur->cr4, .efer = cur->efer,
				       .cs_l = cur->cs_long };
	struct cr0_write_effect effect;
	if ((value & ~f->cr0_fixed1 & CR_LOW32) || cr0_write(&view, value, &effect))
		return -1;
	if (f->vmx_operation && (~value & f->cr0_fixed0 & CR_LOW32))
		return -1; /* 23.8: PE, NE, PG stay 1 in VMX operation */
	out->guest_cr = value | vmx_cr0_forced(f);
	out->shadow = value;
	out->efer = effect.efer;
	out->flush_tlb = effect.flush_tlb;
	/* 4.4.1: MOV to CR0 loads the PDPTEs when PAE paging results from setting PG or when
	 * it changes CD or NW in PAE paging. */
	bool pae_paging = (value & VMX_CR0_PG) && (cur->cr4 & VMX_CR4_PAE) && !(out->efer & EFER_LMA);
	out->load_pdptes = pae_paging && (effect.pg_on || ((cur->cr0 ^ value) & (VMX_CR0_CD | VMX_CR0_NW)));
	return 0;
}

int vmx_cr4_write(const struct vmx_cr_fixed *f, const struct vmx_cr_view *cur, uint64_t value,
		  struct vmx_cr_update *out)
{
	uint64_t old = cur->cr4;
	if (value & ~f->cr4_fixed1)
		return -1; /* not supported by this CPU: reserved */
	if ((value & VMX_CR4_VMXE) && !f->allow_vmxe)
		return -1; /* VMX is not offered to the guest (CPUID.1:ECX.VMX = 0) */
	if (f->vmx_operation && (~value & f->cr4_fixed0))
		return -1; /* 23.8: CR4.VMXE cannot be cleared in VMX operation */
	if (long_mode_active(cur) && !(value & VMX_CR4_PAE))
		return -1; /* 9.8.5.4: PAE cannot be cleared in IA-32e mode */
	if ((value & VMX_CR4_PCIDE) && !(old & VMX_CR4_PCIDE) &&
	    (!long_mode_active(cur) || (cur->cr3 & CR3_PCID_MASK)))
		return -1; /* 4.10.1 */

	out->guest_cr = value | vmx_cr4_forced(f);
	out->shadow = value;
	out->efer = cur->efer;
	out->flush_tlb = ((old ^ value) & VMX_CR4_PAGING_BITS) != 0;
	bool pae_paging = (cur->cr0 & VMX_CR0_PG) && (value & VMX_CR4_PAE) && !long_mode_active(cur);
	out->load_pdptes = pae_paging && ((old ^ value) & CR4_PDPTE_RELOAD_BITS);
	return 0;
}

int vmx_cr3_write(const struct vmx_cr_view *cur, uint64_t value, struct vmx_cr_update *out)
{
	if (!cur->cs_long)
		value &= CR_LOW32;
	if (cur->cr4 & VMX_CR4_PCIDE)
		value &= ~CR3_NO_FLUSH; /* the flag is not part of CR3 (4.10.4.1) */
	out->guest_cr = value;
	out->shadow = value;
	out->efer = cur->efer;
	out->flush_tlb = true;
	out->load_pdptes = (cur->cr0 & VMX_CR0_PG) && (cur->cr4 & VMX_CR4_PAE) && !long_mode_active(cur);
	return 0;
}

uint64_t vmx_lmsw_value(uint64_t cr0, uint16_t source)
{
	return cr0_lmsw_value(cr0, source);
}
