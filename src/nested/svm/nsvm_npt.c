/* The nested NPT: while L1 uses nested paging for L2, a shadow table maps L2-physical
 * addresses straight to host ones (L1's NPT composed with nestbed's), filled at NPFs by
 * the shared shadow-TDP algorithm (nested/shadow_tdp_fault.h) with this file's hands:
 * npt_walk.c's walker, NPFs for L1, x86-64-format entries built by the paging engine.
 * It is dropped at L1's TLB flushes (APM vol.2 15.25). */
#include "nested/svm/nsvm.h"

#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/platform.h"
#include "core/run.h"
#include "nested/map_track_machine.h"
#include "nested/npt_walk.h"
#include "nested/shadow_tdp_fault.h"

/* Every access through NPT is a user access (15.25.5): every shadow leaf grants U. */
#define SHADOW_NPT_FLAGS (PTE_U)

/* ---- shadow NPT ---- */

void nsvm_shadow_drop(struct nsvm *n)
{
	tdp_free(&n->shadow);
	n->shadow_ncr3_12 = 0;
	n->flush_l2 = true;
}

int nsvm_shadow_ensure(struct nsvm *n)
{
	if (n->shadow.root)
		return 0;
	return tdp_init(&n->shadow, &tdp_format_x86_64, &nestbed_frames, identity_frame_ptr);
}

static int read_l1_phys(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(pa, value, sizeof(*value));
}

/* L1's NPT, walked with L1's EFER.NXE and CR4.SMEP */
static struct npt_walk_ctx l1_npt(const struct nsvm *n)
{
	return (struct npt_walk_ctx){ .root = n->vmcb12.control.n_cr3,
				      .nxe = (n->l1_state.efer & EFER_NXE) != 0,
				      .smep = (n->l1_state.cr4 & CR4_SMEP) != 0,
				      .phys_addr_mask = n->phys_addr_mask,
				      .read_phys = read_l1_phys };
}

static int walk_l1_npt(const struct vcpu *v, const struct nsvm *n, uint64_t gpa, bool write,
		       bool fetch, struct npt_walk_result *r)
{
	struct npt_walk_ctx c = l1_npt(n);
	(void)v;
	return npt_walk(&c, gpa, write, fetch, r);
}

int nsvm_l2_gpa_to_hpa(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end)
{
	const struct nsvm *n = nsvm_of(v);
	if (!nsvm_np12(n)) {
		*hpa = gpa;
		*page_end = (gpa | PAGE_MASK) + 1;
		return 0;
	}
	struct npt_walk_result r;
	if (walk_l1_npt(v, n, gpa, false, false, &r))
		return -1;
	*hpa = r.pa;
	*page_end = (gpa | PAGE_MASK) + 1;
	return 0;
}

/* ---- the shadow-TDP algorithm's AMD-V hands ---- */

static void npt12_walk(struct vcpu *v, const struct exit *e, struct shadow_tdp_walk *w)
{
	struct npt_walk_ctx c = l1_npt(nsvm_of(v));
	npt_walk_for_shadow(&c, e->u.tdp.gpa, e->u.tdp.write, e->u.tdp.fetch, e->info1, w);
}

static void npt12_reflect(struct vcpu *v, struct exit *e, const struct shadow_tdp_walk *w)
{
	e->native_code = SVM_EXIT_NPF;
	nsvm_reflect(v, nsvm_of(v), SVM_EXIT_NPF, w->l1_info, e->u.tdp.gpa, 0);
}

static uint64_t npt12_attrs(const struct shadow_tdp_leaf *leaf)
{
	return SHADOW_NPT_FLAGS | ((leaf->perms & TDP_W) ? PTE_W : 0) | ((leaf->perms & TDP_X) ? 0 : PTE_NX);
}

static struct tdp *npt12_shadow(struct vcpu *v)
{
	struct nsvm *n = nsvm_of(v);
	n->shadow.fmt = &tdp_format_x86_64; /* set by nsvm_shadow_ensure at VMRUN already */
	return &n->shadow;
}

static void npt12_new_root(struct vcpu *v)
{
	struct nsvm *n = nsvm_of(v);
	n->flush_l2 = true;
	n->vmcb02->control.n_cr3 = n->shadow.root;
	n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
}

static const struct shadow_tdp_ops npt12_ops = {
	.name = "nested-svm",
	.walk = npt12_walk,
	.reflect = npt12_reflect,
	.attrs = npt12_attrs,
	.tracked_write = nsvm_maps_tracked_write,
	.shadow = npt12_shadow,
	.new_root = npt12_new_root,
};

/* An NPF (APM 15.25.6): while L2 runs on L1's NPT, L1's table decides; otherwise L2's
 * addresses are L1's. */
bool nsvm_tdp_fault(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	if (!n->in_l2 || !nsvm_np12(n)) {
		/* a write to a tracked permission map, or nestbed's own business */
		return e->u.tdp.present && e->u.tdp.write && nsvm_maps_write_fault(v, e->u.tdp.gpa);
	}
	return shadow_tdp_fault(v, e, &npt12_ops);
}

void nsvm_shadow_flush(struct nsvm *n)
{
	nsvm_shadow_drop(n);
	if (!n->in_l2)
		return;
	n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	if (!nsvm_np12(n))
		return;
	if (nsvm_shadow_ensure(n))
		fatal("nested-svm: out of memory for the shadow NPT");
	n->shadow_ncr3_12 = n->vmcb12.control.n_cr3;
	n->vmcb02->control.n_cr3 = n->shadow.root;
}
