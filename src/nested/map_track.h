/* Permission maps of L1 that a merged map depends on (SVM IOPM/MSRPM of VMCB12; VT-x I/O
 * bitmaps A/B and MSR bitmap of VMCS12), one design for both vendors:
 *
 * nestbed's merged maps for L2 (L1's ORed with nestbed's few bits) are cached per vCPU,
 * keyed by L1's map addresses, and rebuilt only when L1 changes a map. While a cached
 * merge depends on an L1 page, the page is "tracked": write-protected in the nested page
 * tables nestbed builds for L1 and in L2's shadow tables. A write to it (by any vCPU of
 * L1, or by an L2 that L1 lets reach it) makes every cache built from it stale, untracks
 * it (writable again, so the write completes without emulation) and kicks the other CPUs
 * running an L2 with it. A stale cache makes every I/O and MSR access of L2 exit (the
 * merged maps are all ones); at such an exit L1's map is read where it lives, so the
 * change takes effect at L2's next access: the exit goes to L1 when L1's map now asks for
 * it, else the merge is rebuilt (the write has retired by then) and the instruction runs
 * again under the new merge.
 *
 * This file is the vendor-neutral, pure part (host-tested): the machine's table of
 * tracked pages with the vCPUs that depend on each, and the sparse list of the bits
 * nestbed itself sets in a map (ORed in at a merge instead of a loop over the whole map).
 * map_track_machine.c holds the part that needs the machine (lock, stale flags, kick). */
#ifndef NESTBED_MAP_TRACK_H
#define NESTBED_MAP_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#define MAP_TRACK_PAGE_MASK 0xfffull
/* Pages one vCPU's merge depends on at most: SVM IOPM (3 pages) and MSRPM (2 pages),
 * VT-x I/O bitmaps A and B and the MSR bitmap (3). */
#define MAP_CACHE_MAX_PAGES 5
#define MAP_TRACK_MAX_VCPUS 64
#define MAP_TRACK_MAX_PAGES (MAP_CACHE_MAX_PAGES * MAP_TRACK_MAX_VCPUS)

struct map_track_page {
	uint64_t gpa;   /* L1-physical, page aligned */
	uint64_t vcpus; /* one bit per vCPU id whose merged maps depend on it */
};

/* The machine's tracked pages (kept under a lock by its user). */
struct map_track {
	unsigned nr;
	struct map_track_page pages[MAP_TRACK_MAX_PAGES];
};

/* Adds vCPU `vcpu` as a dependant of the page at gpa: 1 when the page was not tracked
 * before (the caller write-protects it), 0 when it already was, -1 when the table is
 * full or the arguments are out of range (the caller then does not cache). */
int map_track_add(struct map_track *t, uint64_t gpa, unsigned vcpu);

/* A write to gpa: the vCPUs whose merges depended on its page (0 when the page is not
 * tracked); the page is no longer tracked (the caller makes it writable again). */
uint64_t map_track_write(struct map_track *t, uint64_t gpa);

/* vCPU `vcpu` drops its dependencies (its merge is rebuilt from other pages, or goes):
 * the pages nobody depends on any more are removed and written to freed[] (at most
 * max_freed; the caller makes them writable again); returns how many. */
unsigned map_track_drop_vcpu(struct map_track *t, unsigned vcpu, uint64_t *freed, unsigned max_freed);

bool map_track_has(const struct map_track *t, uint64_t gpa);

/* One vCPU's view: the L1 pages its current merge was built from. */
struct map_cache {
	bool valid;              /* the merged maps match L1's at pages[] */
	unsigned nr_pages;
	uint64_t pages[MAP_CACHE_MAX_PAGES];
	uint64_t key[3];         /* the L1 map addresses the merge was built for */
	volatile uint32_t stale; /* set by a writer (any CPU): L1 wrote one of pages[] */
	bool filled;             /* the merged maps are all ones until the next rebuild */
};

/* The merge can be reused for these L1 map addresses (no write since, same key). */
static inline bool map_cache_reusable(const struct map_cache *c, const uint64_t key[3])
{
	return c->valid && !c->filled && !__atomic_load_n(&c->stale, __ATOMIC_ACQUIRE) &&
	       c->key[0] == key[0] && c->key[1] == key[1] && c->key[2] == key[2];
}

/* ---- the bits nestbed itself sets in one of its maps ---- */

/* A nonzero 64-bit word of nestbed's own map: its index and value. */
struct map_word {
	uint32_t index;
	uint64_t bits;
};

/* Collects the nonzero words of map (words long) into out (at most max): how many, or
 * -1 when there are more than max. */
int map_words_collect(const uint64_t *map, unsigned words, struct map_word *out, unsigned max);

/* dst |= nestbed's words. */
void map_words_or(uint64_t *dst, const struct map_word *w, unsigned n);

#define KEY_UNUSED 1 /* no page is at an odd address: "L1 does not use this map" */

#endif
