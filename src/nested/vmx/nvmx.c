/* Nested VT-x: the VMX instructions L1 executes (SDM vol.3 30.3), its capability MSRs
 * and CPUID, and the nested_ops table the core calls. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/cpuid_policy.h"
#include "core/guest_mem.h"
#include "core/guest_walk.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/run.h"
#include "core/string.h"
#include "core/vmm.h"
#include "nested/nested.h"
#include "nested/vmx/nvmx_insn_info.h"
#include "nested/vmx/nvmx_l1_cpuid.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"
#include "core/x86.h"

#define CPUID_LEAF_EXTENDED_FEATURES 7u /* SDM vol.2A CPUID, leaf 07H subleaf 0 */
#define REVISION_MASK 0x7fffffffu
#define FEATURE_CONTROL_OFFERED 5ull      /* locked, VMX outside SMX on (23.7) */
#define LAUNCH_STATE_OFFSET 8             /* struct vmcs12_region.launch_state */
#define INVVPID_INDIVIDUAL 0ull           /* 30.3 INVVPID types */
#define INVVPID_SINGLE_RETAIN_GLOBALS 3ull
#define INVVPID_TYPE_CAP_SHIFT 40         /* A.10: bits 43:40 say which types exist */
#define INVEPT_TYPE_CAP_SHIFT 24          /* A.10: bits 26:25 for types 1, 2 */
#define DESC_VPID_MASK 0xffffull
#define CANONICAL_SHIFT 47
#define MSR_IA32_DEBUGCTL 0x1d9u

struct nvmx *nvmx_of(const struct vcpu *v)
{
	return v->nested_state;
}

/* ---- VMCS12 fields ---- */

bool nvmx_ept12(const struct nvmx *n)
{
	return (vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY) &&
	       (vmcs12_get(n, VMCS_PROC_BASED_CTLS2) & VMX_PROC2_ENABLE_EPT);
}

uint32_t nvmx_msr_guest_field(uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
	case MSR_IA32_DEBUGCTL: return VMCS_GUEST_IA32_DEBUGCTL;
	case MSR_IA32_PAT: return VMCS_GUEST_IA32_PAT;
	case MSR_FS_BASE: return VMCS_GUEST_FS_BASE;
	case MSR_GS_BASE: return VMCS_GUEST_GS_BASE;
	default: return 0;
	}
}

/* Writes the cached VMCS12 back into L1's region (as VMCLEAR makes a CPU do). */
static void vmcs12_flush(struct vcpu *v, struct nvmx *n)
{
	if (n->current_pa == NVMX_NO_VMCS)
		return;
	nvmx_sync_rare(v, n);
	if (guest_phys_write(n->current_pa, &n->vmcs12, sizeof(n->vmcs12)))
		guest_failure(v, "nested-vmx: cannot write the VMCS at %#llx back into L1's memory",
			      (unsigned long long)n->current_pa);
}

/* A VMCS12 just read from L1's region (VMPTRLD): its values as the fields' widths keep
 * them; no check verdict, VMCS02 and the shadow VMCS get every field. */
static void vmcs12_loaded(struct nvmx *n)
{
	for (unsigned i = 0; i < vmcs12_field_count(); i++)
		n->vmcs12.field[i] &= vmcs12_width_mask(vmcs12_field_encoding(i));
	vmcs12_check_cache_reset(&n->checks);
	for (unsigned i = 0; i < VMCS12_SLOT_WORDS; i++)
		n->dirty02[i] = ~0ull;
	nvmx_mark_all_dirty(n);
}

/* ---- outcomes (30.2) ---- */

static void inject(struct vcpu *v, uint8_t vector, bool has_error)
{
	struct event ev = { .type = EVENT_EXCEPTION, .vector = vector, .has_error_code = has_error };
	v->ops->inject(v, &ev);
}

static void succeed(struct vcpu *v)
{
	v->state.rflags &= ~RFLAGS_ARITH;
}

static void fail_invalid(struct vcpu *v)
{
	v->state.rflags = (v->state.rflags & ~RFLAGS_ARITH) | RFLAGS_CF;
}

static void fail_valid(struct vcpu *v, struct nvmx *n, uint32_t error)
{
	v->state.rflags = (v->state.rflags & ~RFLAGS_ARITH) | RFLAGS_ZF;
	vmcs12_set(n, VMCS_VM_INSTRUCTION_ERROR, error);
}

/* VMfail: VMfailValid when there is a current VMCS to hold the number, else VMfailInvalid. */
static void fail(struct vcpu *v, struct nvmx *n, uint32_t error)
{
	if (n->current_pa == NVMX_NO_VMCS)
		fail_invalid(v);
	else
		fail_valid(v, n, error);
}

/* ---- operands ---- */

static bool long64(const struct vcpu *v)
{
	return (v->state.efer & EFER_LMA) && v->state.cs_long;
}

static uint64_t *gpr(struct vcpu *v, unsigned index)
{
	return vmx_gpr_slot(&v->state, index);
}

static void decode(const struct exit *e, struct nvmx_insn_info *in)
{
	(void)e;
	nvmx_decode_insn_info((uint32_t)vmcs_read(VMCS_EXIT_INSTRUCTION_INFO), in); /* VMCS01 is current */
}

static uint64_t operand_linear(struct vcpu *v, const struct exit *e, const struct nvmx_insn_info *in)
{
	uint64_t regs[16];
	for (unsigned i = 0; i < 16; i++)
		regs[i] = *gpr(v, i);
	uint64_t seg_base = vmcs_read(VMCS_GUEST_ES_BASE + 2 * in->segment);
	return nvmx_operand_address(in, regs, e->info1, seg_base, long64(v));
}

static int read_phys64(void *ctx, uint64_t gpa, uint64_t *value)
{
	return vcpu_phys_read(ctx, gpa, value, sizeof(*value));
}

/* L1's memory at a linear address through its paging: 0, or -1 after injecting #PF (the
 * page is not present) or #GP. */
static int linear_access(struct vcpu *v, uint64_t la, void *buf, size_t len, bool write)
{
	const struct vcpu_state *s = &v->state;
	struct guest_walk_ctx ctx = { s->cr0, s->cr3, s->cr4, s->efer, read_phys64, v };
	size_t done = 0;
	while (done < len) {
		uint64_t gpa, page_end;
		int rc = guest_walk(&ctx, la + done, &gpa, &page_end);
		if (rc != WALK_OK) {
			struct event ev = { .type = EVENT_EXCEPTION, .vector = VECTOR_PF, .has_error_code = true,
					    .error_code = (write ? 2u : 0u) | (rc == WALK_RESERVED ? 9u : 0u) };
			__asm__ volatile("mov %0, %%cr2" ::"r"(la + done)); /* L1's CR2 is the register */
			v->ops->inject(v, &ev);
			return -1;
		}
		size_t chunk = len - done;
		if (page_end - (la + done) < chunk)
			chunk = (size_t)(page_end - (la + done));
		rc = write ? vcpu_phys_write(v, gpa, (const uint8_t *)buf + done, chunk) :
			     vcpu_phys_read(v, gpa, (uint8_t *)buf + done, chunk);
		if (rc) {
			inject(v, VECTOR_GP, true);
			return -1;
		}
		done += chunk;
	}
	return 0;
}

/* The 64-bit memory operand of VMXON, VMCLEAR, VMPTRLD (a physical address). */
static int read_pointer(struct vcpu *v, const struct exit *e, uint64_t *pa)
{
	struct nvmx_insn_info in;
	decode(e, &in);
	*pa = 0;
	return linear_access(v, operand_linear(v, e, &in), pa, sizeof(*pa), false);
}

static bool bad_address(const struct nvmx *n, uint64_t pa)
{
	return (pa & PAGE_MASK) || (pa & n->phys_mask);
}

/* ---- the instructions (30.3) ---- */

static void emulate_vmxon(struct vcpu *v, struct nvmx *n, struct exit *e)
{
	const struct vcpu_state *s = &v->state;
	if (n->vmxon) {
		fail(v, n, VMX_ERROR_VMXON_IN_ROOT);
		vcpu_skip_instruction(v, e);
		return;
	}
	const struct nvmx_caps *c = &n->offer.caps;
	if ((s->cr0 & c->cr0_fixed0) != c->cr0_fixed0 || (s->cr0 & ~c->cr0_fixed1 & 0xffffffffull) ||
	    (s->cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (s->cr4 & ~c->cr4_fixed1)) {
		inject(v, VECTOR_GP, true);
		return;
	}
	uint64_t pa;
	if (read_pointer(v, e, &pa))
		return;
	uint32_t rev = 0;
	if (bad_address(n, pa) || guest_phys_read(pa, &rev, sizeof(rev)) ||
	    (rev & REVISION_MASK) != n->revision || (rev & SHADOW_VMCS_INDICATOR)) {
		fail_invalid(v);
		vcpu_skip_instruction(v, e);
		return;
	}
	n->vmxon = true;
	n->vv01->fixed.vmx_operation = true;
	n->vmxon_pa = pa;
	n->current_pa = NVMX_NO_VMCS;
	n->flush_l2 = true;
	succeed(v);
	vcpu_skip_instruction(v, e);
}

static void emulate_vmxoff(struct vcpu *v, struct nvmx *n, struct exit *e)
{
	vmcs12_flush(v, n);
	n->vmxon = false;
	n->vv01->fixed.vmx_operation = false;
	n->current_pa = NVMX_NO_VMCS;
	nvmx_shadow_drop(n);
	succeed(v);
	vcpu_skip_instruction(v, e);
}

static void emulate_vmclear(struct vcpu *v, struct nvmx *n, struct exit *e)
{
	uint64_t pa;
	if (read_pointer(v, e, &pa))
		return;
	if (bad_address(n, pa))
		fail(v, n, VMX_ERROR_VMCLEAR_INVALID_ADDR);
	else if (pa == n->vmxon_pa)
		fail(v, n, VMX_ERROR_VMCLEAR_VMXON_PTR);
	else {
		if (pa == n->current_pa) {
			n->vmcs12.launch_state = NVMX_LAUNCH_CLEAR;
			vmcs12_flush(v, n);
			n->current_pa = NVMX_NO_VMCS;
		} else {
			uint32_t clear = NVMX_LAUNCH_CLEAR;
			(void)guest_phys_write(pa + LAUNCH_STATE_OFFSET, &clear, sizeof(clear));
		}
		succeed(v);
	}
	vcpu_skip_instruction(v, e);
}

/* "VMCS shadowing" in the allowed-1 settings nestbed offers (A.3.3). */
static bool shadowing_offered(const struct nvmx *n)
{
	return (n->offer.caps.procbased2 >> 32) & VMX_PROC2_VMCS_SHADOWING;
}

static void emulate_vmptrld(struct vcpu *v, struct nvmx *n, struct exit *e)
{
	uint64_t pa;
	if (read_pointer(v, e, &pa))
		return;
	uint32_t rev = 0;
	if (bad_address(n, pa))
		fail(v, n, VMX_ERROR_VMPTRLD_INVALID_ADDR);
	else if (pa == n->vmxon_pa)
		fail(v, n, VMX_ERROR_VMPTRLD_VMXON_PTR);
	else if (guest_phys_read(pa, &rev, sizeof(rev)) || (rev & REVISION_MASK) != n->revision ||
		 ((rev & SHADOW_VMCS_INDICATOR) && !shadowing_offered(n))) /* 30.3 VMPTRLD */
		fail(v, n, VMX_ERROR_VMPTRLD_BAD_REVISION);
	else {
		if (pa != n->current_pa) {
			vmcs12_flush(v, n);
			if (guest_phys_read(pa, &n->vmcs12, sizeof(n->vmcs12)))
				guest_failure(v, "nested-vmx: the VMCS at %#llx is not in L1's memory",
					      (unsigned long long)pa);
			n->current_pa = pa;
			n->flush_l2 = true;
			vmcs12_loaded(n);
		}
		succeed(v);
	}
	vcpu_skip_instruction(v, e);
}

static void emulate_vmptrst(struct vcpu *v, struct nvmx *n, struct exit *e)
{
	struct nvmx_insn_info in;
	decode(e, &in);
	uint64_t current = n->current_pa;
	if (linear_access(v, operand_linear(v, e, &in), &current, sizeof(current), true))
		return;
	succeed(v);
	vcpu_skip_instruction(v, e);
}

/* VMREAD/VMWRITE: operands are 64-bit in 64-bit mode, 32-bit otherwise (30.3). */
static void emulate_vmread_vmwrite(struct vcpu *v, struct nvmx *n, struct exit *e, bool write)
{
	struct nvmx_insn_info in;
	decode(e, &in);
	bool wide = long64(v);
	unsigned size = wide ? 8 : 4;
	if (n->current_pa == NVMX_NO_VMCS) {
		fail_invalid(v);
		vcpu_skip_instruction(v, e);
		return;
	}
	uint64_t encoding = *gpr(v, in.reg2);
	if (!wide)
		encoding &= 0xffffffffull;
	struct vmcs12_field f;
	if (encoding >> 32 || !vmcs12_field_lookup((uint32_t)encoding, &f)) {
		fail_valid(v, n, VMX_ERROR_UNSUPPORTED_FIELD);
		vcpu_skip_instruction(v, e);
		return;
	}
	nvmx_sync_rare(v, n); /* L2's segments may still be in VMCS02 only */
	if (write) {
		uint64_t value = 0;
		if (in.is_reg)
			value = *gpr(v, in.reg1);
		else if (linear_access(v, operand_linear(v, e, &in), &value, size, false))
			return;
		if (!wide)
			value &= 0xffffffffull;
		if (f.read_only && !(n->offer.caps.misc & MISC_VMWRITE_ANY)) {
			fail_valid(v, n, VMX_ERROR_VMWRITE_READ_ONLY);
			vcpu_skip_instruction(v, e);
			return;
		}
		uint64_t stored = vmcs12_field_store(&f, n->vmcs12.field[f.slot], value);
		if (stored != n->vmcs12.field[f.slot]) {
			n->vmcs12.field[f.slot] = stored;
			vmcs12_l1_wrote(n, (unsigned)f.slot);
		}
		nvmx_mark_dirty(n, (unsigned)f.slot); /* the shadow VMCS too, for VMREADs without exit */
	} else {
		uint64_t value = vmcs12_field_load(&f, n->vmcs12.field[f.slot]);
		if (!wide)
			value &= 0xffffffffull;
		if (in.is_reg)
			*gpr(v, in.reg1) = value;
		else if (linear_access(v, operand_linear(v, e, &in), &value, size, true))
			return;
	}
	succeed(v);
	vcpu_skip_instruction(v, e);
}

/* INVEPT and INVVPID: the type in reg2, a 128-bit descriptor in memory (30.3). nestbed's
 * cached translations of L2 go in every case: the shadow EPT and the L2 VPID's TLB. */
static void emulate_invept_invvpid(struct vcpu *v, struct nvmx *n, struct exit *e, bool ept)
{
	struct nvmx_insn_info in;
	decode(e, &in);
	uint64_t type = *gpr(v, in.reg2);
	if (!long64(v))
		type &= 0xffffffffull;
	uint64_t desc[2];
	if (linear_access(v, operand_linear(v, e, &in), desc, sizeof(desc), false))
		return;
	uint64_t cap = n->offer.caps.ept_vpid_cap;
	bool ok;
	if (ept)
		ok = (type == VMX_INVEPT_SINGLE_CONTEXT || type == VMX_INVEPT_ALL_CONTEXT) &&
		     ((cap >> (INVEPT_TYPE_CAP_SHIFT + type)) & 1);
	else
		ok = type <= INVVPID_SINGLE_RETAIN_GLOBALS && ((cap >> (INVVPID_TYPE_CAP_SHIFT + type)) & 1) &&
		     !(desc[0] & ~DESC_VPID_MASK) &&
		     (type == VMX_INVVPID_ALL_CONTEXT || (desc[0] & DESC_VPID_MASK)) &&
		     (type != INVVPID_INDIVIDUAL ||
		      (uint64_t)((int64_t)(desc[1] << (63 - CANONICAL_SHIFT)) >> (63 - CANONICAL_SHIFT)) == desc[1]);
	if (!ok) {
		fail(v, n, VMX_ERROR_INVALID_INVEPT_INVVPID);
		vcpu_skip_instruction(v, e);
		return;
	}
	if (ept)
		nvmx_shadow_drop(n);
	n->flush_l2 = true;
	succeed(v);
	vcpu_skip_instruction(v, e);
}

/* 30.3: #UD outside VMX operation (VMXON: without CR4.VMXE) and in real, virtual-8086
 * and compatibility mode; #GP(0) at CPL > 0. In L2 these instructions exit to L1 and
 * never arrive here. */
static bool insn_allowed(struct vcpu *v, const struct nvmx *n, uint32_t reason)
{
	const struct vcpu_state *s = &v->state;
	bool ud = !(s->cr0 & CR0_PE) || (s->rflags & RFLAGS_VM) || ((s->efer & EFER_LMA) && !s->cs_long);
	if (reason == VMX_EXIT_REASON_VMXON)
		ud = ud || !(s->cr4 & VMX_CR4_VMXE);
	else
		ud = ud || !n->vmxon;
	if (ud) {
		inject(v, VECTOR_UD, false);
		return false;
	}
	if (s->cpl) {
		inject(v, VECTOR_GP, true);
		return false;
	}
	return true;
}

static void nvmx_emulate_vm_insn(struct vcpu *v, struct exit *e)
{
	struct nvmx *n = nvmx_of(v);
	uint32_t reason = (uint32_t)e->native_code & VMX_EXIT_REASON_BASIC_MASK;
	if (!insn_allowed(v, n, reason))
		return;
	/* L1's VMWRITEs since the last exit are in the shadow VMCS: the instructions that
	 * use or store the whole VMCS12 need them */
	if (reason == VMX_EXIT_REASON_VMLAUNCH || reason == VMX_EXIT_REASON_VMRESUME ||
	    reason == VMX_EXIT_REASON_VMCLEAR || reason == VMX_EXIT_REASON_VMPTRLD ||
	    reason == VMX_EXIT_REASON_VMXOFF)
		nvmx_shadow_pull(n);
	switch (reason) {
	case VMX_EXIT_REASON_VMXON: emulate_vmxon(v, n, e); break;
	case VMX_EXIT_REASON_VMXOFF: emulate_vmxoff(v, n, e); break;
	case VMX_EXIT_REASON_VMCLEAR: emulate_vmclear(v, n, e); break;
	case VMX_EXIT_REASON_VMPTRLD: emulate_vmptrld(v, n, e); break;
	case VMX_EXIT_REASON_VMPTRST: emulate_vmptrst(v, n, e); break;
	case VMX_EXIT_REASON_VMREAD: emulate_vmread_vmwrite(v, n, e, false); break;
	case VMX_EXIT_REASON_VMWRITE: emulate_vmread_vmwrite(v, n, e, true); break;
	case VMX_EXIT_REASON_VMLAUNCH:
	case VMX_EXIT_REASON_VMRESUME:
		/* 26.1: a shadow VMCS cannot be entered; VMfailInvalid although there is a
		 * current VMCS (KVM and the SDM's 24.10 agree) */
		if (n->current_pa != NVMX_NO_VMCS && (n->vmcs12.revision & SHADOW_VMCS_INDICATOR)) {
			fail_invalid(v);
			vcpu_skip_instruction(v, e);
			break;
		}
		nvmx_vmentry(v, e, reason == VMX_EXIT_REASON_VMLAUNCH);
		break;
	case VMX_EXIT_REASON_INVEPT: emulate_invept_invvpid(v, n, e, true); break;
	case VMX_EXIT_REASON_INVVPID: emulate_invept_invvpid(v, n, e, false); break;
	case VMX_EXIT_REASON_VMCALL:
		/* not nestbed's call: in VMX root operation without the dual-monitor
		 * treatment, VMfail (SDM vol.2B VMCALL) */
		fail(v, n, VMX_ERROR_VMCALL_IN_ROOT);
		vcpu_skip_instruction(v, e);
		break;
	default: /* VMFUNC and the rest: not offered */
		inject(v, VECTOR_UD, false);
		break;
	}
	if (!n->in_l2)
		nvmx_shadow_push(n); /* the outcome (error number, a new current VMCS) for L1's VMREADs */
}

/* ---- MSRs and CPUID ---- */

static int nvmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct nvmx *n = nvmx_of(v);
	if (msr == MSR_IA32_FEATURE_CONTROL) {
		*value = FEATURE_CONTROL_OFFERED;
		return 0;
	}
	if (msr >= NVMX_CAP_MSR_FIRST && msr <= NVMX_CAP_MSR_LAST)
		return nvmx_offer_read(&n->offer, msr, value);
	return 1;
}

static int nvmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v;
	(void)value;
	/* IA32_FEATURE_CONTROL is locked and the capability MSRs are read-only: #GP */
	if (msr == MSR_IA32_FEATURE_CONTROL || (msr >= NVMX_CAP_MSR_FIRST && msr <= NVMX_CAP_MSR_LAST))
		return -1;
	return 1;
}

static void nvmx_cpuid_policy(const struct machine *m, struct cpuid_policy *p)
{
	(void)m;
	p->expose_vmx = true;
}

#define CPUID_EXT_MAX_LEAF 0x80000000u  /* SDM vol.2A CPUID: the highest extended leaf */
#define CPUID_ADDRESS_SIZES 0x80000008u /* EAX[7:0] MAXPHYADDR */

static struct cpuid_result l1_cpuid(const struct machine *m, const struct vcpu *v, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs h = cpuid(leaf, subleaf);
	struct cpuid_result r = { h.eax, h.ebx, h.ecx, h.edx };
	cpuid_policy_apply(&m->cpuid_policy, leaf, subleaf, v->state.cr4, &r);
	return r;
}

/* The leaves the offer follows, as L1 reads them (nvmx_l1_cpuid.h). */
static void read_l1_cpuid(const struct machine *m, const struct vcpu *v, struct nvmx_l1_cpuid *c)
{
	memset(c, 0, sizeof(*c));
	uint32_t max = l1_cpuid(m, v, 0, 0).eax;
	struct cpuid_result r = l1_cpuid(m, v, 1, 0);
	c->leaf1_ecx = r.ecx;
	c->leaf1_edx = r.edx;
	if (max >= CPUID_LEAF_EXTENDED_FEATURES) {
		r = l1_cpuid(m, v, CPUID_LEAF_EXTENDED_FEATURES, 0);
		c->leaf7_ebx = r.ebx;
		c->leaf7_ecx = r.ecx;
		c->leaf7_edx = r.edx;
		if (r.eax >= 1)
			c->leaf7_1_eax = l1_cpuid(m, v, CPUID_LEAF_EXTENDED_FEATURES, 1).eax;
	}
	if (l1_cpuid(m, v, CPUID_EXT_MAX_LEAF, 0).eax >= CPUID_ADDRESS_SIZES) {
		c->has_80000008 = true;
		c->leaf80000008_eax = l1_cpuid(m, v, CPUID_ADDRESS_SIZES, 0).eax;
	}
}

/* VMCS02 gets nestbed's host state once: the same as VMCS01's (HOST_RSP is written at
 * every entry). */
static const uint32_t host_fields[] = {
	VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR, VMCS_HOST_DS_SELECTOR,
	VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR, VMCS_HOST_TR_SELECTOR, VMCS_HOST_CR0,
	VMCS_HOST_CR3, VMCS_HOST_CR4, VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE,
	VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE, VMCS_HOST_SYSENTER_CS, VMCS_HOST_SYSENTER_ESP,
	VMCS_HOST_SYSENTER_EIP, VMCS_HOST_IA32_EFER, VMCS_HOST_RIP,
};

static int create_vmcs02(const struct machine *m, struct nvmx *n)
{
	struct vmx_vcpu *vv02 = &n->vv02;
	*vv02 = *n->vv01; /* the same adjusted controls, bitmaps replaced below */
	vv02->vmcs_pa = vmx_alloc_frames(m, 1, "VMCS02");
	vv02->msr_bitmap_pa = vmx_alloc_frames(m, 1, "VMCS02 MSR bitmap");
	vv02->io_bitmap_a_pa = vmx_alloc_frames(m, 1, "VMCS02 I/O bitmap A");
	vv02->io_bitmap_b_pa = vmx_alloc_frames(m, 1, "VMCS02 I/O bitmap B");
	if (!vv02->vmcs_pa || !vv02->msr_bitmap_pa || !vv02->io_bitmap_a_pa || !vv02->io_bitmap_b_pa)
		return -1;
	n->msr_bitmap02 = phys_to_virt(vv02->msr_bitmap_pa);
	n->io_bitmap_a02 = phys_to_virt(vv02->io_bitmap_a_pa);
	n->io_bitmap_b02 = phys_to_virt(vv02->io_bitmap_b_pa);
	vv02->vpid = n->vv01->vpid ? NVMX_L2_VPID : 0;
	vv02->launched = false;
	vv02->vmcs_dumped = false;
	*(uint32_t *)phys_to_virt(vv02->vmcs_pa) = (uint32_t)(m->caps.vmx_caps.basic & VMX_BASIC_REVISION_MASK);

	uint64_t host[sizeof(host_fields) / sizeof(host_fields[0])];
	for (unsigned i = 0; i < sizeof(host_fields) / sizeof(host_fields[0]); i++)
		host[i] = vmcs_read(host_fields[i]);
	uint64_t host_pat = n->vv01->load_pat ? vmcs_read(VMCS_HOST_IA32_PAT) : 0;
	enum vmx_result r = vmclear(vv02->vmcs_pa);
	if (r == VMX_OK)
		r = vmptrld(vv02->vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMCLEAR/VMPTRLD of VMCS02", r);
		return -1;
	}
	for (unsigned i = 0; i < sizeof(host_fields) / sizeof(host_fields[0]); i++)
		vmcs_write(host_fields[i], host[i]);
	if (n->vv01->load_pat)
		vmcs_write(VMCS_HOST_IA32_PAT, host_pat);
	vmcs_write(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_MSR_BITMAP, vv02->msr_bitmap_pa);
	vmcs_write(VMCS_IO_BITMAP_A, vv02->io_bitmap_a_pa);
	vmcs_write(VMCS_IO_BITMAP_B, vv02->io_bitmap_b_pa);
	if (vv02->vpid)
		vmcs_write(VMCS_VPID, vv02->vpid);
	r = vmptrld(n->vv01->vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMPTRLD of VMCS01", r);
		return -1;
	}
	return 0;
}

/* An INIT for this vCPU: while L2 runs it is exit 3 to L1, which consumes it (SDM vol.3
 * 25.2: INIT exits are unconditional in VMX non-root operation); L1 in VMX root operation
 * holds it (24.8: INIT is blocked there) until VMXOFF or its next VM entry; otherwise
 * the vCPU resets. */
static enum nested_init nvmx_init_signal(struct vcpu *v)
{
	struct nvmx *n = nvmx_of(v);
	if (!n->in_l2)
		return n->vmxon ? NESTED_INIT_HELD : NESTED_INIT_TAKE; /* vmxon_pa outlives VMXOFF */
	nvmx_vmexit(v, n, VMX_EXIT_REASON_INIT, 0);
	return NESTED_INIT_EXITED;
}

static void nvmx_self_nmi(struct vcpu *v)
{
	struct nvmx *n = nvmx_of(v);
	struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
	if (n->in_l2 && (vmcs12_get(n, VMCS_PIN_BASED_CTLS) & VMX_PIN_NMI_EXITING)) {
		/* 25.2: an NMI exits with basic reason 0, NMI in the interruption info (27.2.2);
		 * the exit VMCS02 had (the APIC write) leaves nothing else behind */
		nvmx_vmexit(v, n, VMX_EXIT_REASON_EXCEPTION_NMI, 0);
		static const uint32_t cleared[] = {
			VMCS_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR_CODE,
			VMCS_EXIT_INSTRUCTION_LEN, VMCS_EXIT_INSTRUCTION_INFO, VMCS_GUEST_LINEAR_ADDRESS,
			VMCS_GUEST_PHYSICAL_ADDRESS,
		};
		for (unsigned i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
			vmcs12_set(n, cleared[i], 0);
		vmcs12_set(n, VMCS_EXIT_INTR_INFO, VMX_INTR_INFO_VALID |
			   (VMX_INTR_TYPE_NMI << VMX_INTR_INFO_TYPE_SHIFT) | VECTOR_NMI);
		nvmx_shadow_push(n);
		return;
	}
	v->ops->inject(v, &nmi);
}

static int nvmx_vcpu_init(struct machine *m, struct vcpu *v)
{
	uint64_t pa = alloc_frames_zeroed((sizeof(struct nvmx) + FRAME_SIZE - 1) / FRAME_SIZE, FRAME_SIZE);
	if (!pa) {
		kprintf("nestbed: nested-vmx: out of memory for a vCPU's state\n");
		return -1;
	}
	v->nested_state = phys_to_virt(pa);
	struct nvmx *n = nvmx_of(v);
	memset(n, 0, sizeof(*n));
	n->vv01 = v->backend;
	n->current_pa = NVMX_NO_VMCS;
	n->vmxon_pa = NVMX_NO_VMCS;
	vmcs12_fields_init();
	nvmx_entry_init(n);
	n->revision = (uint32_t)(m->caps.vmx_caps.basic & VMX_BASIC_REVISION_MASK);
	/* the offer follows L1's CPUID: CR4 bits, MAXPHYADDR, SGX, RTM, bus-lock detection
	 * (A.8, 26.2-26.3) */
	struct nvmx_l1_cpuid l1;
	read_l1_cpuid(m, v, &l1);
	nvmx_offer_build(&m->caps.vmx_caps, nvmx_maxphyaddr_by_cpuid(&l1), vmcs12_highest_index(), &n->offer);
	nvmx_offer_follow_cpuid(&n->offer, &l1);
	n->phys_mask = ~((1ull << n->offer.caps.maxphyaddr) - 1);
	n->vv01->fixed.allow_vmxe = true; /* L1 may now turn CR4.VMXE on */
	n->shadow.fa = &nestbed_frames;
	n->shadow.frame_ptr = identity_frame_ptr;
	n->flush_l2 = true;
	if (create_vmcs02(m, n) || nvmx_shadow_vmcs_init(m, n) || nvmx_maps_init(m, v)) {
		kprintf("nestbed: nested-vmx: cannot create VMCS02 or the shadow VMCS (see above)\n");
		return -1;
	}
	kprintf("nestbed: nested-vmx: offered basic=%#llx pin=%#llx proc=%#llx proc2=%#llx exit=%#llx "
		"entry=%#llx misc=%#llx ept_vpid=%#llx, VMCS shadowing for L1 %s\n", (unsigned long long)n->offer.caps.basic,
		(unsigned long long)n->offer.caps.pinbased, (unsigned long long)n->offer.caps.procbased,
		(unsigned long long)n->offer.caps.procbased2, (unsigned long long)n->offer.caps.exit,
		(unsigned long long)n->offer.caps.entry, (unsigned long long)n->offer.caps.misc,
		(unsigned long long)n->offer.caps.ept_vpid_cap, n->shadowing ? "on" : "off");
	return 0;
}

const struct nested_ops nested_vmx_ops = {
	.name = "nested-vmx",
	.backend = "vmx",
	.vcpu_init = nvmx_vcpu_init,
	.init_signal = nvmx_init_signal,
	.self_nmi = nvmx_self_nmi,
	.cpuid_policy = nvmx_cpuid_policy,
	.emulate_vm_insn = nvmx_emulate_vm_insn,
	.l2_vm_insn = nvmx_l2_vmcs_shadow_emulate,
	.reflect_if_wanted = nvmx_reflect_if_wanted,
	.tdp_fault = nvmx_tdp_fault,
	.before_entry = nvmx_maps_before_entry,
	.apic_access = nvmx_apic_access,
	.msr_read = nvmx_msr_read,
	.msr_write = nvmx_msr_write,
	.l2_gpa_to_hpa = nvmx_l2_gpa_to_hpa,
	.efer_extra_bits = 0,
};
NESTED_REGISTER(nested_vmx_ops);
