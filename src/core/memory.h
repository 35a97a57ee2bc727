/* nestbed's view of physical memory: an identity map (phys == virt) on both boot
 * paths, its frame allocator, and the guest's memory map (the firmware's with
 * nestbed's own memory carved out as reserved). */
#ifndef NESTBED_MEMORY_H
#define NESTBED_MEMORY_H

#include <stdint.h>

#include "core/boot_info.h"
#include "core/frame_alloc.h"

extern struct frame_alloc nestbed_frames;

static inline void *phys_to_virt(uint64_t phys)
{
	/* Hide the value from the optimiser: a constant like 0x40E is a real address here,
	 * not a null-pointer-plus-offset it may warn about or fold away. */
	__asm__("" : "+r"(phys));
	return (void *)(uintptr_t)phys;
}

/* Frame callback for paging: identity. */
void *identity_frame_ptr(uint64_t phys);

/* `count` zeroed, contiguous frames aligned to `align` bytes, or 0. */
uint64_t alloc_frames_zeroed(uint64_t count, uint64_t align);

/* The guest's memory map: boot_info's ranges with the image and the heap reserved. */
struct guest_memmap {
	uint32_t nr_ranges;
	struct mem_range ranges[BOOT_MAX_MEM_RANGES];
	uint64_t identity_end; /* memmap_identity_end of the ranges: computed once, read on
				  every guest memory access */
	uint64_t nestbed_lowest; /* the lowest MEM_NESTBED address (~0 if none): everything
				    below is the guest's, no range to look through */
};
int guest_memmap_build(const struct boot_info *bi, struct guest_memmap *out);

#endif
