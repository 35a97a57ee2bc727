/* VMCS shadowing (SDM vol.3 24.10, 25.1.3): L1's VMREAD of every field nestbed supports,
 * and its VMWRITE of the fields a hypervisor writes between two entries (l1_write_fields,
 * KVM's choice), go to a shadow VMCS linked from VMCS01 and cause no exit; a VMWRITE of
 * any other field exits and is emulated, so nestbed sees it as it happens. The shadow
 * holds the current VMCS12's fields; nestbed's cached copy takes the fields L1 may have
 * written from it before nestbed uses the whole VMCS12 (VMLAUNCH, VMRESUME, VMCLEAR,
 * VMPTRLD, VMXOFF), noting which changed, and the fields nestbed changed (the
 * instruction's outcome, a new current VMCS, an emulated VM exit) are pushed back before
 * L1 runs again. Used only where the CPU has VMCS
 * shadowing and lets VMWRITE write the exit-information fields (A.6, IA32_VMX_MISC[29]),
 * which nestbed's pushes need; otherwise every VMREAD/VMWRITE exits and is emulated. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/string.h"
#include "vmx/vmcs.h"

#define BITMAP_INDEX_MASK 0x7fffu           /* 24.6.15: bits 14:0 of the encoding select the bit */

/* The fields L1 may VMWRITE without an exit: the guest state and controls a hypervisor
 * changes between two entries of the same L2 (KVM's shadowed read-write fields,
 * arch/x86/kvm/vmx/vmcs_shadow_fields.h, and host RSP, which KVM as L1 writes whenever
 * its stack differs from the last entry's, on every other L2 exit of the kvm scenario),
 * all of them 16, 32-bit or natural width. */
static const uint32_t l1_write_fields[] = {
	VMCS_GUEST_INTR_STATUS, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
	VMCS_PIN_BASED_CTLS, VMCS_PROC_BASED_CTLS, VMCS_EXCEPTION_BITMAP,
	VMCS_ENTRY_EXCEPTION_ERROR_CODE, VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_INSTRUCTION_LEN,
	VMCS_TPR_THRESHOLD, VMCS_GUEST_INTERRUPTIBILITY, VMCS_PREEMPTION_TIMER_VALUE,
	VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4,
	VMCS_GUEST_RFLAGS, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW,
	VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_RSP,
};
#define L1_WRITE_FIELDS (sizeof(l1_write_fields) / sizeof(l1_write_fields[0]))
_Static_assert(L1_WRITE_FIELDS == NVMX_L1_WRITE_FIELDS, "NVMX_L1_WRITE_FIELDS");

static void allow(uint8_t *bitmap, uint32_t encoding)
{
	uint32_t bit = encoding & BITMAP_INDEX_MASK;
	bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

int nvmx_shadow_vmcs_init(const struct machine *m, struct nvmx *n)
{
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	uint64_t proc2_cap = vmx_control_cap(caps, VMX_CTLS_PROC2);
	if (!(vmx_allowed1(proc2_cap) & VMX_PROC2_VMCS_SHADOWING) || !(caps->misc & MISC_VMWRITE_ANY) ||
	    !(n->vv01->proc & VMX_PROC_ACTIVATE_SECONDARY))
		return 0; /* every VMREAD/VMWRITE exits */
	n->shadow_vmcs_pa = vmx_alloc_frames(m, 1, "shadow VMCS");
	uint64_t read_pa = vmx_alloc_frames(m, 1, "VMREAD bitmap");
	uint64_t write_pa = vmx_alloc_frames(m, 1, "VMWRITE bitmap");
	if (!n->shadow_vmcs_pa || !read_pa || !write_pa)
		return -1;
	uint8_t *rd = phys_to_virt(read_pa), *wr = phys_to_virt(write_pa);
	memset(rd, 0xff, FRAME_SIZE);
	memset(wr, 0xff, FRAME_SIZE);
	for (unsigned i = 0; i < vmcs12_field_count(); i++) {
		uint32_t enc = vmcs12_field_encoding(i);
		if (nvmx_is_rare_field(enc))
			continue; /* may be older than VMCS02's after an exit: VMREAD exits */
		allow(rd, enc);
		if (((enc >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK) == VMCS_WIDTH_64)
			allow(rd, enc | VMCS_ENC_ACCESS_HIGH);
	}
	for (unsigned i = 0; i < L1_WRITE_FIELDS; i++) {
		if (vmcs12_slot_of(l1_write_fields[i]) < 0 ||
		    ((l1_write_fields[i] >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK) == VMCS_WIDTH_64) {
			kprintf("nestbed: nested-vmx: shadow VMCS: field %#x cannot be written without exits\n",
				l1_write_fields[i]);
			return -1; /* nestbed's bug: its pull would miss the high half */
		}
		allow(wr, l1_write_fields[i]);
		n->l1_write_slot[i] = (uint8_t)vmcs12_slot_of(l1_write_fields[i]);
	}
	*(uint32_t *)phys_to_virt(n->shadow_vmcs_pa) = n->revision | SHADOW_VMCS_INDICATOR;
	enum vmx_result r = vmclear(n->shadow_vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMCLEAR of the shadow VMCS", r);
		return -1;
	}
	/* VMCS01 is current: shadowing on, the bitmaps, no link until L1 has a current VMCS */
	n->vv01->proc2 |= VMX_PROC2_VMCS_SHADOWING;
	vmcs_write(VMCS_PROC_BASED_CTLS2, n->vv01->proc2);
	vmcs_write(VMCS_VMREAD_BITMAP, read_pa);
	vmcs_write(VMCS_VMWRITE_BITMAP, write_pa);
	vmcs_write(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
	n->shadowing = true;
	return 0;
}

static void make_current(struct nvmx *n, uint64_t pa, const char *what)
{
	enum vmx_result r = vmptrld(pa);
	if (r != VMX_OK) {
		vmx_report_failure(what, r);
		n->shadowing = false; /* fall back to exits rather than lose VMCS12 */
	}
}

void nvmx_mark_all_dirty(struct nvmx *n)
{
	for (unsigned i = 0; i < sizeof(n->dirty) / sizeof(n->dirty[0]); i++)
		n->dirty[i] = ~0ull;
}

static void clear_dirty(struct nvmx *n)
{
	for (unsigned i = 0; i < sizeof(n->dirty) / sizeof(n->dirty[0]); i++)
		n->dirty[i] = 0;
}

void nvmx_shadow_pull(struct nvmx *n)
{
	if (!n->shadowing || n->current_pa == NVMX_NO_VMCS)
		return;
	make_current(n, n->shadow_vmcs_pa, "VMPTRLD of the shadow VMCS");
	/* only these can differ: any other field L1 wrote came through an emulated VMWRITE */
	for (unsigned i = 0; n->shadowing && i < L1_WRITE_FIELDS; i++) {
		unsigned slot = n->l1_write_slot[i];
		uint64_t value;
		if (vmcs_read_checked(l1_write_fields[i], &value) != VMX_OK)
			value = vmcs_read(l1_write_fields[i]); /* says why */
		if (value != n->vmcs12.field[slot]) { /* L1 wrote it */
			n->vmcs12.field[slot] = value;
			vmcs12_l1_wrote(n, slot);
		}
	}
	make_current(n, n->vv01->vmcs_pa, "VMPTRLD of VMCS01");
	/* the fields nestbed changed stay marked for the next push */
}

/* VMCS01 must be current; it is again afterwards, linked to the shadow when L1 has a
 * current VMCS (else L1's VMREAD/VMWRITE give VMfailInvalid without an exit, 30.3). */
void nvmx_shadow_push(struct nvmx *n)
{
	if (!n->shadowing)
		return;
	uint64_t any = 0;
	for (unsigned w = 0; w < VMCS12_SLOT_WORDS; w++)
		any |= n->dirty[w];
	if (n->current_pa != NVMX_NO_VMCS && any) {
		unsigned count = vmcs12_field_count();
		make_current(n, n->shadow_vmcs_pa, "VMPTRLD of the shadow VMCS");
		for (unsigned w = 0; n->shadowing && w < VMCS12_SLOT_WORDS; w++)
			for (uint64_t bits = n->dirty[w]; bits; bits &= bits - 1) {
				unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
				if (i >= count)
					break;
				vmcs_write(vmcs12_field_encoding(i), n->vmcs12.field[i]);
			}
		make_current(n, n->vv01->vmcs_pa, "VMPTRLD of VMCS01");
		clear_dirty(n);
	}
	vmcs_write(VMCS_LINK_POINTER, n->shadowing && n->current_pa != NVMX_NO_VMCS ? n->shadow_vmcs_pa :
										       VMX_LINK_POINTER_NONE);
}
