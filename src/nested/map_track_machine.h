/* The machine's side of permission-map tracking (map_track.h): the table under its lock,
 * a vCPU's dependencies set at a rebuild, a write to a tracked page (stale flags, the
 * kick), with the vendor's hands for its own tables. */
#ifndef NESTBED_MAP_TRACK_MACHINE_H
#define NESTBED_MAP_TRACK_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tdp.h"
#include "core/vcpu.h"
#include "nested/map_track.h"

struct machine;

struct map_track_vendor {
	const char *name; /* "nested-svm", "nested-vmx": the prefix of console lines */
	/* The map cache of vCPU w. */
	struct map_cache *(*cache)(struct vcpu *w);
	/* The table nestbed builds for vCPU w's L1 (its NPT or EPT) as the paging engine
	 * sees it; false when w has none. A tracked page is write-protected there (only
	 * where that table maps L1's page to itself: never the xAPIC page, never nestbed's). */
	bool (*l1_table)(struct vcpu *w, struct tdp *t);
	/* w's flag "L1's table lost write permission somewhere": w drops the stale
	 * translations (its TLB, its L2 shadow table) before its next entry, whichever CPU
	 * sets it (a page made writable again needs no flush: a stale fault is retried). */
	volatile uint32_t *(*tdp_sync)(struct vcpu *w);
	/* This CPU's cached translations of v's L1 table go now. */
	void (*flush_now)(struct vcpu *v);
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

/* A write fault in L1's own table (L1, or an L2 on L1's table) at L1-physical gpa: a
 * tracked page's (map_track_write_fault), or the spurious one of a page another CPU made
 * writable again while this CPU's TLB still held it read-only (made writable here too,
 * this CPU's translations flushed). false: nestbed's own business. */
bool map_track_l1_write_fault(struct vcpu *v, const struct map_track_vendor *ops, uint64_t gpa);

/* Is L1's page at gpa tracked (an L2 shadow entry for it must stay read-only)? */
bool map_track_is_tracked(uint64_t gpa);

#endif
