#include "core/memory.h"

#include "core/memmap.h"
#include "core/string.h"

struct frame_alloc nestbed_frames;

void *identity_frame_ptr(uint64_t phys)
{
	return phys_to_virt(phys);
}

uint64_t alloc_frames_zeroed(uint64_t count, uint64_t align)
{
	uint64_t phys = frame_alloc_range(&nestbed_frames, count, align);
	if (phys)
		memset(phys_to_virt(phys), 0, count * FRAME_SIZE);
	return phys;
}

static uint64_t frame_down(uint64_t a) { return a & ~(FRAME_SIZE - 1); }
static uint64_t frame_up(uint64_t a) { return (a + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1); }

int guest_memmap_build(const struct boot_info *bi, struct guest_memmap *out)
{
	out->nr_ranges = bi->nr_ranges;
	memcpy(out->ranges, bi->ranges, sizeof(out->ranges[0]) * bi->nr_ranges);
	const uint64_t extents[2][2] = {
		{ bi->image_phys, bi->image_size },
		{ bi->heap_phys, bi->heap_size },
	};
	for (int i = 0; i < 2; i++) {
		if (!extents[i][1])
			continue;
		uint64_t base = frame_down(extents[i][0]);
		uint64_t end = frame_up(extents[i][0] + extents[i][1]);
		int n = memmap_carve(out->ranges, out->nr_ranges, BOOT_MAX_MEM_RANGES, base,
				     end - base, MEM_NESTBED);
		if (n < 0)
			return -1;
		out->nr_ranges = (uint32_t)n;
	}
	out->identity_end = memmap_identity_end(out->ranges, out->nr_ranges);
	out->nestbed_lowest = ~0ull;
	for (uint32_t i = 0; i < out->nr_ranges; i++)
		if (out->ranges[i].type == MEM_NESTBED && out->ranges[i].base < out->nestbed_lowest)
			out->nestbed_lowest = out->ranges[i].base;
	return 0;
}
