/* L1's global interrupt flag (APM vol.2 15.17): emulated, or the CPU's virtual GIF in
 * VMCB01 where it has one (15.33; l1_gif.h says what nestbed must still watch). */
#include "nested/svm/nsvm.h"

#include "core/cpu.h"
#include "core/lapic.h"
#include "core/pcpu.h"
#include "nested/svm/l1_gif.h"

bool nsvm_l1_gif(const struct nsvm *n)
{
	if (n->l1_vgif)
		return (n->vmcb01->control.vintr & VINTR_V_GIF) != 0;
	return n->gif;
}

void nsvm_l1_set_gif(struct nsvm *n, bool gif)
{
	struct vmcb_control *c = &n->vmcb01->control;
	n->gif = gif;
	if (!n->l1_vgif) {
		/* GIF=0: physical interrupts follow nestbed's RFLAGS.IF (0) at VMRUN */
		if (gif)
			c->vintr &= ~VINTR_MASKING;
		else
			c->vintr |= VINTR_MASKING;
		return;
	}
	if (gif) {
		/* whatever waited is taken now; INTR goes to L1 until its next CLGI */
		c->vintr = (c->vintr | VINTR_V_GIF) & ~VINTR_MASKING;
		n->l1_gif_held = false;
		n->l1_intr_direct = true;
		n->l1_intr_direct_fresh = true;
	} else {
		c->vintr &= ~VINTR_V_GIF;
		if (n->l1_intr_direct)
			n->l1_direct_short = true; /* direct delivery lasted until L1's CLGI */
		n->l1_intr_direct = false;
		n->l1_gif_used = true;
	}
}

bool nsvm_l1_interrupt(struct vcpu *v, const struct exit *e)
{
	struct nsvm *n = v->nested_state;
	if (n->in_l2)
		return false;
	bool gif = nsvm_l1_gif(n);
	if (e->kind == EXIT_NMI) {
		if (gif)
			return false; /* injected into L1 now */
		n->nmi_pending_l1 = true; /* delivered at L1's STGI */
		return true;
	}
	if (e->kind != EXIT_INTR || !n->l1_vgif)
		return false;
	if (gif) {
		/* nothing used L1's GIF since direct delivery last ended early: L1 idles, and
		 * direct delivery may stay until its CLGI */
		if (!n->l1_gif_used)
			n->l1_direct_short = false;
		n->l1_intr_direct = true; /* the CPU delivers it to L1 at the entry */
		n->l1_intr_direct_fresh = true;
	} else {
		nsvm_l1_hold_interrupt(n);
	}
	return true;
}

void nsvm_l1_hold_interrupt(struct nsvm *n)
{
	/* pending in the APIC until L1's STGI: V_INTR_MASKING with nestbed's IF 0 */
	n->l1_gif_held = true;
	n->vmcb01->control.vintr |= VINTR_MASKING;
}

void nsvm_l1_gif_before_entry(struct vcpu *v, struct nsvm *n)
{
	if (!n->l1_vgif || n->in_l2)
		return;
	struct vmcb_control *c = &n->vmcb01->control;
	bool init_pending = __atomic_load_n(&v->cpu->pending_init, __ATOMIC_ACQUIRE) != 0;
	struct l1_gif_state s = { .svme = (v->state.efer & EFER_SVME) != 0,
				  .v_gif = (c->vintr & VINTR_V_GIF) != 0,
				  .intr_direct = n->l1_intr_direct,
				  .held = n->l1_gif_held,
				  .event_waits = n->nmi_pending_l1 || init_pending,
				  .fresh = n->l1_intr_direct_fresh,
				  .end_early = n->l1_direct_short };
	/* the APIC is read only where the answer decides */
	s.interrupt_pending = s.intr_direct && s.svme && !s.fresh && s.end_early &&
			      lapic_interrupt_pending();
	struct l1_gif_intercepts i = l1_gif_intercepts(&s);
	if (n->l1_intr_direct && !i.direct)
		n->l1_gif_used = false; /* ended early: watch whether L1 still runs guests */
	n->l1_intr_direct = i.direct;
	n->l1_intr_direct_fresh = false;
	c->intercept_misc1 = (c->intercept_misc1 & ~SVM_INTERCEPT_INTR) |
			     (i.intr ? SVM_INTERCEPT_INTR : 0);
	c->intercept_misc2 = (c->intercept_misc2 & ~(SVM_INTERCEPT_CLGI | SVM_INTERCEPT_STGI)) |
			     (i.clgi ? SVM_INTERCEPT_CLGI : 0) | (i.stgi ? SVM_INTERCEPT_STGI : 0);
}
