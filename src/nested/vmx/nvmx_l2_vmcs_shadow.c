/* VMCS shadowing offered to L1 for its own guests (SDM vol.3C 25.10, 25.6.15): L2's
 * VMREAD and VMWRITE that L1's controls do not turn into exits read and write the shadow
 * VMCS L1's VMCS link pointer names. VMCS02 never has the control (nestbed's VMCS12
 * layout is not the CPU's), so every VMREAD/VMWRITE of L2 exits to nestbed, which
 * decides as the CPU would (nvmx_l2_vmrw.h) and emulates the rest here.
 *
 * Where the shadow VMCS lives: in L1's memory, in nestbed's VMCS12 layout (struct
 * vmcs12_region), read and written there at each access. nestbed's cached VMCS12 is
 * only the current VMCS's, and the VM entry refused a link pointer equal to the
 * current-VMCS pointer (26.3.1.5), so no cached copy of the shadow exists while L2
 * runs: a VMCS that L1 had loaded before was written back at its VMPTRLD of another
 * (as a CPU's VMCLEAR or VMPTRLD would). Every access goes through guest_phys_read /
 * guest_phys_write, which refuse nestbed's memory; the entry refused a link pointer
 * outside L1's RAM (a device's registers, e.g. the local APIC's ICR, are never written
 * for L2), and a bitmap byte that is not L1's RAM counts as all ones.
 *
 * A memory operand goes through L2's paging (#PF to L2 or L1) and L1's EPT (EPT
 * violation or misconfiguration to L1). Not modelled: segment limits of a memory
 * operand outside 64-bit mode, and A/D bits of L2's paging structures. L1 accesses the
 * shadow VMCS of another vCPU's current VMCS at its own risk (the SDM leaves a VMCS
 * active on two processors undefined): that vCPU's cached copy is not seen. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/vmm.h"
#include "core/x86.h"
#include "core/guest_mem.h"
#include "core/guest_walk.h"
#include "core/run.h"
#include "nested/ept_walk.h"
#include "nested/vmx/nvmx_insn_info.h"
#include "nested/vmx/nvmx_l2_vmrw.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"

#define PF_ERR_PRESENT (1u << 0)        /* vol.3A 4.7 */
#define PF_ERR_WRITE (1u << 1)
#define PF_ERR_RSVD (1u << 3)
#define REGION_FIELDS_OFFSET 16         /* struct vmcs12_region.field */
#define EPT_CAP_EXECUTE_ONLY (1ull << 0) /* A.10 */
#define EPT_QUAL_LINEAR_VALID (1ull << 7) /* 28.2.1 Table 28-7 */
#define EPT_QUAL_FINAL (1ull << 8)
#define PAGE_SIZE_4K 4096ull

/* Bitmap bytes come from L1's RAM only: a device's registers are never read for it. */
static int read_l1_byte(const void *ctx, uint64_t pa, uint8_t *byte)
{
	(void)ctx;
	if (!guest_ram_range(pa, 1))
		return -1;
	return guest_phys_read(pa, byte, 1);
}

static bool long64(const struct vcpu *v)
{
	return (v->state.efer & EFER_LMA) && v->state.cs_long;
}

/* The decision for the exit that is current (VMCS02 holds its information). */
static enum nvmx_l2_vmrw_outcome decide(struct vcpu *v, const struct nvmx *n, uint32_t reason,
					struct nvmx_insn_info *in, struct vmcs12_field *f)
{
	bool write = reason == VMX_EXIT_REASON_VMWRITE;
	uint32_t proc = (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS);
	uint32_t proc2 = (proc & VMX_PROC_ACTIVATE_SECONDARY) ? (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) : 0;
	nvmx_decode_insn_info((uint32_t)vmcs_read(VMCS_EXIT_INSTRUCTION_INFO), in);
	struct nvmx_l2_vmrw q = {
		.shadowing = (proc2 & VMX_PROC2_VMCS_SHADOWING) != 0,
		.write = write,
		.long64 = long64(v),
		.encoding = *vmx_gpr_slot(&v->state, in->reg2),
		.bitmap = vmcs12_get(n, write ? VMCS_VMWRITE_BITMAP : VMCS_VMREAD_BITMAP),
		.cpl = v->state.cpl,
		.link_pointer = vmcs12_get(n, VMCS_LINK_POINTER),
		.vmwrite_any = (n->offer.caps.misc & MISC_VMWRITE_ANY) != 0,
	};
	return nvmx_l2_vmrw_decide(&q, read_l1_byte, NULL, f);
}

bool nvmx_l2_vmcs_shadow_link_bad(const struct nvmx *n)
{
	uint32_t proc = (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS);
	uint32_t proc2 = (proc & VMX_PROC_ACTIVATE_SECONDARY) ? (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) : 0;
	uint64_t link = vmcs12_get(n, VMCS_LINK_POINTER);
	return (proc2 & VMX_PROC2_VMCS_SHADOWING) && link != NVMX_LINK_POINTER_NONE &&
	       !guest_ram_range(link, sizeof(struct vmcs12_region));
}

bool nvmx_l2_vmcs_shadow_claims(struct vcpu *v, struct nvmx *n, const struct exit *e)
{
	uint32_t reason = (uint32_t)e->native_code & VMX_EXIT_REASON_BASIC_MASK;
	if (reason != VMX_EXIT_REASON_VMREAD && reason != VMX_EXIT_REASON_VMWRITE)
		return false;
	struct nvmx_insn_info in;
	struct vmcs12_field f;
	return decide(v, n, reason, &in, &f) != NVMX_L2_VMRW_EXIT; /* decided again by the emulation */
}

/* An exception raised by the emulated instruction in L2: a VM exit to L1 when its
 * exception bitmap (and for #PF the error-code mask and match, 25.2) asks for it, else
 * delivered to L2 through VMCS02's event injection. */
static void l2_exception(struct vcpu *v, struct nvmx *n, uint8_t vector, uint32_t error_code, uint64_t cr2)
{
	uint32_t bitmap = (uint32_t)vmcs12_get(n, VMCS_EXCEPTION_BITMAP);
	bool exits = (bitmap >> vector) & 1;
	if (vector == VECTOR_PF) {
		uint32_t mask = (uint32_t)vmcs12_get(n, VMCS_PF_ERROR_CODE_MASK);
		uint32_t match = (uint32_t)vmcs12_get(n, VMCS_PF_ERROR_CODE_MATCH);
		exits = exits == ((error_code & mask) == match);
	}
	if (exits) {
		nvmx_vmexit(v, n, VMX_EXIT_REASON_EXCEPTION_NMI, vector == VECTOR_PF ? cr2 : 0);
		static const uint32_t cleared[] = {
			VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR_CODE, VMCS_EXIT_INSTRUCTION_LEN,
			VMCS_EXIT_INSTRUCTION_INFO, VMCS_GUEST_LINEAR_ADDRESS, VMCS_GUEST_PHYSICAL_ADDRESS,
		};
		for (unsigned i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
			vmcs12_set(n, cleared[i], 0);
		vmcs12_set(n, VMCS_EXIT_INTR_INFO, VMX_INTR_INFO_VALID | VMX_INTR_INFO_ERROR_VALID |
			   (VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_INFO_TYPE_SHIFT) | vector);
		vmcs12_set(n, VMCS_EXIT_INTR_ERROR_CODE, error_code);
		nvmx_shadow_push(n);
		return;
	}
	if (vector == VECTOR_PF)
		__asm__ volatile("mov %0, %%cr2" ::"r"(cr2)); /* L2's CR2 is the register while it runs */
	struct event ev = { .type = EVENT_EXCEPTION, .vector = vector, .has_error_code = true,
			    .error_code = error_code };
	v->ops->inject(v, &ev);
}

static int read_l1_phys64(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(pa, value, sizeof(*value));
}

/* L2-physical -> L1-physical for an access L2's instruction makes, through L1's EPT
 * (29.3.3): 0 and *l1_pa, or -1 after the EPT violation (48) or misconfiguration (49)
 * went to L1 as the CPU gives them (27.2.1 Table 27-7: the access, the entries'
 * rights, guest-linear address valid, bit 8 for the final translation rather than a
 * paging-structure access). */
static int l2_to_l1(struct vcpu *v, struct nvmx *n, uint64_t gpa, uint64_t la, unsigned access, bool final,
		    uint64_t *l1_pa)
{
	if (!nvmx_ept12(n)) {
		*l1_pa = gpa;
		return 0;
	}
	struct ept_walk_ctx c = {
		.eptp = vmcs12_get(n, VMCS_EPT_POINTER),
		.phys_addr_mask = ~n->phys_mask,
		.exec_only = (n->offer.caps.ept_vpid_cap & EPT_CAP_EXECUTE_ONLY) != 0,
		.page_1g = (n->offer.caps.ept_vpid_cap & VMX_EPT_CAP_1G_PAGES) != 0,
		.read_phys = read_l1_phys64,
	};
	struct ept_walk_result r;
	int rc = ept_walk(&c, gpa, access, &r);
	if (rc == EPT_WALK_OK) {
		*l1_pa = r.pa;
		return 0;
	}
	if (rc != EPT_WALK_VIOLATION && rc != EPT_WALK_MISCONFIG)
		guest_failure(v, "nested-vmx: L1's EPT for %#llx lies outside its memory", (unsigned long long)gpa);
	bool violation = rc == EPT_WALK_VIOLATION;
	uint64_t qual = violation ? (r.qualification | EPT_QUAL_LINEAR_VALID | (final ? EPT_QUAL_FINAL : 0)) : 0;
	nvmx_vmexit(v, n, violation ? VMX_EXIT_REASON_EPT_VIOLATION : VMX_EXIT_REASON_EPT_MISCONFIG, qual);
	static const uint32_t cleared[] = {
		VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO,
		VMCS_IDT_VECTORING_ERROR_CODE, VMCS_EXIT_INSTRUCTION_LEN, VMCS_EXIT_INSTRUCTION_INFO,
	};
	for (unsigned i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
		vmcs12_set(n, cleared[i], 0);
	vmcs12_set(n, VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
	vmcs12_set(n, VMCS_GUEST_LINEAR_ADDRESS, violation ? la : 0);
	nvmx_shadow_push(n);
	return -1;
}

/* L2's paging-structure reads: through L1's EPT; the address that failed is kept. */
struct l2_walk {
	struct vcpu *v;
	uint64_t failed_gpa;
};

static int read_l2_phys64(void *ctx, uint64_t gpa, uint64_t *value)
{
	struct l2_walk *w = ctx;
	if (vcpu_phys_read(w->v, gpa, value, sizeof(*value))) {
		w->failed_gpa = gpa;
		return -1;
	}
	return 0;
}

/* L2's memory operand through its paging and L1's EPT: 0, or -1 after the #PF went to
 * L2 or L1, or the EPT violation to L1. A write needs R/W at every level of L2's paging
 * when CR0.WP is 1 (L2 is at CPL 0 here: a CPL > 0 was #GP) and W in L1's EPT; a write
 * to a permission map nestbed tracks goes through its tracking (nvmx_maps.c). An L1
 * that maps L2's memory onto nestbed's stops the run, as nvmx_tdp_fault does. */
static int l2_linear_access(struct vcpu *v, struct nvmx *n, uint64_t la, void *buf, unsigned len, bool write)
{
	const struct vcpu_state *s = &v->state;
	struct l2_walk w = { v, ~0ull };
	struct guest_walk_ctx ctx = { s->cr0, s->cr3, s->cr4, s->efer, read_l2_phys64, &w };
	unsigned done = 0;
	while (done < len) {
		uint64_t gpa, page_end, l1_pa;
		unsigned perm = 0;
		uint64_t at = la + done;
		int rc = guest_walk_perm(&ctx, at, &gpa, &page_end, &perm);
		if (rc == WALK_UNREADABLE && w.failed_gpa != ~0ull) {
			if (l2_to_l1(v, n, w.failed_gpa, at, EPT_ACCESS_READ, false, &l1_pa))
				return -1;
			guest_failure(v, "nested-vmx: L2's page tables at %#llx are not L1's memory",
				      (unsigned long long)w.failed_gpa);
		}
		if (rc == WALK_NOT_PRESENT || rc == WALK_RESERVED ||
		    (rc == WALK_OK && write && !guest_walk_supervisor_write_ok(s->cr0, perm))) {
			uint32_t error = (write ? PF_ERR_WRITE : 0) | (rc != WALK_NOT_PRESENT ? PF_ERR_PRESENT : 0) |
					 (rc == WALK_RESERVED ? PF_ERR_RSVD : 0);
			l2_exception(v, n, VECTOR_PF, error, at);
			return -1;
		}
		if (rc != WALK_OK)
			guest_failure(v, "nested-vmx: L2's page tables for %#llx cannot be read", (unsigned long long)at);
		unsigned chunk = len - done;
		if (page_end - at < chunk)
			chunk = (unsigned)(page_end - at);
		if (PAGE_SIZE_4K - (gpa & (PAGE_SIZE_4K - 1)) < chunk)
			chunk = (unsigned)(PAGE_SIZE_4K - (gpa & (PAGE_SIZE_4K - 1)));
		if (l2_to_l1(v, n, gpa, at, write ? EPT_ACCESS_WRITE : EPT_ACCESS_READ, true, &l1_pa))
			return -1;
		/* a store goes to L1's RAM only: never to a device's registers (the local APIC's
		 * ICR would send an INIT nestbed did not see) */
		if (write && !guest_ram_range(l1_pa, chunk))
			guest_failure(v, "nested-vmx: L2's VMREAD stores to %#llx, which is not L1's RAM: "
				      "not emulated", (unsigned long long)l1_pa);
		if (write)
			(void)nvmx_maps_tracked_write(v, l1_pa);
		if (write ? guest_phys_write(l1_pa, (const uint8_t *)buf + done, chunk) :
			    guest_phys_read(l1_pa, (uint8_t *)buf + done, chunk))
			guest_failure(v, "nested-vmx: L1 maps its guest's %#llx onto %#llx, not L1's memory: stopped",
				      (unsigned long long)gpa, (unsigned long long)l1_pa);
		done += chunk;
	}
	return 0;
}

static void outcome_flags(struct vcpu *v, uint64_t flags)
{
	v->state.rflags = (v->state.rflags & ~RFLAGS_ARITH) | flags;
}

void nvmx_l2_vmcs_shadow_emulate(struct vcpu *v, struct exit *e)
{
	struct nvmx *n = nvmx_of(v);
	uint32_t reason = (uint32_t)e->native_code & VMX_EXIT_REASON_BASIC_MASK;
	struct nvmx_insn_info in;
	struct vmcs12_field f;
	enum nvmx_l2_vmrw_outcome o = decide(v, n, reason, &in, &f);
	bool write = reason == VMX_EXIT_REASON_VMWRITE;
	switch (o) {
	case NVMX_L2_VMRW_EXIT:
		/* claimed at the exit, but L1's bitmap changed since (another CPU wrote it): the
		 * exit is L1's after all, as the CPU reading the bitmap now would give it */
		nvmx_vmexit(v, n, reason, e->info1);
		return;
	case NVMX_L2_VMRW_GP:
		l2_exception(v, n, VECTOR_GP, 0, 0);
		return;
	case NVMX_L2_VMRW_FAIL_INVALID:
		outcome_flags(v, RFLAGS_CF);
		vcpu_skip_instruction(v, e);
		return;
	case NVMX_L2_VMRW_FAIL_UNSUPPORTED:
	case NVMX_L2_VMRW_FAIL_READ_ONLY:
		/* VMfailValid: the error number goes to the current VMCS, L1's VMCS12 */
		outcome_flags(v, RFLAGS_ZF);
		vmcs12_set(n, VMCS_VM_INSTRUCTION_ERROR, o == NVMX_L2_VMRW_FAIL_UNSUPPORTED ?
				 VMX_ERROR_UNSUPPORTED_FIELD : VMX_ERROR_VMWRITE_READ_ONLY);
		vcpu_skip_instruction(v, e);
		return;
	case NVMX_L2_VMRW_ACCESS:
		break;
	}
	bool wide = long64(v);
	unsigned size = wide ? 8 : 4;
	uint64_t link = vmcs12_get(n, VMCS_LINK_POINTER);
	uint64_t slot_pa = link + REGION_FIELDS_OFFSET + (uint64_t)f.slot * sizeof(uint64_t);
	uint64_t stored;
	if (guest_phys_read(slot_pa, &stored, sizeof(stored)))
		guest_failure(v, "nested-vmx: the shadow VMCS at %#llx is not L1's memory (its VM entry checked it)",
			      (unsigned long long)link);
	uint64_t regs[16];
	for (unsigned i = 0; i < 16; i++)
		regs[i] = *vmx_gpr_slot(&v->state, i);
	uint64_t la = 0;
	if (!in.is_reg)
		la = nvmx_operand_address(&in, regs, e->info1, vmcs_read(VMCS_GUEST_ES_BASE + 2 * in.segment), wide);
	if (write) {
		uint64_t value = 0;
		if (in.is_reg)
			value = regs[in.reg1];
		else if (l2_linear_access(v, n, la, &value, size, false))
			return;
		if (!wide)
			value &= 0xffffffffull;
		stored = vmcs12_field_store(&f, stored, value);
		(void)nvmx_maps_tracked_write(v, slot_pa); /* a permission map L1 also named */
		if (guest_phys_write(slot_pa, &stored, sizeof(stored)))
			guest_failure(v, "nested-vmx: the shadow VMCS at %#llx is not L1's memory", (unsigned long long)link);
	} else {
		uint64_t value = vmcs12_field_load(&f, stored);
		if (!wide)
			value &= 0xffffffffull;
		if (in.is_reg)
			*vmx_gpr_slot(&v->state, in.reg1) = value;
		else if (l2_linear_access(v, n, la, &value, size, true))
			return;
	}
	outcome_flags(v, 0);
	vcpu_skip_instruction(v, e);
}
