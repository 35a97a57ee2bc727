/* Physical frame allocator over nestbed's heap range (a bitmap, one bit per 4 KiB).
 * Pure bookkeeping, host-tested: it never touches the frames themselves. */
#ifndef NESTBED_FRAME_ALLOC_H
#define NESTBED_FRAME_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_SIZE 4096ull
#define FRAME_ALLOC_MAX_BYTES (2ull << 30) /* the bitmap is static: 2 GiB at most */
#define FRAME_ALLOC_MAX_FRAMES (FRAME_ALLOC_MAX_BYTES / FRAME_SIZE)

struct frame_alloc {
	uint64_t base;      /* physical, frame aligned */
	uint64_t nr_frames;
	uint64_t nr_free;
	uint64_t hint;      /* where the next search starts */
	volatile uint32_t lock; /* several CPUs allocate at once (SMP) */
	uint64_t bitmap[FRAME_ALLOC_MAX_FRAMES / 64];
};

/* Rounds base up and the end down to frames; returns -1 if nothing is left or the
 * range exceeds FRAME_ALLOC_MAX_BYTES. */
int frame_alloc_init(struct frame_alloc *fa, uint64_t base, uint64_t size);

/* `count` contiguous frames whose first address is a multiple of `align` bytes
 * (a power of two >= FRAME_SIZE); returns the physical address or 0 when none fit. */
uint64_t frame_alloc_range(struct frame_alloc *fa, uint64_t count, uint64_t align);
uint64_t frame_alloc_one(struct frame_alloc *fa);
void frame_free_range(struct frame_alloc *fa, uint64_t phys, uint64_t count);
bool frame_is_allocated(const struct frame_alloc *fa, uint64_t phys);

#endif
