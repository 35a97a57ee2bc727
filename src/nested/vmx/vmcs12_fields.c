#include "nested/vmx/vmcs12_fields.h"

#include "vmx/vmcs.h"
#include "core/array_size.h"

#define ENC_RESERVED_BITS 0xffff9000u /* bit 12 and bits 31:15 (24.11.2) */

/* Every component nestbed emulates for the features it offers (nvmx_caps.c): the fields
 * of features it does not offer (virtualize x2APIC mode, posted interrupts, PML, EPTP list,
 * #VE, SPP, CET, perf/BNDCFGS/RTIT MSRs) are unsupported, as on a CPU without them. The slot is the position in this table. */
static const uint16_t fields[] = {
	/* 16-bit, B.1 */
	VMCS_VPID,
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
	VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
	VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_INTR_STATUS,
	VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
	VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
	VMCS_HOST_TR_SELECTOR,
	/* 64-bit, B.2 */
	VMCS_IO_BITMAP_A, VMCS_IO_BITMAP_B, VMCS_MSR_BITMAP, VMCS_EXIT_MSR_STORE_ADDR,
	VMCS_EXIT_MSR_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_ADDR, VMCS_EXECUTIVE_VMCS_POINTER,
	VMCS_TSC_OFFSET, VMCS_EPT_POINTER, VMCS_XSS_EXIT_BITMAP, VMCS_VMFUNC_CONTROLS,
	VMCS_VIRTUAL_APIC_ADDR, VMCS_APIC_ACCESS_ADDR, VMCS_EOI_EXIT_BITMAP(0), VMCS_EOI_EXIT_BITMAP(1),
	VMCS_EOI_EXIT_BITMAP(2), VMCS_EOI_EXIT_BITMAP(3),
	VMCS_GUEST_PHYSICAL_ADDRESS,
	VMCS_LINK_POINTER, VMCS_GUEST_IA32_DEBUGCTL, VMCS_GUEST_IA32_PAT, VMCS_GUEST_IA32_EFER,
	VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE0 + 2, VMCS_GUEST_PDPTE0 + 4, VMCS_GUEST_PDPTE0 + 6,
	VMCS_HOST_IA32_PAT, VMCS_HOST_IA32_EFER,
	/* 32-bit, B.3 */
	VMCS_PIN_BASED_CTLS, VMCS_PROC_BASED_CTLS, VMCS_EXCEPTION_BITMAP, VMCS_PF_ERROR_CODE_MASK,
	VMCS_PF_ERROR_CODE_MATCH, VMCS_CR3_TARGET_COUNT, VMCS_EXIT_CTLS, VMCS_EXIT_MSR_STORE_COUNT,
	VMCS_EXIT_MSR_LOAD_COUNT, VMCS_ENTRY_CTLS, VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_INTR_INFO,
	VMCS_ENTRY_EXCEPTION_ERROR_CODE, VMCS_ENTRY_INSTRUCTION_LEN, VMCS_TPR_THRESHOLD,
	VMCS_PROC_BASED_CTLS2, VMCS_PLE_GAP, VMCS_PLE_WINDOW,
	VMCS_VM_INSTRUCTION_ERROR, VMCS_EXIT_REASON, VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR_CODE,
	VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR_CODE, VMCS_EXIT_INSTRUCTION_LEN,
	VMCS_EXIT_INSTRUCTION_INFO,
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
	VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,
	VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_LIMIT,
	VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR,
	VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_TR_AR,
	VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE, 0x4828u /* SMBASE */,
	VMCS_GUEST_SYSENTER_CS, VMCS_PREEMPTION_TIMER_VALUE,
	VMCS_HOST_SYSENTER_CS,
	/* natural width, B.4 */
	VMCS_CR0_GUEST_HOST_MASK, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW,
	VMCS_CR4_READ_SHADOW, 0x6008u, 0x600Au, 0x600Cu, 0x600Eu /* CR3-target values 0-3 */,
	VMCS_EXIT_QUALIFICATION, 0x6402u, 0x6404u, 0x6406u, 0x6408u /* I/O RCX, RSI, RDI, RIP */,
	VMCS_GUEST_LINEAR_ADDRESS,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE,
	VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
	VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE, VMCS_GUEST_GDTR_BASE, VMCS_GUEST_IDTR_BASE,
	VMCS_GUEST_DR7, VMCS_GUEST_RSP, VMCS_GUEST_RIP, VMCS_GUEST_RFLAGS,
	VMCS_GUEST_PENDING_DBG_EXCEPTIONS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
	VMCS_HOST_CR0, VMCS_HOST_CR3, VMCS_HOST_CR4, VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE,
	VMCS_HOST_TR_BASE, VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE, VMCS_HOST_SYSENTER_ESP,
	VMCS_HOST_SYSENTER_EIP, VMCS_HOST_RSP, VMCS_HOST_RIP,
	/* VMCS shadowing (B.2.1), last so that the slots above keep their places */
	VMCS_VMREAD_BITMAP, VMCS_VMWRITE_BITMAP,
};

_Static_assert(ARRAY_SIZE(fields) <= VMCS12_FIELD_COUNT && ARRAY_SIZE(fields) < 255, "VMCS12_FIELD_COUNT too small");

/* Encoding -> slot + 1 (0: unsupported), by width, type and index (24.11.2): every
 * supported index is below 32, so 4 * 4 * 32 entries cover the table; built at the
 * first lookup (a VM entry and exit look up some 200 fields). */
#define KEY_INDEX_LIMIT VMCS12_KEY_INDEX_LIMIT
uint8_t vmcs12_slot_by_key[4 * 4 * KEY_INDEX_LIMIT];
static bool slot_by_key_built;

static unsigned key_of(uint32_t full)
{
	unsigned width = (full >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK;
	unsigned type = (full >> VMCS_ENC_TYPE_SHIFT) & VMCS_ENC_TYPE_MASK;
	unsigned index = (full >> VMCS_ENC_INDEX_SHIFT) & VMCS_ENC_INDEX_MASK;
	return index < KEY_INDEX_LIMIT ? ((width * 4 + type) * KEY_INDEX_LIMIT + index) : ~0u;
}

static void build_keys(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		vmcs12_slot_by_key[key_of(fields[i])] = (uint8_t)(i + 1);
	/* several CPUs may build it at once: same bytes; the flag after them */
	__atomic_store_n(&slot_by_key_built, true, __ATOMIC_RELEASE);
}

void vmcs12_fields_init(void)
{
	if (!__atomic_load_n(&slot_by_key_built, __ATOMIC_ACQUIRE))
		build_keys();
}

bool vmcs12_field_lookup(uint32_t encoding, struct vmcs12_field *f)
{
	f->slot = -1;
	f->width = (enum vmcs_width)((encoding >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK);
	f->high = (encoding & VMCS_ENC_ACCESS_HIGH) != 0;
	f->read_only = ((encoding >> VMCS_ENC_TYPE_SHIFT) & VMCS_ENC_TYPE_MASK) == VMCS_ENC_TYPE_READ_ONLY;
	if (encoding & ENC_RESERVED_BITS)
		return false;
	if (f->high && f->width != VMCS_WIDTH_64)
		return false; /* only 64-bit fields have a high access type */
	if (!__atomic_load_n(&slot_by_key_built, __ATOMIC_ACQUIRE))
		build_keys();
	unsigned key = key_of(encoding & ~VMCS_ENC_ACCESS_HIGH);
	if (key == ~0u || !vmcs12_slot_by_key[key])
		return false;
	f->slot = vmcs12_slot_by_key[key] - 1;
	return true;
}

unsigned vmcs12_field_count(void)
{
	return ARRAY_SIZE(fields);
}

uint32_t vmcs12_field_encoding(unsigned slot)
{
	return slot < ARRAY_SIZE(fields) ? fields[slot] : 0;
}

unsigned vmcs12_highest_index(void)
{
	unsigned max = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
		unsigned idx = (fields[i] >> VMCS_ENC_INDEX_SHIFT) & VMCS_ENC_INDEX_MASK;
		if (idx > max)
			max = idx;
	}
	return max;
}

static uint64_t width_mask(enum vmcs_width w)
{
	switch (w) {
	case VMCS_WIDTH_16: return 0xffffull;
	case VMCS_WIDTH_32: return 0xffffffffull;
	default: return ~0ull;
	}
}

uint64_t vmcs12_field_store(const struct vmcs12_field *f, uint64_t old, uint64_t value)
{
	if (f->high)
		return (old & 0xffffffffull) | (value << 32);
	return value & width_mask(f->width);
}

uint64_t vmcs12_field_load(const struct vmcs12_field *f, uint64_t stored)
{
	if (f->high)
		return stored >> 32;
	return stored & width_mask(f->width);
}
