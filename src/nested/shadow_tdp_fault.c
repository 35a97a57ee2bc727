#include "nested/shadow_tdp_fault.h"

#include "core/guest_mem.h"
#include "core/run.h"
#include "core/trace.h"
#include "nested/map_track_machine.h"

unsigned shadow_tdp_access(const struct exit *e)
{
	return (e->u.tdp.read ? TDP_R : 0) | (e->u.tdp.write ? TDP_W : 0) | (e->u.tdp.fetch ? TDP_X : 0);
}

bool shadow_tdp_fault(struct vcpu *v, struct exit *e, const struct shadow_tdp_ops *ops)
{
	uint64_t gpa = e->u.tdp.gpa;
	struct shadow_tdp_walk w;
	ops->walk(v, e, &w);
	/* a write L1 allows to a tracked permission map: the merges built from it go stale,
	 * and the page is mapped writable below (the write completes without emulation) */
	if (w.rc == SHADOW_TDP_WALK_OK && e->u.tdp.write && (w.perms & TDP_W))
		(void)ops->tracked_write(v, w.l1_pa);
	const struct shadow_tdp_host host = { .owns = nestbed_owns_range, .tracked = map_track_is_tracked,
					      .apic_page = v->apic_page };
	struct shadow_tdp_leaf leaf;
	switch (shadow_tdp_decide(&host, gpa, &w, &leaf)) {
	case SHADOW_TDP_L1_TABLE_BAD:
		guest_failure(v, "%s: L1's nested page table for %#llx lies outside its memory", ops->name,
			      (unsigned long long)gpa);
	case SHADOW_TDP_HOST_MEMORY:
		guest_failure(v, "%s: L1 maps its guest's %#llx onto %#llx, nestbed's memory: stopped", ops->name,
			      (unsigned long long)gpa, (unsigned long long)w.l1_pa);
	case SHADOW_TDP_REFLECT:
		ops->reflect(v, e, &w);
		trace_reflected(&v->trace, e);
		return true;
	case SHADOW_TDP_INSTALL:
		break;
	}
	if (ops->after_walk && ops->after_walk(v, e, w.l1_pa))
		return true;
	int rc = shadow_tdp_install(ops->shadow(v), &leaf, ops->attrs(&leaf));
	if (rc < 0)
		guest_failure(v, "%s: out of memory for the shadow nested page table", ops->name);
	if (rc > 0)
		ops->new_root(v);
	if (ops->resumed)
		ops->resumed(v, e);
	return true;
}
