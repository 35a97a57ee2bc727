#include "nested/svm/vmcb12_clean.h"

#include "core/string.h"

/* The control fields read at every VMRUN: no clean bit covers them (or TPR, which nestbed
 * does not honour, APM 15.15.3). */
static inline void load_always_read(struct vmcb_control *d, const struct vmcb_control *c)
{
	d->tlb_control = c->tlb_control;
	d->vintr = c->vintr;
	d->interrupt_shadow = c->interrupt_shadow;
	d->np_control = c->np_control;
	d->virt_ext = c->virt_ext;
	d->eventinj = c->eventinj;
	d->next_rip = c->next_rip;
}

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
	load_always_read(d, c);
}

/* One value of L1's page into both copies: read once (L1 may write its page meanwhile,
 * so both copies must hold the same value), stored twice. */
#define LOAD2_TO(d, d02, s, field)                \
	do {                                      \
		__typeof__((s)->field) t_ = (s)->field; \
		(d)->field = t_;                  \
		(d02)->field = t_;                \
	} while (0)
#define LOAD2(field) LOAD2_TO(d, d02, s, field)

static inline void save_load(struct vmcb_save *d, struct vmcb_save *d02, const struct vmcb_save *s,
			     uint32_t keep)
{
	if (!(keep & VMCB_CLEAN_SEG)) {
		LOAD2(es);
		LOAD2(cs);
		LOAD2(ss);
		LOAD2(ds);
		LOAD2(cpl);
	}
	if (!(keep & VMCB_CLEAN_DT)) {
		LOAD2(gdtr);
		LOAD2(idtr);
	}
	if (!(keep & VMCB_CLEAN_CRX)) {
		LOAD2(efer);
		LOAD2(cr4);
		LOAD2(cr3);
		LOAD2(cr0);
	}
	if (!(keep & VMCB_CLEAN_DRX)) {
		LOAD2(dr7);
		LOAD2(dr6);
	}
	if (!(keep & VMCB_CLEAN_CR2))
		LOAD2(cr2);
	if (!(keep & VMCB_CLEAN_NP))
		LOAD2(g_pat);
	if (!(keep & VMCB_CLEAN_LBR)) {
		LOAD2(dbgctl);
		LOAD2(br_from);
		LOAD2(br_to);
		LOAD2(last_excp_from);
		LOAD2(last_excp_to);
	}
	LOAD2(rflags);
	LOAD2(rip);
	LOAD2(rsp);
	LOAD2(rax);
}

void vmcb12_clean_load(struct vmcb *cached, struct vmcb_save *v02, const struct vmcb *live,
		       uint32_t clean, uint32_t keep)
{
	keep &= VMCB12_CLEAN_HONOURED;
	if (keep == VMCB12_CLEAN_HONOURED) {
		/* every group kept (a hypervisor's loop that changes nothing): the fields with
		 * no clean bit alone, straight */
		const struct vmcb_control *c = &live->control;
		struct vmcb_control *d = &cached->control;
		load_always_read(d, c);
		d->clean_bits = clean;
		const struct vmcb_save *s = &live->save;
		struct vmcb_save *ds = &cached->save, *d02 = v02;
		LOAD2_TO(ds, d02, s, rflags);
		LOAD2_TO(ds, d02, s, rip);
		LOAD2_TO(ds, d02, s, rsp);
		LOAD2_TO(ds, d02, s, rax);
		return;
	}
	if (!keep)
		memcpy(&cached->control, &live->control, VMCB12_CONTROL_BYTES);
	else
		load_control(&cached->control, &live->control, keep);
	cached->control.clean_bits = clean; /* the value `keep` came from, not a second read */
	save_load(&cached->save, v02, &live->save, keep);
}
