#include "nested/shadow_tdp.h"

#define PAGE_4K_MASK (TDP_PAGE_4K - 1)

enum shadow_tdp_action shadow_tdp_decide(const struct shadow_tdp_host *host, uint64_t gpa,
					 const struct shadow_tdp_walk *w, struct shadow_tdp_leaf *leaf)
{
	if (w->rc == SHADOW_TDP_WALK_UNREADABLE)
		return SHADOW_TDP_L1_TABLE_BAD;
	if (w->rc != SHADOW_TDP_WALK_OK)
		return SHADOW_TDP_REFLECT;
	uint64_t page = w->l1_pa & ~PAGE_4K_MASK;
	/* the composition with L1->host: nestbed's memory is not L1's, whatever L1 says */
	if (host->owns(page, TDP_PAGE_4K))
		return SHADOW_TDP_HOST_MEMORY;
	unsigned perms = w->perms & (TDP_R | TDP_W | TDP_X);
	/* the xAPIC page stays read-only for L2 too (its INIT and startup IPIs are emulated
	 * like L1's, apic_emulation.c); a tracked permission map stays read-only until
	 * written */
	if ((host->apic_page && page == host->apic_page) || (host->tracked && host->tracked(page)))
		perms &= ~TDP_W;
	*leaf = (struct shadow_tdp_leaf){ .gpa = gpa & ~PAGE_4K_MASK, .hpa = page, .perms = perms,
					  .extra = w->leaf_extra };
	return SHADOW_TDP_INSTALL;
}

int shadow_tdp_install(struct tdp *shadow, const struct shadow_tdp_leaf *leaf, uint64_t attrs)
{
	if (shadow->root && !tdp_set_4k(shadow, leaf->gpa, leaf->hpa, attrs))
		return 0;
	/* out of frames (or no table yet): start the cache over */
	tdp_free(shadow);
	if (tdp_init(shadow, shadow->fmt, shadow->fa, shadow->frame_ptr) ||
	    tdp_set_4k(shadow, leaf->gpa, leaf->hpa, attrs))
		return -1;
	return 1;
}

int shadow_tdp_l1_set_writable(struct tdp *l1_table, uint64_t gpa, bool writable)
{
	uint64_t page = gpa & ~PAGE_4K_MASK;
	struct tdp_walk_result r;
	if (tdp_walk(l1_table, page, &r) || r.hpa != page)
		return 1;
	uint64_t w = l1_table->fmt->w;
	return tdp_update_4k(l1_table, page, writable ? 0 : w, writable ? w : 0) ? -1 : 0;
}
