/* Nested VT-x: L1 runs its guests (L2) with VMX instructions that nestbed emulates; the
 * VMCS L1 manages (VMCS12) is checked and merged into a VMCS of nestbed's (VMCS02) that
 * the CPU runs. SDM vol.3 chapters 24-30, appendix A.
 *
 * Where VMCS12 lives: in L1's own VMCS region, in nestbed's layout (struct vmcs12_region:
 * the revision identifier and abort indicator where the SDM puts them, then the launch
 * state and one 64-bit slot per supported field). The current VMCS12 is cached in
 * nestbed's memory from VMPTRLD until VMCLEAR, VMPTRLD of another region or VMXOFF write
 * it back, as a CPU caches its current VMCS (24.11.1). */
#ifndef NESTBED_NVMX_H
#define NESTBED_NVMX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/paging.h"
#include "core/vcpu.h"
#include "nested/map_track.h"
#include "nested/vmx/nvmx_caps.h"
#include "nested/vmx/vmcs12_check_cache.h"
#include "nested/vmx/vmcs12_fields.h"
#include "vmx/vmx.h"

struct machine;

#define NVMX_NO_VMCS (~0ull)           /* the current-VMCS pointer when there is none (30.3) */
#define NVMX_L2_VPID 2                 /* nestbed's VPID for every L2 (1 is L1's) */
#define NVMX_LAUNCH_CLEAR 0u
#define NVMX_LAUNCH_LAUNCHED 1u
#define NVMX_OWN_WORDS 64              /* nonzero 64-bit words of one of nestbed's own bitmaps */
#define NVMX_L1_WRITE_FIELDS 24        /* fields L1 VMWRITEs without an exit (nvmx_shadow_vmcs.c) */

/* The guest segment and descriptor-table fields, which VM entry loads from VMCS12 and a
 * VM exit saves into it as they are (24.4.1, 27.3.2). */
#define NVMX_GUEST_SEGMENT_FIELDS                                                              \
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,                \
	VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,                \
	VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR,                                      \
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,    \
	VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,  \
	VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR,                \
	VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_TR_AR,              \
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,        \
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE,      \
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT

/* The guest-state fields a VM exit leaves in VMCS02 until they are needed (nvmx_exit.c
 * rare_fields): the segments and descriptor tables but CS (attributes, base) and SS
 * (attributes), and the SYSENTER MSRs. */
#define NVMX_RARE_FIELDS                                                                       \
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,                \
	VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,                \
	VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR,                                      \
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,    \
	VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,  \
	VMCS_GUEST_ES_AR, VMCS_GUEST_DS_AR,                                                    \
	VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_TR_AR,              \
	VMCS_GUEST_ES_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,                            \
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_TR_BASE,      \
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT, \
	VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP

/* L1's VMCS region as nestbed lays it out. */
struct vmcs12_region {
	uint32_t revision;      /* bits 30:0 revision identifier, bit 31 shadow-VMCS indicator (24.2) */
	uint32_t abort;         /* VMX-abort indicator */
	uint32_t launch_state;  /* NVMX_LAUNCH_* */
	uint32_t reserved;
	uint64_t field[VMCS12_FIELD_COUNT];
};

struct nvmx {
	bool vmxon;               /* L1 is in VMX operation */
	bool in_l2;
	uint64_t vmxon_pa;
	uint64_t current_pa;      /* L1's current-VMCS pointer */
	struct vmcs12_region vmcs12; /* the current VMCS12 (valid when current_pa != NVMX_NO_VMCS) */
	uint32_t revision;        /* the revision identifier offered (IA32_VMX_BASIC[30:0]) */
	struct nvmx_offer offer;
	uint64_t phys_mask;       /* bits above MAXPHYADDR */
	struct vmx_vcpu *vv01;    /* the backend's vCPU for L1 (its VMCS is VMCS01) */
	struct vmx_vcpu vv02;     /* VMCS02: L2 as the CPU runs it */
	uint8_t *msr_bitmap02, *io_bitmap_a02, *io_bitmap_b02;
	/* L1's bitmaps as the "does L1 want this exit" decision reads them: the bytes an exit
	 * asks about, copied from L1's bitmaps as they are at the exit (nvmx_maps_refresh) */
	uint8_t msr_bitmap12[4096] __attribute__((aligned(8)));
	uint8_t io_bitmaps12[8192] __attribute__((aligned(8)));
	/* The merged bitmaps' cache (nvmx_maps.c): L1's bitmaps where they live (NULL when
	 * unused or not L1's memory), nestbed's own words, a TLB flush another CPU asked for. */
	const uint8_t *msr12_live, *io_a12_live, *io_b12_live;
	struct map_cache maps;
	volatile uint32_t tdp_sync;
	struct map_word own_msr[NVMX_OWN_WORDS], own_io_a[NVMX_OWN_WORDS], own_io_b[NVMX_OWN_WORDS];
	unsigned nr_own_msr, nr_own_io_a, nr_own_io_b;
	/* the shadow EPT: L2-physical -> host-physical, a cache of L1's EPT composed with
	 * nestbed's identity map, filled at EPT violations */
	struct tdp shadow;        /* EPT format (vmx/vmx_ept.h) */
	uint64_t shadow_eptp12;   /* the L1 EPTP it caches */
	uint16_t last_vpid12;
	bool flush_l2;            /* L2's TLB tag must be flushed before its next entry */
	/* VMCS shadowing for L1 (nvmx_shadow_vmcs.c) */
	bool shadowing;
	uint64_t shadow_vmcs_pa;
	uint8_t l1_write_slot[NVMX_L1_WRITE_FIELDS]; /* VMCS12 slots of the fields L1 writes without exit */
	uint64_t dirty[VMCS12_SLOT_WORDS]; /* slots nestbed changed since the last push */
	/* What changed in the current VMCS12, so that an entry re-checks and re-writes only
	 * that: the checks' verdicts with the slots they read, and the slots whose value
	 * VMCS02 does not hold (L1 wrote them, or VMCS02 last ran another VMCS12). */
	struct vmcs12_check_cache checks;
	uint64_t dirty02[VMCS12_SLOT_WORDS];
	uint64_t plain02[VMCS12_SLOT_WORDS]; /* the slots VMCS02 takes as they are (nvmx_entry.c) */
	/* VMCS12's rare fields (NVMX_RARE_FIELDS) are older than VMCS02's since the last exit */
	bool rare_stale;
	/* L1's state that L2 inherits when VMCS12 does not load its own (read at entry) */
	uint64_t l1_pat;
};

struct nvmx *nvmx_of(const struct vcpu *v);

/* VMREAD/VMWRITE of the current VMCS on the nested round trip, inline (an entry and an
 * exit make some 150); a failure goes through vmcs_read/vmcs_write again, which report it. */
static inline uint64_t nvmx_vmread(uint32_t field)
{
	uint64_t value;
	if (vmcs_read_checked(field, &value) != VMX_OK)
		value = vmcs_read(field);
	return value;
}

static inline void nvmx_vmwrite(uint32_t field, uint64_t value)
{
	if (vmcs_write_checked(field, value) != VMX_OK)
		vmcs_write(field, value);
}

static inline void nvmx_mark_dirty(struct nvmx *n, unsigned slot)
{
	n->dirty[slot / 64] |= 1ull << (slot % 64);
}

/* VMCS12 field access by encoding (0 / ignored for unsupported ones). Writes mark what
 * changed: for the shadow VMCS (dirty), the entry checks (checks) and VMCS02 (dirty02).
 * vmcs12_set: nestbed's own value while L1 runs (an instruction's outcome): always pushed,
 * since L1's shadow VMCS may hold a VMWRITE nestbed has not pulled;
 * vmcs12_save: the outcome of a VM exit or a failed entry (L2's state as VMCS02 holds it,
 * exit information), written where L1 cannot have written the shadow since the pull:
 * marked only when the value changes, and not for VMCS02;
 * vmcs12_l1_wrote: L1's VMWRITE of a slot (emulated, or pulled from the shadow VMCS). */
static inline uint64_t vmcs12_get(const struct nvmx *n, uint32_t encoding)
{
	int slot = vmcs12_slot_of(encoding);
	return slot < 0 ? 0 : n->vmcs12.field[slot];
}

static inline void vmcs12_save(struct nvmx *n, uint32_t encoding, uint64_t value)
{
	int slot = vmcs12_slot_of(encoding);
	value &= vmcs12_width_mask(encoding);
	if (slot < 0 || n->vmcs12.field[slot] == value)
		return;
	n->vmcs12.field[slot] = value;
	nvmx_mark_dirty(n, (unsigned)slot);
	vmcs12_check_cache_changed(&n->checks, (unsigned)slot);
}

static inline void vmcs12_set(struct nvmx *n, uint32_t encoding, uint64_t value)
{
	int slot = vmcs12_slot_of(encoding);
	value &= vmcs12_width_mask(encoding);
	if (slot < 0)
		return;
	nvmx_mark_dirty(n, (unsigned)slot);
	if (n->vmcs12.field[slot] == value)
		return;
	n->vmcs12.field[slot] = value;
	vmcs12_check_cache_changed(&n->checks, (unsigned)slot);
	n->dirty02[slot / 64] |= 1ull << (slot % 64);
}

static inline void vmcs12_l1_wrote(struct nvmx *n, unsigned slot)
{
	vmcs12_check_cache_changed(&n->checks, slot);
	n->dirty02[slot / 64] |= 1ull << (slot % 64);
}

bool nvmx_ept12(const struct nvmx *n);
/* The guest-state field a VM entry or exit switches an MSR with (24.4.1), or 0: such an
 * MSR in an MSR area lives in the VMCS (VMCS02 for L2, VMCS01 for L1), not in the CPU,
 * while nestbed runs. */
uint32_t nvmx_msr_guest_field(uint32_t msr);

/* nvmx_shadow_vmcs.c: 0 (shadowing on, or not available) or -1; pull before nestbed
 * reads VMCS12 while L1 runs, push after it changed it (VMCS01 current for both). */
int nvmx_shadow_vmcs_init(const struct machine *m, struct nvmx *n);
void nvmx_mark_all_dirty(struct nvmx *n);
void nvmx_shadow_pull(struct nvmx *n);
void nvmx_shadow_push(struct nvmx *n);

/* nvmx_l2_vmcs_shadow.c: L2's VMREAD/VMWRITE under the "VMCS shadowing" L1 set in
 * VMCS12. claims: true when the exit is not L1's (VMCS02 current, at the exit);
 * emulate: the claimed instruction's outcome in L2 (the core's l2_vm_insn). */
bool nvmx_l2_vmcs_shadow_claims(struct vcpu *v, struct nvmx *n, const struct exit *e);
void nvmx_l2_vmcs_shadow_emulate(struct vcpu *v, struct exit *e);
/* At VM entry, after the SDM's checks: is VMCS12's shadow VMCS (with "VMCS shadowing"
 * and a link pointer other than all ones) outside L1's RAM? */
bool nvmx_l2_vmcs_shadow_link_bad(const struct nvmx *n);

/* nvmx_entry.c: VMLAUNCH/VMRESUME after the instruction's own checks passed. */
void nvmx_vmentry(struct vcpu *v, struct exit *e, bool launch);
void nvmx_entry_init(struct nvmx *n);
/* nvmx_exit.c: an exit of L2 (or a failed entry: reason with bit 31) emulated into L1:
 * exit information and L2 state into VMCS12, L1 loaded from its host-state area. */
void nvmx_vmexit(struct vcpu *v, struct nvmx *n, uint32_t reason, uint64_t qualification);
/* A VM-entry failure found before L2 ran (26.7): L1 gets it while still on VMCS01. */
void nvmx_entry_failure(struct vcpu *v, struct nvmx *n, uint32_t reason, uint64_t qualification);
bool nvmx_reflect_if_wanted(struct vcpu *v, struct exit *e);
/* The rare fields into VMCS12 if the last exit left them in VMCS02 (VMCS01 current):
 * before anything reads or writes them in VMCS12 or writes VMCS12 back to L1. */
void nvmx_sync_rare(struct vcpu *v, struct nvmx *n);
bool nvmx_is_rare_field(uint32_t encoding);
/* nvmx_ept.c: the nested EPT. */
bool nvmx_tdp_fault(struct vcpu *v, struct exit *e);
bool nvmx_apic_access(struct vcpu *v, struct exit *e);
int nvmx_l2_gpa_to_hpa(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end);
void nvmx_shadow_drop(struct nvmx *n);
int nvmx_shadow_ensure(struct nvmx *n);
uint64_t nvmx_shadow_eptp(const struct nvmx *n);

/* nvmx_maps.c: the permission maps (nested/map_track.h). */
int nvmx_maps_init(struct machine *m, struct vcpu *v);
/* At VM entry: VMCS02's bitmaps match VMCS12's (merged again only when L1 named other
 * bitmaps or wrote one); the I/O controls of VMCS02 in *proc02. */
void nvmx_maps_for_entry(struct vcpu *v, struct nvmx *n, uint32_t proc12, uint32_t *proc02);
void nvmx_maps_refresh(struct nvmx *n, const struct exit *e);
bool nvmx_maps_retry(struct vcpu *v, struct nvmx *n, const struct exit *e);
bool nvmx_maps_write_fault(struct vcpu *v, uint64_t l1_gpa);
bool nvmx_maps_tracked_write(struct vcpu *v, uint64_t l1_gpa);
void nvmx_maps_before_entry(struct vcpu *v);

#define MSR_ENTRY_SIZE 16               /* 26.4: index, reserved, value */
#define MSR_X2APIC_HIGH_BITS 0x8u       /* 26.4: ECX[31:8] = 8 (x2APIC MSRs) may not be loaded */
#define SHADOW_VMCS_INDICATOR (1u << 31)  /* 24.2 */
#define MISC_VMWRITE_ANY (1ull << 29)     /* A.6: VMWRITE may write exit-information fields */

#endif
