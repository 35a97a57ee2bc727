/* Nested AMD-V: the per-vCPU state, its MSRs (VM_HSAVE_PA, VM_CR) and CPUID, INIT, and
 * the nested_ops table the core dispatches through. The halves: nsvm_entry.c (VMRUN),
 * nsvm_exit.c (#VMEXIT and reflection), nsvm_npt.c (nested NPT), nsvm_insn.c (the other
 * SVM instructions), nsvm_maps.c (permission maps). APM vol.2 chapter 15. */
#include "nested/svm/nsvm.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/cpuid_policy.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/nested_ops.h"
#include "core/string.h"
#include "core/vmm.h"
#include "nested/svm/vmcb12_check.h"

uint64_t nsvm_phys_addr_mask(void)
{
	uint32_t width = cpuid(0x80000008u, 0).eax & 0xff; /* APM vol.3 E.4.7 */
	if (width < 36 || width > 52)
		width = 48;
	return ~((1ull << width) - 1);
}

void nsvm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error)
{
	struct event ev = { .type = EVENT_EXCEPTION, .vector = vector, .has_error_code = has_error };
	v->ops->inject(v, &ev);
}

/* A posted INIT is due (the core's mailbox): held while L1's GIF is 0 (APM vol.2
 * 15.17.1), or, while L2 runs and L1 intercepts INIT, #VMEXIT 63h after which L1 runs
 * with GIF 0 until its STGI; otherwise the vCPU takes it now: L2's state, if any, is
 * gone with the reset, and L1 starts from INIT with GIF 1. */
static enum nested_init nsvm_init_signal(struct vcpu *v)
{
	struct nsvm *n = nsvm_of(v);
	if (n->in_l2 && !n->gif)
		return NESTED_INIT_HELD; /* L2 cleared GIF (15.17.1) */
	if (n->in_l2) {
		if (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_INIT) {
			nsvm_reflect(v, n, SVM_EXIT_INIT, 0, 0, 0);
			return NESTED_INIT_HELD;
		}
		nsvm_switch_to_l1(v, n);
		n->clean_valid = false; /* L2's state is gone with the reset, unwritten */
	} else if (!nsvm_l1_gif(n)) {
		return NESTED_INIT_HELD;
	}
	nsvm_l1_set_gif(n, true);
	n->nmi_pending_l1 = false;
	return NESTED_INIT_TAKE;
}

/* ---- MSRs and CPUID ---- */

static int nsvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct nsvm *n = nsvm_of(v);
	switch (msr) {
	case MSR_VM_HSAVE_PA:
		*value = n->hsave_pa;
		return 0;
	case MSR_VM_CR:
		*value = n->vm_cr;
		return 0;
	default:
		return 1;
	}
}

static int nsvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct nsvm *n = nsvm_of(v);
	switch (msr) {
	case MSR_VM_HSAVE_PA:
		if ((value & PAGE_MASK) || (value & n->phys_addr_mask))
			return -1; /* APM 15.30.4: #GP for an unaligned or too wide address */
		n->hsave_pa = value;
		return 0;
	case MSR_VM_CR:
		if ((value & VM_CR_SVMDIS) && (v->state.efer & EFER_SVME))
			return -1;
		n->vm_cr = value & VM_CR_SVMDIS;
		return 0;
	default:
		return 1;
	}
}

static void nsvm_cpuid_policy(const struct machine *m, struct cpuid_policy *p)
{
	p->expose_svm = true;
	p->svm_features = NSVM_OFFERED_FEATURES | (m->caps.svm_caps.features & NSVM_OFFERED_IF_HOST);
	p->svm_nasid = NSVM_OFFERED_ASIDS;
}

/* CPUID as L1 sees it (the machine's policy over the CPU's values). */
static struct cpuid_result l1_cpuid(const struct machine *m, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_result r = { 0, 0, 0, 0 };
	if (leaf > cpuid(0, 0).eax)
		return r;
	struct cpuid_regs host = cpuid(leaf, subleaf);
	r = (struct cpuid_result){ host.eax, host.ebx, host.ecx, host.edx };
	cpuid_policy_apply(&m->cpuid_policy, leaf, subleaf, 0, &r);
	return r;
}

/* The CR4 bits VMCB12 may set: those of the CPU L1's CPUID describes, not a fixed mask
 * (which let through bits the CPU lacks and refuses in VMCB02). */
static uint64_t l1_cr4_allowed(const struct machine *m)
{
	struct cpuid_result l1 = l1_cpuid(m, 1, 0), l7 = l1_cpuid(m, 7, 0);
	struct nsvm_cr4_cpuid f = { l1.ecx, l7.ebx, l7.ecx, l7.edx };
	return nsvm_cr4_allowed(&f);
}

static int nsvm_vcpu_init(struct machine *m, struct vcpu *v)
{
	uint64_t pa = alloc_frames_zeroed((sizeof(struct nsvm) + FRAME_SIZE - 1) / FRAME_SIZE, FRAME_SIZE);
	if (!pa) {
		kprintf("nestbed: nested-svm: out of memory for a vCPU's state\n");
		return -1;
	}
	v->nested_state = phys_to_virt(pa);
	struct nsvm *n = nsvm_of(v);
	struct svm_vcpu *sv = v->backend;
	memset(n, 0, sizeof(*n));
	n->gif = true;
	n->host_nrips = sv->nrips;
	n->host_decode_assists = (m->caps.svm_caps.features & SVM_FEATURE_DECODE_ASSISTS) != 0;
	n->host_pause_filter = m->caps.svm_caps.features & NSVM_OFFERED_IF_HOST;
	n->host_xsave = (read_cr4() & CR4_OSXSAVE) != 0; /* core/main.c sets it with XSAVE */
	n->vmcb01 = sv->vmcb;
	n->vmcb01_pa = sv->vmcb_pa;
	n->vmcb02_pa = alloc_frames_zeroed(1, FRAME_SIZE);
	n->iopm02_pa = alloc_frames_zeroed(SVM_IOPM_PAGES, FRAME_SIZE);
	n->msrpm02_pa = alloc_frames_zeroed(SVM_MSRPM_PAGES, FRAME_SIZE);
	if (!n->vmcb02_pa || !n->iopm02_pa || !n->msrpm02_pa) {
		kprintf("nestbed: nested-svm: out of memory\n");
		return -1;
	}
	n->vmcb02 = phys_to_virt(n->vmcb02_pa);
	n->iopm02 = phys_to_virt(n->iopm02_pa);
	n->msrpm02 = phys_to_virt(n->msrpm02_pa);
	nsvm_vmcb02_init(n);
	n->shadow.fa = &nestbed_frames;
	n->shadow.frame_ptr = identity_frame_ptr;
	n->flush_l2 = true;
	n->cr4_allowed = l1_cr4_allowed(m);
	/* L1's CLGI/STGI on the CPU's virtual GIF (nsvm_gif.c): V_GIF starts at 1 */
	n->l1_vgif = (m->caps.svm_caps.features & SVM_FEATURE_VGIF) != 0;
	if (n->l1_vgif) {
		n->vmcb01->control.vintr |= VINTR_V_GIF_ENABLE | VINTR_V_GIF;
		n->l1_intr_direct = true;
		n->l1_intr_direct_fresh = true;
	}
	n->phys_addr_mask = nsvm_phys_addr_mask(); /* not a CPUID per VMRUN */
	return nsvm_maps_init(m, v);
}

/* Before every entry: the work is rare (another CPU changed L1's NPT or an L1 map, or
 * L1 runs on vGIF), so the common case is these tests alone. */
static __attribute__((noinline)) void before_entry_work(struct vcpu *v, struct nsvm *n)
{
	nsvm_maps_before_entry(v);
	nsvm_l1_gif_before_entry(v, n);
}

static void nsvm_before_entry(struct vcpu *v)
{
	struct nsvm *n = nsvm_of(v);
	if (__atomic_load_n(&n->tdp_sync, __ATOMIC_ACQUIRE) || (n->l1_vgif && !n->in_l2) ||
	    (n->in_l2 && !n->maps.filled && __atomic_load_n(&n->maps.stale, __ATOMIC_ACQUIRE)))
		before_entry_work(v, n);
}

const struct nested_ops nested_svm_ops = {
	.name = "nested-svm",
	.backend = "svm",
	.vcpu_init = nsvm_vcpu_init,
	.cpuid_policy = nsvm_cpuid_policy,
	.emulate_vm_insn = nsvm_emulate_vm_insn,
	.l2_vm_insn = nsvm_l2_vm_insn,
	.reflect_if_wanted = nsvm_reflect_if_wanted,
	.init_signal = nsvm_init_signal,
	.before_entry = nsvm_before_entry,
	.l1_interrupt = nsvm_l1_interrupt,
	.tdp_fault = nsvm_tdp_fault,
	.msr_read = nsvm_msr_read,
	.msr_write = nsvm_msr_write,
	.l2_gpa_to_hpa = nsvm_l2_gpa_to_hpa,
	.efer_extra_bits = EFER_SVME,
};
NESTED_REGISTER(nested_svm_ops);
