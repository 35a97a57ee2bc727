/* Translates a guest linear address to a guest-physical one the way the guest's own
 * paging does (SDM vol.3 4.3-4.5; APM vol.2 5.2-5.3): off, 32-bit, PAE, 4- and 5-level.
 * Pure: guest memory is read through a callback. */
#ifndef NESTBED_GUEST_WALK_H
#define NESTBED_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/x86.h"


struct guest_walk_ctx {
	uint64_t cr0, cr3, cr4, efer;
	/* Reads 8 bytes of guest-physical memory; returns 0 or -1 (unreachable). */
	int (*read_phys)(void *ctx, uint64_t gpa, uint64_t *value);
	void *ctx;
};

enum guest_walk_result {
	WALK_OK = 0,
	WALK_NOT_PRESENT = -1,
	WALK_RESERVED = -2,
	WALK_UNREADABLE = -3, /* a table lies where nestbed cannot read */
};

/* On success *gpa is the translation and *page_end the first linear address past the
 * page that holds `linear` (callers reading across a page boundary walk again). */
int guest_walk(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa, uint64_t *page_end);

/* The page's access rights as the paging structures give them (SDM vol.3 4.6.1, APM
 * vol.2 5.6): R/W and U/S are ANDed over every entry that has them (a PAE PDPTE has
 * neither); with paging off everything is allowed. */
#define WALK_PERM_WRITE (1u << 0) /* R/W = 1 at every level */
#define WALK_PERM_USER (1u << 1)  /* U/S = 1 at every level */
int guest_walk_perm(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa,
		    uint64_t *page_end, unsigned *perm);

/* May a supervisor-mode (CPL 0) write reach a page with these rights? With CR0.WP = 0
 * any translated page, with CR0.WP = 1 only one whose R/W is 1 at every level (SDM vol.3
 * 4.6.1 "Data writes to supervisor-mode addresses", APM vol.2 5.6.4). U/S matters only
 * with SMAP, which nestbed's writes do not model (its guests' buffers are kernel's). */
bool guest_walk_supervisor_write_ok(uint64_t cr0, unsigned perm);

#endif
