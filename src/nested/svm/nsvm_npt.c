/* The nested NPT: while L1 uses nested paging for L2, a shadow table maps L2-physical
 * addresses straight to host ones (L1's NPT composed with nestbed's), filled at NPFs and
 * dropped at L1's TLB flushes (APM vol.2 15.25). */
#include "nested/svm/nsvm.h"

#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/platform.h"
#include "core/run.h"
#include "nested/map_track_machine.h"
#include "nested/npt_walk.h"

#define SHADOW_NPT_FLAGS (PTE_U)

/* ---- shadow NPT ---- */

void nsvm_shadow_drop(struct nsvm *n)
{
	paging_free_tables(&n->shadow);
	n->shadow_ncr3_12 = 0;
	n->flush_l2 = true;
}

int nsvm_shadow_ensure(struct nsvm *n)
{
	if (n->shadow.root)
		return 0;
	return paging_init(&n->shadow, &nestbed_frames, identity_frame_ptr);
}

static int read_l1_phys(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(pa, value, sizeof(*value));
}

static int walk_l1_npt(const struct vcpu *v, const struct nsvm *n, uint64_t gpa, bool write,
		       bool fetch, struct npt_walk_result *r)
{
	struct npt_walk_ctx c = { .root = n->vmcb12.control.n_cr3,
				  .nxe = (n->l1_state.efer & EFER_NXE) != 0,
				  .smep = (n->l1_state.cr4 & CR4_SMEP) != 0,
				  .phys_addr_mask = n->phys_addr_mask,
				  .read_phys = read_l1_phys };
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

/* An NPF while L2 ran: L1's table decides (APM 15.25.6). */
bool nsvm_tdp_fault(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	uint64_t gpa = e->info2;
	bool write = (e->info1 & NPT_FAULT_WRITE) != 0, fetch = (e->info1 & NPT_FAULT_FETCH) != 0;
	if (!n->in_l2 || !nsvm_np12(n)) {
		/* L2 addresses are L1's: a write to a tracked permission map, or nestbed's
		 * own business */
		return e->u.tdp.present && write && nsvm_maps_write_fault(v, gpa);
	}
	struct npt_walk_result r;
	int rc = walk_l1_npt(v, n, gpa, write, fetch, &r);
	if (rc == -2)
		guest_failure(v, "nested: L1's nested page table for %#llx lies outside its memory",
			      (unsigned long long)gpa);
	if (rc == -1) {
		/* L1's fault: its error code, with the hardware's bits 32/33 (final address or
		 * guest page-table walk) */
		uint64_t info1 = r.fault | (e->info1 & (3ull << 32));
		e->native_code = SVM_EXIT_NPF;
		nsvm_reflect(v, n, SVM_EXIT_NPF, info1, gpa, 0);
		trace_reflected(&v->trace, e);
		return true;
	}
	if (nestbed_owns_range(r.pa, 1))
		guest_failure(v, "nested: L1 maps its guest's %#llx onto %#llx, nestbed's memory: stopped",
			      (unsigned long long)gpa, (unsigned long long)r.pa);
	/* the xAPIC page stays read-only for L2 too: its INIT and startup IPIs are emulated
	 * like L1's (apic_emulation.c) */
	bool apic = v->apic_page && (r.pa & ~PAGE_MASK) == v->apic_page;
	/* a tracked permission map stays read-only for L2 too, until L2 writes it */
	if (write && r.writable)
		(void)nsvm_maps_tracked_write(v, r.pa);
	bool tracked = r.writable && map_track_is_tracked(r.pa);
	uint64_t flags = SHADOW_NPT_FLAGS | (r.writable && !apic && !tracked ? PTE_W : 0) |
			 (r.executable ? 0 : PTE_NX);
	if (paging_set_4k(&n->shadow, gpa & ~PAGE_MASK, r.pa & ~PAGE_MASK, flags)) {
		/* out of frames: start the cache over (as a TLB flush would) */
		nsvm_shadow_drop(n);
		if (nsvm_shadow_ensure(n) || paging_set_4k(&n->shadow, gpa & ~PAGE_MASK, r.pa & ~PAGE_MASK, flags))
			guest_failure(v, "nested: out of memory for the shadow NPT");
		n->shadow_ncr3_12 = n->vmcb12.control.n_cr3;
		n->vmcb02->control.n_cr3 = n->shadow.root;
		n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	}
	return true;
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
