#include "nested/map_track_machine.h"

#include "core/console.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/string.h"
#include "nested/shadow_tdp.h"

#define PAGE_BYTES 4096u

static struct map_track *table(void)
{
	return machine.map_track;
}

int map_track_machine_init(struct machine *m)
{
	int rc = 0;
	spin_lock(&m->map_track_lock);
	if (!m->map_track) {
		uint64_t pa = alloc_frames_zeroed((sizeof(struct map_track) + FRAME_SIZE - 1) / FRAME_SIZE,
						  FRAME_SIZE);
		if (pa)
			m->map_track = phys_to_virt(pa);
		else
			rc = -1;
	}
	spin_unlock(&m->map_track_lock);
	return rc;
}

/* L1's page gpa in w's table for L1: write permission off or on (NPT: the leaf's W bit,
 * APM vol.2 15.25.5; EPT: its write permission, SDM vol.3 28.3.2). */
static void protect(const struct map_track_vendor *ops, struct vcpu *w, uint64_t gpa, bool writable)
{
	struct tdp t;
	if (gpa == w->apic_page || nestbed_owns_range(gpa, PAGE_BYTES) || !ops->l1_table(w, &t))
		return;
	int rc = shadow_tdp_l1_set_writable(&t, gpa, writable);
	if (rc > 0)
		return; /* not an identity page of L1's memory */
	if (rc < 0)
		kprintf("nestbed: %s: cannot %sprotect L1's page %#llx (out of frames)\n", ops->name,
			writable ? "un" : "", (unsigned long long)gpa);
	if (!writable)
		__atomic_store_n(ops->tdp_sync(w), 1, __ATOMIC_RELEASE);
}

/* Every vCPU's tables (each vCPU has its own L1 NPT/EPT). */
static void protect_everywhere(const struct map_track_vendor *ops, uint64_t gpa, bool writable)
{
	for (unsigned i = 0; i < machine.nr_cpus; i++) {
		struct vcpu *w = machine.cpus[i].vcpu;
		if (w)
			protect(ops, w, gpa, writable);
	}
}

static void drop_locked(struct vcpu *v, const struct map_track_vendor *ops)
{
	uint64_t freed[MAP_TRACK_MAX_PAGES];
	unsigned n = map_track_drop_vcpu(table(), v->id, freed, MAP_TRACK_MAX_PAGES);
	for (unsigned i = 0; i < n; i++)
		protect_everywhere(ops, freed[i], true);
	struct map_cache *c = ops->cache(v);
	c->valid = false;
	c->nr_pages = 0;
}

bool map_track_begin_rebuild(struct vcpu *v, const struct map_track_vendor *ops,
			     const uint64_t *pages, unsigned nr_pages, const uint64_t key[3])
{
	struct map_cache *c = ops->cache(v);
	bool ok = nr_pages <= MAP_CACHE_MAX_PAGES;
	spin_lock(&machine.map_track_lock);
	drop_locked(v, ops);
	for (unsigned i = 0; ok && i < nr_pages; i++) {
		int rc = map_track_add(table(), pages[i], v->id);
		if (rc < 0)
			ok = false;
		else if (rc > 0)
			protect_everywhere(ops, pages[i] & ~MAP_TRACK_PAGE_MASK, false);
	}
	if (!ok) {
		drop_locked(v, ops); /* untracked: no merge kept */
	} else {
		c->nr_pages = nr_pages;
		for (unsigned i = 0; i < nr_pages; i++)
			c->pages[i] = pages[i] & ~MAP_TRACK_PAGE_MASK;
		for (unsigned i = 0; i < 3; i++)
			c->key[i] = key[i];
		c->valid = true;
	}
	c->filled = false;
	__atomic_store_n(&c->stale, 0, __ATOMIC_RELEASE);
	spin_unlock(&machine.map_track_lock);
	return ok;
}

void map_track_forget(struct vcpu *v, const struct map_track_vendor *ops)
{
	spin_lock(&machine.map_track_lock);
	drop_locked(v, ops);
	spin_unlock(&machine.map_track_lock);
}

bool map_track_write_fault(struct vcpu *v, const struct map_track_vendor *ops, uint64_t gpa)
{
	uint64_t page = gpa & ~MAP_TRACK_PAGE_MASK;
	if (!table())
		return false;
	spin_lock(&machine.map_track_lock);
	bool tracked = map_track_has(table(), page);
	uint64_t vcpus = map_track_write(table(), page);
	if (tracked) {
		protect_everywhere(ops, page, true);
		for (unsigned i = 0; i < machine.nr_cpus; i++) {
			struct vcpu *w = machine.cpus[i].vcpu;
			if (!w || !((vcpus >> w->id) & 1))
				continue;
			__atomic_store_n(&ops->cache(w)->stale, 1, __ATOMIC_RELEASE);
			if (w != v && w->level >= 2 && ops->kick)
				ops->kick(w);
		}
	}
	spin_unlock(&machine.map_track_lock);
	return tracked;
}

bool map_track_is_tracked(uint64_t gpa)
{
	if (!table())
		return false;
	spin_lock(&machine.map_track_lock);
	bool tracked = map_track_has(table(), gpa);
	spin_unlock(&machine.map_track_lock);
	return tracked;
}

bool map_track_l1_write_fault(struct vcpu *v, const struct map_track_vendor *ops, uint64_t gpa)
{
	uint64_t page = gpa & ~MAP_TRACK_PAGE_MASK;
	if (map_track_write_fault(v, ops, page))
		return true;
	struct tdp t;
	if (nestbed_owns_range(page, PAGE_BYTES) || page == v->apic_page || !ops->l1_table(v, &t) ||
	    shadow_tdp_l1_set_writable(&t, page, true))
		return false;
	ops->flush_now(v);
	return true;
}
