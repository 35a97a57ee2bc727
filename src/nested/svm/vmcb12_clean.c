#include "nested/svm/vmcb12_clean.h"

#include "core/string.h"

static void load_control(struct vmcb_control *d, const struct vmcb_control *c, uint32_t keep)
{
	if (!(keep & VMCB_CLEAN_I)) {
		d->intercept_cr = c->intercept_cr;
		d->intercept_dr = c->intercept_dr;
		d->intercept_exceptions = c->intercept_exceptions;
		d->intercept_misc1 = c->intercept_misc1;
		d->intercept_misc2 = c->intercept_misc2;
		d->intercept_misc3 = c->intercept_misc3;
		d->tsc_offset = c->tsc_offset;
		d->pause_filter_threshold = c->pause_filter_threshold;
		d->pause_filter_count = c->pause_filter_count;
	}
	if (!(keep & VMCB_CLEAN_IOPM)) {
		d->iopm_base_pa = c->iopm_base_pa;
		d->msrpm_base_pa = c->msrpm_base_pa;
	}
	if (!(keep & VMCB_CLEAN_ASID))
		d->guest_asid = c->guest_asid;
	if (!(keep & VMCB_CLEAN_NP))
		d->n_cr3 = c->n_cr3;
	/* read at every VMRUN (no clean bit, or TPR, which nestbed does not honour) */
	d->tlb_control = c->tlb_control;
	d->vintr = c->vintr;
	d->interrupt_shadow = c->interrupt_shadow;
	d->np_control = c->np_control;
	d->virt_ext = c->virt_ext;
	d->eventinj = c->eventinj;
	d->clean_bits = c->clean_bits;
	d->next_rip = c->next_rip;
}

void vmcb12_clean_save_copy(struct vmcb_save *d, const struct vmcb_save *s, uint32_t keep)
{
	keep &= VMCB12_CLEAN_HONOURED;
	if (!(keep & VMCB_CLEAN_SEG)) {
		d->es = s->es;
		d->cs = s->cs;
		d->ss = s->ss;
		d->ds = s->ds;
		d->cpl = s->cpl;
	}
	if (!(keep & VMCB_CLEAN_DT)) {
		d->gdtr = s->gdtr;
		d->idtr = s->idtr;
	}
	if (!(keep & VMCB_CLEAN_CRX)) {
		d->efer = s->efer;
		d->cr4 = s->cr4;
		d->cr3 = s->cr3;
		d->cr0 = s->cr0;
	}
	if (!(keep & VMCB_CLEAN_DRX)) {
		d->dr7 = s->dr7;
		d->dr6 = s->dr6;
	}
	if (!(keep & VMCB_CLEAN_CR2))
		d->cr2 = s->cr2;
	if (!(keep & VMCB_CLEAN_NP))
		d->g_pat = s->g_pat;
	if (!(keep & VMCB_CLEAN_LBR)) {
		d->dbgctl = s->dbgctl;
		d->br_from = s->br_from;
		d->br_to = s->br_to;
		d->last_excp_from = s->last_excp_from;
		d->last_excp_to = s->last_excp_to;
	}
	d->rflags = s->rflags;
	d->rip = s->rip;
	d->rsp = s->rsp;
	d->rax = s->rax;
}

void vmcb12_clean_load(struct vmcb *cached, const struct vmcb_control *c, const struct vmcb_save *s,
		       uint32_t keep)
{
	keep &= VMCB12_CLEAN_HONOURED;
	if (!keep) {
		memcpy(&cached->control, c, VMCB12_CONTROL_BYTES);
	} else {
		load_control(&cached->control, c, keep);
	}
	vmcb12_clean_save_copy(&cached->save, s, keep);
}
