#include "nested/npt_walk.h"

#include "nested/shadow_tdp.h"
#include "svm/vmcb.h"

/* APM vol.2 5.3.3, Figure 5-18: bits 8:7 of a PML4E are MBZ (7 is a lower level's PS,
 * 8 its G; KVM reserves both in an AMD guest's PML4E too). */
#define PML4E_MBZ ((1ull << 8) | (1ull << 7))
#define PTE_ADDR 0x000ffffffffff000ull
/* Bits 51:MAXPHYADDR are reserved, and so is a large page's address below its size. */

int npt_walk(const struct npt_walk_ctx *c, uint64_t gpa, bool write, bool fetch,
	     struct npt_walk_result *r)
{
	uint64_t table = c->root & PTE_ADDR;
	bool writable = true, executable = true, user = true;
	/* I/D only when NX or SMEP is on for the walk (8.4.2) */
	bool report_fetch = fetch && (c->nxe || c->smep);
	uint64_t access = (write ? NPT_FAULT_WRITE : 0) | (report_fetch ? NPT_FAULT_FETCH : 0) |
			  NPT_FAULT_USER;
	r->fault = 0;
	for (int level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e;
		if (c->read_phys(c->ctx, table + ((gpa >> shift) & 0x1ff) * 8, &e))
			return -2;
		if (!(e & PTE_P)) {
			r->fault = access;
			return -1;
		}
		bool large = (e & PTE_PS) && level > 1 && level < 4;
		uint64_t reserved = (e & PTE_ADDR & c->phys_addr_mask) |
				    ((e & PTE_NX) && !c->nxe ? PTE_NX : 0) |
				    (level == 4 ? e & PML4E_MBZ : 0);
		if (large && level <= 3)
			reserved |= e & PTE_ADDR & ((1ull << shift) - 1) & ~0x1000ull; /* bit 12 is PAT */
		if (reserved) {
			r->fault = access | NPT_FAULT_PRESENT | NPT_FAULT_RESERVED;
			return -1;
		}
		writable &= (e & PTE_W) != 0;
		user &= (e & PTE_U) != 0;
		if (c->nxe && (e & PTE_NX))
			executable = false;
		if (level == 1 || large) {
			if (!user || (write && !writable) || (fetch && !executable)) {
				r->fault = access | NPT_FAULT_PRESENT;
				return -1;
			}
			uint64_t size = 1ull << shift;
			r->pa = (e & PTE_ADDR & ~(size - 1)) | (gpa & (size - 1));
			r->page_size = size;
			r->writable = writable;
			r->executable = executable;
			return 0;
		}
		table = e & PTE_ADDR;
	}
	r->fault = access;
	return -1;
}

/* EXITINFO1 bits 33:32 of an NPF: a fault on the final guest-physical address, or during
 * the guest's page-table walk (APM vol.2 15.25.6). */
#define NPF_INFO1_WHERE (3ull << 32)

void npt_walk_for_shadow(const struct npt_walk_ctx *c, uint64_t gpa, bool write, bool fetch,
			 uint64_t hw_info1, struct shadow_tdp_walk *w)
{
	struct npt_walk_result r;
	int rc = npt_walk(c, gpa, write, fetch, &r);
	*w = (struct shadow_tdp_walk){ 0 };
	if (rc == -2) {
		w->rc = SHADOW_TDP_WALK_UNREADABLE;
	} else if (rc) {
		w->rc = SHADOW_TDP_WALK_L1_FAULT;
		w->l1_exit = SVM_EXIT_NPF;
		w->l1_info = r.fault | (hw_info1 & NPF_INFO1_WHERE);
	} else {
		/* every NPT access is a user access (15.25.5): the walk checked U */
		w->rc = SHADOW_TDP_WALK_OK;
		w->l1_pa = r.pa;
		w->perms = TDP_R | (r.writable ? TDP_W : 0) | (r.executable ? TDP_X : 0);
	}
}
