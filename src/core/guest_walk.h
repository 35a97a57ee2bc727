/* Translates a guest linear address to a guest-physical one the way the guest's own
 * paging does (SDM vol.3 4.3-4.5; APM vol.2 5.2-5.3): off, 32-bit, PAE, 4- and 5-level.
 * Pure: guest memory is read through a callback. */
#ifndef NESTBED_GUEST_WALK_H
#define NESTBED_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define WALK_EFER_LMA (1ull << 10)

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

#endif
