#include "core/frame_alloc.h"

static bool bit_test(const struct frame_alloc *fa, uint64_t i)
{
	return (fa->bitmap[i / 64] >> (i % 64)) & 1;
}

static void bit_assign(struct frame_alloc *fa, uint64_t i, bool v)
{
	if (v)
		fa->bitmap[i / 64] |= 1ull << (i % 64);
	else
		fa->bitmap[i / 64] &= ~(1ull << (i % 64));
}

int frame_alloc_init(struct frame_alloc *fa, uint64_t base, uint64_t size)
{
	uint64_t start = (base + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
	uint64_t end = (base + size) & ~(FRAME_SIZE - 1);
	for (uint64_t i = 0; i < FRAME_ALLOC_MAX_FRAMES / 64; i++)
		fa->bitmap[i] = 0;
	fa->base = start;
	fa->nr_frames = 0;
	fa->nr_free = 0;
	fa->hint = 0;
	if (end <= start || end - start > FRAME_ALLOC_MAX_BYTES)
		return -1;
	fa->nr_frames = (end - start) / FRAME_SIZE;
	fa->nr_free = fa->nr_frames;
	return 0;
}

static void fa_lock(struct frame_alloc *fa)
{
	while (__atomic_exchange_n(&fa->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&fa->lock, __ATOMIC_RELAXED))
			;
}

static void fa_unlock(struct frame_alloc *fa)
{
	__atomic_store_n(&fa->lock, 0, __ATOMIC_RELEASE);
}

static uint64_t alloc_range_locked(struct frame_alloc *fa, uint64_t count, uint64_t align);

uint64_t frame_alloc_range(struct frame_alloc *fa, uint64_t count, uint64_t align)
{
	fa_lock(fa);
	uint64_t phys = alloc_range_locked(fa, count, align);
	fa_unlock(fa);
	return phys;
}

static uint64_t alloc_range_locked(struct frame_alloc *fa, uint64_t count, uint64_t align)
{
	if (count == 0 || count > fa->nr_free || align < FRAME_SIZE || (align & (align - 1)))
		return 0;
	/* Two passes: from the hint to the end, then from the start. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t first = pass == 0 ? fa->hint : 0;
		for (uint64_t i = first; i + count <= fa->nr_frames;) {
			uint64_t phys = fa->base + i * FRAME_SIZE;
			if (phys & (align - 1)) {
				uint64_t next = (phys + align - 1) & ~(align - 1);
				i = (next - fa->base) / FRAME_SIZE;
				continue;
			}
			uint64_t k = 0;
			while (k < count && !bit_test(fa, i + k))
				k++;
			if (k == count) {
				for (k = 0; k < count; k++)
					bit_assign(fa, i + k, true);
				fa->nr_free -= count;
				fa->hint = i + count;
				return phys;
			}
			i += k + 1;
		}
	}
	return 0;
}

uint64_t frame_alloc_one(struct frame_alloc *fa)
{
	return frame_alloc_range(fa, 1, FRAME_SIZE);
}

static void free_range_locked(struct frame_alloc *fa, uint64_t phys, uint64_t count);

void frame_free_range(struct frame_alloc *fa, uint64_t phys, uint64_t count)
{
	fa_lock(fa);
	free_range_locked(fa, phys, count);
	fa_unlock(fa);
}

static void free_range_locked(struct frame_alloc *fa, uint64_t phys, uint64_t count)
{
	if (phys < fa->base)
		return;
	uint64_t i = (phys - fa->base) / FRAME_SIZE;
	for (uint64_t k = 0; k < count && i + k < fa->nr_frames; k++) {
		if (bit_test(fa, i + k)) {
			bit_assign(fa, i + k, false);
			fa->nr_free++;
		}
	}
	if (i < fa->hint)
		fa->hint = i;
}

bool frame_is_allocated(const struct frame_alloc *fa, uint64_t phys)
{
	if (phys < fa->base)
		return false;
	uint64_t i = (phys - fa->base) / FRAME_SIZE;
	return i < fa->nr_frames && bit_test(fa, i);
}
