/* The machine's side of permission-map tracking (map_track.h): the table under its lock,
 * a vCPU's dependencies set at a rebuild, a write to a tracked page (stale flags, the
 * kick), with the vendor's hands for its own tables. */
#ifndef NESTBED_MAP_TRACK_MACHINE_H
#define NESTBED_MAP_TRACK_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"
#include "nested/map_track.h"

struct machine;

struct map_track_vendor {
	/* The map cache of vCPU w. */
	struct map_cache *(*cache)(struct vcpu *w);
	/* Write-protect (writable false) or unprotect L1's page gpa in the tables nestbed
	 * builds for vCPU w (L1's NPT/EPT); w drops the stale translations (its TLB, its L2
	 * shadow table) before its next entry, whichever CPU calls this. */
	void (*protect)(struct vcpu *w, uint64_t gpa, bool writable);
	/* Optional: make w's CPU leave guest mode now (w runs an L2 on another CPU). */
	void (*kick)(struct vcpu *w);
};

/* Once per vCPU: the machine's table exists. 0, or -1 out of memory. */
int map_track_machine_init(struct machine *m);

/* vCPU v's merge is about to be rebuilt from L1's pages[] for key: its old dependencies
 * go (pages nobody needs are unprotected), the new ones are protected, its stale flag is
 * cleared. Call before reading L1's maps: a write after this call marks it stale again.
 * Returns false when the table is full (the merge is then rebuilt at every entry). */
bool map_track_begin_rebuild(struct vcpu *v, const struct map_track_vendor *ops,
			     const uint64_t *pages, unsigned nr_pages, const uint64_t key[3]);

/* vCPU v no longer keeps a merge (its caches are dropped). */
void map_track_forget(struct vcpu *v, const struct map_track_vendor *ops);

/* A write by vCPU v (at either level) faulted at L1-physical gpa: when the page is
 * tracked, every merge built from it is stale, it is writable again everywhere, and the
 * other CPUs running an L2 with it are kicked; true (the write is retried). */
bool map_track_write_fault(struct vcpu *v, const struct map_track_vendor *ops, uint64_t gpa);

/* Is L1's page at gpa tracked (an L2 shadow entry for it must stay read-only)? */
bool map_track_is_tracked(uint64_t gpa);

#endif
