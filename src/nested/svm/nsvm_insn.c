/* The SVM instructions other than VMRUN: VMLOAD, VMSAVE, CLGI, STGI, INVLPGA and SKINIT
 * in L1, and those L2 executes that L1 does not intercept (APM vol.2 15.5.2, 15.17). */
#include "nested/svm/nsvm.h"

#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/run.h"
#include "core/vmm.h"

/* ---- the state VMLOAD/VMSAVE move (APM vol.2 15.5.2) ---- */

void nsvm_copy_vmload_state(struct vmcb_save *dst, const struct vmcb_save *src)
{
	dst->fs = src->fs;
	dst->gs = src->gs;
	dst->tr = src->tr;
	dst->ldtr = src->ldtr;
	dst->kernel_gs_base = src->kernel_gs_base;
	dst->star = src->star;
	dst->lstar = src->lstar;
	dst->cstar = src->cstar;
	dst->sfmask = src->sfmask;
	dst->sysenter_cs = src->sysenter_cs;
	dst->sysenter_esp = src->sysenter_esp;
	dst->sysenter_eip = src->sysenter_eip;
}

bool nsvm_insn_checks(struct vcpu *v, uint64_t pa)
{
	if (!(v->state.efer & EFER_SVME)) {
		nsvm_inject_exception(v, VECTOR_UD, false); /* SVM instructions need EFER.SVME (APM 15.4) */
		return false;
	}
	if (v->state.cpl != 0 || (pa & PAGE_MASK) || (pa & nsvm_of(v)->phys_addr_mask)) {
		nsvm_inject_exception(v, VECTOR_GP, true);
		return false;
	}
	return true;
}

/* ---- the other SVM instructions in L1 ---- */

/* VMLOAD reads and VMSAVE writes FS, GS, LDTR, TR and the syscall/sysenter MSRs of the
 * VMCB at RAX (APM vol.2 15.5.2): only those fields move, in place (the save area is
 * 3 KiB: copying it in and out was half a VMSAVE's instructions, and writing it all back
 * would undo another CPU's writes to the rest of L1's VMCB). RAX is page-aligned
 * (nsvm_insn_checks), so the save area lies in one page: all of it is L1's memory or
 * none (#GP, as before). */
static void emulate_vmload_vmsave(struct vcpu *v, struct exit *e, bool load)
{
	struct nsvm *n = nsvm_of(v);
	uint64_t pa = v->state.gpr.rax;
	if (!nsvm_insn_checks(v, pa))
		return;
	struct vmcb_save *l1 = vcpu_phys_ptr(v, pa + __builtin_offsetof(struct vmcb, save),
					     sizeof(struct vmcb_save));
	if (!l1) {
		nsvm_inject_exception(v, VECTOR_GP, true);
		return;
	}
	if (load)
		nsvm_copy_vmload_state(&n->vmcb01->save, l1);
	else
		nsvm_copy_vmload_state(l1, &n->vmcb01->save);
	vcpu_skip_instruction(v, e);
}

static __attribute__((noinline)) void emulate_other(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	switch ((uint32_t)e->native_code) {
	case SVM_EXIT_VMLOAD:
		emulate_vmload_vmsave(v, e, true);
		return;
	case SVM_EXIT_VMSAVE:
		emulate_vmload_vmsave(v, e, false);
		return;
	case SVM_EXIT_CLGI:
	case SVM_EXIT_STGI:
		if (!(v->state.efer & EFER_SVME)) {
			nsvm_inject_exception(v, VECTOR_UD, false);
			return;
		}
		if (v->state.cpl) {
			nsvm_inject_exception(v, VECTOR_GP, true);
			return;
		}
		/* intercepted always, or with vGIF when nestbed needs to see it (l1_gif.h) */
		nsvm_l1_set_gif(n, (uint32_t)e->native_code == SVM_EXIT_STGI);
		vcpu_skip_instruction(v, e);
		if (nsvm_l1_gif(n) && n->nmi_pending_l1) {
			struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
			v->ops->inject(v, &nmi);
			n->nmi_pending_l1 = false;
		}
		return;
	case SVM_EXIT_INVLPGA:
		if (!(v->state.efer & EFER_SVME)) {
			nsvm_inject_exception(v, VECTOR_UD, false);
			return;
		}
		nsvm_shadow_drop(n); /* L2's translations for that ASID go */
		vcpu_skip_instruction(v, e);
		return;
	default: /* SKINIT is not offered */
		nsvm_inject_exception(v, VECTOR_UD, false);
		return;
	}
}

void nsvm_emulate_vm_insn(struct vcpu *v, struct exit *e)
{
	if ((uint32_t)e->native_code == SVM_EXIT_VMRUN)
		nsvm_vmrun(v, e); /* the hot one, without the others' frame */
	else
		emulate_other(v, e);
}

/* ---- SVM instructions L2 executes that L1 does not intercept ---- */

/* An exception for L2: the exit L1 intercepts (EXITINFO1 the error code, 15.12), else
 * delivered in L2. */
static void l2_exception(struct vcpu *v, struct nsvm *n, uint8_t vector, bool has_error)
{
	if ((n->vmcb12.control.intercept_exceptions >> vector) & 1) {
		nsvm_reflect(v, n, SVM_EXIT_EXCEPTION_BASE + vector, 0, 0, 0);
		return;
	}
	nsvm_inject_exception(v, vector, has_error);
}

/* L2's GIF (APM vol.2 15.17): with it 0, physical interrupts and NMIs wait. nestbed runs
 * VMCB02 without the INTR intercept, with V_INTR_MASKING and its own IF clear, so an
 * interrupt stays pending in the APIC; an NMI (nestbed always intercepts it) is held
 * here until STGI. With GIF 1 again, VMCB02 is as VMRUN built it. */
static void l2_set_gif(struct vcpu *v, struct nsvm *n, bool gif)
{
	struct svm_vcpu *sv = v->backend;
	struct vmcb_control *c = &n->vmcb02->control;
	n->gif = gif;
	if (!gif) {
		c->intercept_misc1 &= ~SVM_INTERCEPT_INTR;
		c->vintr |= VINTR_MASKING;
		sv->host_if = false;
		return;
	}
	c->intercept_misc1 = (c->intercept_misc1 & ~SVM_INTERCEPT_INTR) |
			     (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_INTR);
	c->vintr = (c->vintr & ~VINTR_MASKING) | (n->vmcb12.control.vintr & VINTR_MASKING);
	sv->host_if = (n->l1_state.rflags & RFLAGS_IF) != 0;
}

/* With vGIF enabled in VMCB12, L2's CLGI and STGI set V_GIF instead of the GIF; V_GIF 0
 * holds virtual interrupts (V_IRQ) only, not physical ones (APM vol.2 "Virtual GIF"). */
static void l2_set_vgif(struct nsvm *n, bool gif)
{
	struct vmcb_control *c = &n->vmcb02->control;
	n->l2_v_gif = gif;
	if (!gif && (c->vintr & VINTR_V_IRQ)) {
		c->vintr &= ~VINTR_V_IRQ;
		n->l2_virq_held = true;
	} else if (gif && n->l2_virq_held) {
		c->vintr |= VINTR_V_IRQ;
		n->l2_virq_held = false;
	}
}

/* VMLOAD and VMSAVE without virtual VMLOAD/VMSAVE (which nestbed does not offer): rAX
 * is a physical address of the host, which for L2's instruction is L1 (APM vol.2 15.5.2,
 * 15.33.1; KVM's CVE-2021-3656 fix): an L1-physical address that must be L1's memory,
 * never nestbed's. The state moves between that VMCB and the CPU, which is VMCB01 while
 * L2 runs too (svm_vcpu.state_vmcb_pa). */
static void l2_vmload_vmsave(struct vcpu *v, struct nsvm *n, bool load)
{
	uint64_t pa = v->state.gpr.rax;
	if (!(v->state.efer & EFER_LMA) || !v->state.cs_long)
		pa &= 0xffffffffull; /* EAX outside 64-bit mode */
	if ((pa & PAGE_MASK) || (pa & n->phys_addr_mask)) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	struct vmcb_save tmp;
	uint64_t off = __builtin_offsetof(struct vmcb, save);
	if (guest_phys_read(pa + off, &tmp, sizeof(tmp))) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	if (load) {
		nsvm_copy_vmload_state(&n->vmcb01->save, &tmp);
	} else {
		nsvm_copy_vmload_state(&tmp, &n->vmcb01->save);
		if (guest_phys_write(pa + off, &tmp, sizeof(tmp))) {
			l2_exception(v, n, VECTOR_GP, true);
			return;
		}
	}
}

void nsvm_l2_vm_insn(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	uint32_t code = (uint32_t)e->native_code;
	/* #UD without EFER.SVME (L2's own: it may clear it), and for SKINIT, which nestbed
	 * does not offer (CPUID 8000_0001h ECX.SKINIT = 0) */
	if (!n->in_l2 || !(v->state.efer & EFER_SVME) || code == SVM_EXIT_SKINIT) {
		l2_exception(v, n, VECTOR_UD, false);
		return;
	}
	if (v->state.cpl != 0) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	switch (code) {
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
		l2_vmload_vmsave(v, n, code == SVM_EXIT_VMLOAD);
		if (!n->in_l2 || (n->vmcb02->control.eventinj & SVM_EVENT_VALID))
			return; /* the #GP went to L1 or is on its way into L2 */
		break;
	case SVM_EXIT_CLGI:
	case SVM_EXIT_STGI:
		if (n->l2_vgif) {
			l2_set_vgif(n, code == SVM_EXIT_STGI);
			break;
		}
		l2_set_gif(v, n, code == SVM_EXIT_STGI);
		vcpu_skip_instruction(v, e);
		if (n->gif && n->nmi_held_l2) {
			/* the NMI GIF held: now L1's exit, or L2's NMI */
			n->nmi_held_l2 = false;
			if (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_NMI) {
				n->nmi_pending_l1 = true;
				nsvm_reflect(v, n, SVM_EXIT_NMI, 0, 0, 0);
			} else {
				struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
				v->ops->inject(v, &nmi);
			}
		}
		return;
	case SVM_EXIT_INVLPGA:
		/* L1's TLB entries for its guests are L2's in nestbed (one ASID) */
		n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
		break;
	default: /* VMRUN: L1 always intercepts it (15.5.1) */
		l2_exception(v, n, VECTOR_UD, false);
		return;
	}
	vcpu_skip_instruction(v, e);
}
