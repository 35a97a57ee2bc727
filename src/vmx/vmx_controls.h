/* Pure VT-x policy, host-tested: VM-execution/exit/entry controls adjusted against the
 * capability MSRs (SDM vol.3 appendix A), the CR0/CR4 bits VMX forces on a guest
 * (A.7, A.8) and the emulation of guest writes to them behind read shadows (24.6.6). */
#ifndef NESTBED_VMX_CONTROLS_H
#define NESTBED_VMX_CONTROLS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_caps.h"

enum vmx_control_set {
	VMX_CTLS_PIN,
	VMX_CTLS_PROC,
	VMX_CTLS_PROC2,
	VMX_CTLS_EXIT,
	VMX_CTLS_ENTRY,
	VMX_CTLS_COUNT
};

const char *vmx_control_set_name(enum vmx_control_set set);

/* The capability MSR value that governs a control set: the IA32_VMX_TRUE_* one when
 * IA32_VMX_BASIC[55] says the TRUE MSRs exist, else the original one (A.2); secondary
 * controls have one MSR only (A.3.3), and none when the primary controls cannot
 * activate them (then nothing is allowed). */
uint64_t vmx_control_cap(const struct vmx_caps *caps, enum vmx_control_set set);

/* A capability MSR: bits 31:0 are the allowed 0-settings (a 1 there: the control must
 * be 1), bits 63:32 the allowed 1-settings (a 0 there: the control must be 0), A.3-A.5. */
static inline uint32_t vmx_allowed0(uint64_t cap) { return (uint32_t)cap; }
static inline uint32_t vmx_allowed1(uint64_t cap) { return (uint32_t)(cap >> 32); }

/* allowed = (wanted | allowed0) & allowed1: what the CPU runs closest to `wanted`. */
static inline uint32_t vmx_adjust_controls(uint64_t cap, uint32_t wanted)
{
	return (wanted | vmx_allowed0(cap)) & vmx_allowed1(cap);
}

/* Adjusts `wanted` into *out; returns the bits of `required` (a subset of wanted that
 * nestbed cannot do without) the CPU does not allow: 0 means usable. */
uint32_t vmx_controls_adjust(uint64_t cap, uint32_t wanted, uint32_t required, uint32_t *out);

/* ---- Bitmaps, SDM vol.3 24.6.4 and 24.6.9 ---- */

/* Sets the read and/or write intercept of an MSR in a 4 KiB MSR bitmap. MSRs outside
 * 0-1FFFh and C0000000h-C0001FFFh always exit and are left alone (returns false). */
bool vmx_msr_bitmap_intercept(uint8_t *bitmap, uint32_t msr, bool read, bool write);
/* Sets the intercept of one port in I/O bitmap A (ports 0-7FFFh) or B (8000h-FFFFh). */
void vmx_io_bitmap_intercept(uint8_t *bitmap_a, uint8_t *bitmap_b, uint16_t port);

/* ---- CR0/CR4 under VMX ---- */

struct vmx_cr_fixed {
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1; /* IA32_VMX_CR{0,4}_FIXED{0,1} */
	bool unrestricted_guest; /* PE and PG may then be 0 in the guest (26.3.1.1) */
	bool allow_vmxe;         /* the guest may set CR4.VMXE (only once VMX is offered to it) */
	bool vmx_operation;      /* the guest is in VMX operation (nested VT-x, after its VMXON): the
				  * bits FIXED0 sets in CR0 and CR4 cannot be cleared (23.8) */
};

/* Bits VMX forces to 1 in the guest's CR0/CR4: nestbed owns them (guest/host mask) and
 * the guest reads its own value from the read shadow (25.3, 24.6.6). */
uint64_t vmx_cr0_forced(const struct vmx_cr_fixed *f);
uint64_t vmx_cr4_forced(const struct vmx_cr_fixed *f);

/* What the guest reads from CRn: owned bits from the shadow, the others from the CPU. */
static inline uint64_t vmx_cr_guest_view(uint64_t guest_cr, uint64_t shadow, uint64_t mask)
{
	return (guest_cr & ~mask) | (shadow & mask);
}

/* The guest's control state as it believes it to be. */
struct vmx_cr_view {
	uint64_t cr0, cr3, cr4, efer;
	bool cs_long; /* executing 64-bit code (CS.L with EFER.LMA) */
};

struct vmx_cr_update {
	uint64_t guest_cr; /* for GUEST_CRn: the value with the forced bits */
	uint64_t shadow;   /* for CRn_READ_SHADOW: the value the guest wrote */
	uint64_t efer;     /* the guest's EFER afterwards: LMA follows CR0.PG when LME is set */
	bool flush_tlb;    /* translation-relevant bits changed */
	bool load_pdptes;  /* PAE paging is on: the PDPTEs must be loaded into the VMCS (26.3.2.4) */
};

/* Emulate MOV to CR0/CR3/CR4 (LMSW and CLTS go through vmx_cr0_write with the value they
 * produce). Return 0, or -1 when the CPU would raise #GP(0) instead (SDM vol.2 MOV
 * to/from control registers; vol.3 2.5, 4.1.2, 9.8.5). */
int vmx_cr0_write(const struct vmx_cr_fixed *f, const struct vmx_cr_view *cur, uint64_t value,
		  struct vmx_cr_update *out);
int vmx_cr4_write(const struct vmx_cr_fixed *f, const struct vmx_cr_view *cur, uint64_t value,
		  struct vmx_cr_update *out);
int vmx_cr3_write(const struct vmx_cr_view *cur, uint64_t value, struct vmx_cr_update *out);

/* The CR0 value LMSW produces: bits 3:0 from the source, except that it never clears PE. */
uint64_t vmx_lmsw_value(uint64_t cr0, uint16_t source);

#define CR_LOW32 0xffffffffull

#endif
