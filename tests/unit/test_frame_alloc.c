/* covers: src/core/frame_alloc.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/frame_alloc.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define F FRAME_SIZE

static struct frame_alloc fa; /* 64 KiB of bitmap: keep it off the stack */

static uint64_t count_allocated(void)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < fa.nr_frames; i++)
		n += frame_is_allocated(&fa, fa.base + i * F);
	return n;
}

/* ---- frame_alloc_init ---- */

static void test_init_aligned(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 16 * MIB, 4 * MIB), 0);
	assert_int_equal(fa.base, 16 * MIB);
	assert_int_equal(fa.nr_frames, 1024);
	assert_int_equal(fa.nr_free, 1024);
	assert_int_equal(count_allocated(), 0);
}

static void test_init_rounds_inwards(void **state)
{
	(void)state;
	/* [0x1001, 0x1001 + 0x5000) holds the whole frames [0x2000, 0x6000). */
	assert_int_equal(frame_alloc_init(&fa, 0x1001, 0x5000), 0);
	assert_int_equal(fa.base, 0x2000);
	assert_int_equal(fa.nr_frames, 4);
	assert_int_equal(fa.nr_free, 4);
	assert_int_equal(frame_alloc_init(&fa, 0x1000, 0x1FFF), 0);
	assert_int_equal(fa.nr_frames, 1);
}

static void test_init_rejects_empty(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 0x1000, 0), -1);
	assert_int_equal(fa.nr_frames, 0);
	assert_int_equal(fa.nr_free, 0);
	assert_int_equal(frame_alloc_one(&fa), 0);
	assert_int_equal(frame_alloc_init(&fa, 0x1000, 0xFFF), -1);
	/* Less than a frame once rounded: [0x1800, 0x2800) holds no whole frame. */
	assert_int_equal(frame_alloc_init(&fa, 0x1800, 0x1000), -1);
	assert_int_equal(frame_alloc_one(&fa), 0);
}

static void test_init_maximum_size(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 4 * GIB, FRAME_ALLOC_MAX_BYTES), 0);
	assert_int_equal(fa.nr_frames, FRAME_ALLOC_MAX_FRAMES);
	assert_int_equal(frame_alloc_init(&fa, 4 * GIB, FRAME_ALLOC_MAX_BYTES + F), -1);
	assert_int_equal(fa.nr_frames, 0);
	/* Unaligned ends that round back to the maximum are fine. */
	assert_int_equal(frame_alloc_init(&fa, 4 * GIB - 1, FRAME_ALLOC_MAX_BYTES + F), 0);
	assert_int_equal(fa.nr_frames, FRAME_ALLOC_MAX_FRAMES);
}

static void test_init_clears_previous_state(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 64 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 64, F), 1 * MIB);
	assert_int_equal(fa.nr_free, 0);
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 64 * F), 0);
	assert_int_equal(fa.nr_free, 64);
	assert_int_equal(fa.hint, 0);
	assert_int_equal(count_allocated(), 0);
	assert_int_equal(frame_alloc_one(&fa), 1 * MIB);
	/* A failed init leaves nothing allocatable, even after a successful one. */
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 0), -1);
	assert_int_equal(count_allocated(), 0);
	assert_int_equal(frame_alloc_one(&fa), 0);
}

/* ---- frame_alloc_one / frame_alloc_range ---- */

static void test_alloc_one_in_order_until_exhausted(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	for (uint64_t i = 0; i < 8; i++) {
		uint64_t p = frame_alloc_one(&fa);
		assert_int_equal(p, 1 * MIB + i * F);
		assert_true(frame_is_allocated(&fa, p));
		assert_int_equal(fa.nr_free, 7 - i);
	}
	assert_int_equal(frame_alloc_one(&fa), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, F), 0);
	assert_int_equal(fa.nr_free, 0);
}

static void test_alloc_range_contiguous(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 16 * F), 0);
	uint64_t a = frame_alloc_range(&fa, 4, F);
	uint64_t b = frame_alloc_range(&fa, 4, F);
	assert_int_equal(a, 1 * MIB);
	assert_int_equal(b, 1 * MIB + 4 * F);
	assert_int_equal(fa.nr_free, 8);
	for (uint64_t i = 0; i < 8; i++)
		assert_true(frame_is_allocated(&fa, a + i * F));
	assert_false(frame_is_allocated(&fa, a + 8 * F));
	/* All that is left, in one piece, ending at the last frame. */
	assert_int_equal(frame_alloc_range(&fa, 8, F), 1 * MIB + 8 * F);
	assert_int_equal(fa.nr_free, 0);
}

static void test_alloc_range_skips_fragments(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 0x100000, 12 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 12, F), 0x100000);
	/* Free frames 1-2, 4-6 and 8-11: holes of 2, 3 and 4 frames. */
	frame_free_range(&fa, 0x100000 + 1 * F, 2);
	frame_free_range(&fa, 0x100000 + 4 * F, 3);
	frame_free_range(&fa, 0x100000 + 8 * F, 4);
	assert_int_equal(fa.nr_free, 9);
	assert_int_equal(frame_alloc_range(&fa, 4, F), 0x100000 + 8 * F);
	assert_int_equal(frame_alloc_range(&fa, 3, F), 0x100000 + 4 * F);
	/* Enough free frames in total, but no hole of 3 left. */
	frame_free_range(&fa, 0x100000 + 11 * F, 1);
	assert_int_equal(fa.nr_free, 3);
	assert_int_equal(frame_alloc_range(&fa, 3, F), 0);
	assert_int_equal(fa.nr_free, 3);
	assert_int_equal(frame_alloc_range(&fa, 2, F), 0x100000 + 1 * F);
	assert_int_equal(frame_alloc_one(&fa), 0x100000 + 11 * F);
	assert_int_equal(fa.nr_free, 0);
}

static void test_alloc_range_alignment(void **state)
{
	(void)state;
	/* The heap starts one frame above a 2 MiB boundary. */
	assert_int_equal(frame_alloc_init(&fa, 2 * MIB + F, 6 * MIB), 0);
	uint64_t big = frame_alloc_range(&fa, 512, 2 * MIB);
	assert_int_equal(big, 4 * MIB);
	assert_int_equal(fa.nr_free, 6 * MIB / F - 512);
	/* The frames skipped for alignment are still free. */
	assert_false(frame_is_allocated(&fa, 2 * MIB + F));
	assert_int_equal(frame_alloc_one(&fa), 6 * MIB); /* after the hint ... */
	assert_int_equal(frame_alloc_range(&fa, 1, 64 * 1024), 6 * MIB + 64 * 1024);
	/* The next 2 MiB boundary (8 MiB) leaves only 511 frames before the end. */
	assert_int_equal(frame_alloc_range(&fa, 512, 2 * MIB), 0);
	/* Next fit: freeing moves the hint back to the freed frame, which comes next. */
	frame_free_range(&fa, 6 * MIB, 1);
	assert_int_equal(frame_alloc_range(&fa, 2, 16 * 1024), 6 * MIB);
	/* The 511 frames skipped below 4 MiB are only found by the wrap-around pass. */
	assert_int_equal(frame_alloc_range(&fa, 511, F), 2 * MIB + F);
	assert_int_equal(frame_alloc_range(&fa, 511, F), 0);
}

static void test_alloc_range_alignment_larger_than_heap(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * GIB + F, 64 * MIB), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, 1 * GIB), 0);
	assert_int_equal(frame_alloc_init(&fa, 1 * GIB, 64 * MIB), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, 1 * GIB), 1 * GIB);
	assert_int_equal(frame_alloc_range(&fa, 1, 1 * GIB), 0);
}

static void test_alloc_range_rejects_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 16 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 0, F), 0);
	assert_int_equal(frame_alloc_range(&fa, 17, F), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, 0), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, 2048), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, 3 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 1, F + 1), 0);
	assert_int_equal(fa.nr_free, 16);
	assert_int_equal(count_allocated(), 0);
	assert_int_equal(frame_alloc_range(&fa, 16, F), 1 * MIB);
}

static void test_alloc_wraps_around_to_freed_low_frames(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 0x10000, 8 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 6, F), 0x10000);
	/* Free the first two: the hint drops back; then use the tail. */
	frame_free_range(&fa, 0x10000, 2);
	assert_int_equal(frame_alloc_one(&fa), 0x10000);
	assert_int_equal(frame_alloc_one(&fa), 0x10000 + F);
	assert_int_equal(frame_alloc_range(&fa, 2, F), 0x10000 + 6 * F);
	assert_int_equal(fa.nr_free, 0);
	/* Hint at the end, a hole at the start: the second pass finds it. */
	frame_free_range(&fa, 0x10000 + 2 * F, 2);
	assert_int_equal(frame_alloc_one(&fa), 0x10000 + 2 * F);
	assert_int_equal(frame_alloc_one(&fa), 0x10000 + 3 * F);
	assert_int_equal(frame_alloc_one(&fa), 0);
}

static void test_alloc_range_found_across_the_hint(void **state)
{
	(void)state;
	/* Frames skipped for alignment stay below the hint: a run can straddle it. */
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	assert_int_equal(frame_alloc_one(&fa), 1 * MIB);                /* frame 0 */
	assert_int_equal(frame_alloc_range(&fa, 1, 4 * F), 1 * MIB + 4 * F); /* frame 4 */
	frame_free_range(&fa, 1 * MIB + 4 * F, 1);                      /* hint = 4 */
	assert_int_equal(fa.nr_free, 7);
	/* Frames 1-7 are free; the first pass (from frame 4) is too short. */
	assert_int_equal(frame_alloc_range(&fa, 7, F), 1 * MIB + F);
	assert_int_equal(fa.nr_free, 0);
}

/* ---- frame_free_range / frame_is_allocated ---- */

static void test_free_counts_only_allocated_frames(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 4, F), 1 * MIB);
	frame_free_range(&fa, 1 * MIB, 8); /* half of it was never allocated */
	assert_int_equal(fa.nr_free, 8);
	frame_free_range(&fa, 1 * MIB, 8); /* double free: no change */
	assert_int_equal(fa.nr_free, 8);
	frame_free_range(&fa, 1 * MIB, 0);
	assert_int_equal(fa.nr_free, 8);
	assert_int_equal(count_allocated(), 0);
}

static void test_free_ignores_outside(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 8, F), 1 * MIB);
	frame_free_range(&fa, 0, 1);                  /* below the heap */
	frame_free_range(&fa, 1 * MIB - F, 1);
	frame_free_range(&fa, 1 * MIB + 8 * F, 100);  /* above it */
	assert_int_equal(fa.nr_free, 0);
	assert_int_equal(count_allocated(), 8);
	/* A range running past the end frees only what is inside. */
	frame_free_range(&fa, 1 * MIB + 6 * F, 100);
	assert_int_equal(fa.nr_free, 2);
	assert_false(frame_is_allocated(&fa, 1 * MIB + 7 * F));
	assert_true(frame_is_allocated(&fa, 1 * MIB + 5 * F));
	/* The bitmap bits past the heap stay clear. */
	assert_int_equal(fa.bitmap[0] >> 8, 0);
	/* After freeing above the end, allocation still works. */
	assert_int_equal(frame_alloc_range(&fa, 2, F), 1 * MIB + 6 * F);
}

static void test_free_by_address_inside_frame(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 2, F), 1 * MIB);
	assert_true(frame_is_allocated(&fa, 1 * MIB + 0x123));
	assert_true(frame_is_allocated(&fa, 1 * MIB + F + 0xFFF));
	assert_false(frame_is_allocated(&fa, 1 * MIB + 2 * F));
	frame_free_range(&fa, 1 * MIB + F + 0x800, 1); /* addresses the second frame */
	assert_true(frame_is_allocated(&fa, 1 * MIB));
	assert_false(frame_is_allocated(&fa, 1 * MIB + F));
	assert_int_equal(fa.nr_free, 7);
}

static void test_is_allocated_outside(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 1 * MIB, 8 * F), 0);
	assert_int_equal(frame_alloc_range(&fa, 8, F), 1 * MIB);
	assert_false(frame_is_allocated(&fa, 0));
	assert_false(frame_is_allocated(&fa, 1 * MIB - 1));
	assert_false(frame_is_allocated(&fa, 1 * MIB + 8 * F));
	assert_false(frame_is_allocated(&fa, UINT64_MAX));
	assert_true(frame_is_allocated(&fa, 1 * MIB + 8 * F - 1));
}

static void test_full_size_heap_ends(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, 4 * GIB, FRAME_ALLOC_MAX_BYTES), 0);
	uint64_t last = 4 * GIB + FRAME_ALLOC_MAX_BYTES - F;
	/* A 1 GiB block at the top, then the single last frame after freeing it. */
	assert_int_equal(frame_alloc_range(&fa, GIB / F, GIB), 4 * GIB);
	assert_int_equal(frame_alloc_range(&fa, GIB / F, GIB), 5 * GIB);
	assert_int_equal(fa.nr_free, 0);
	assert_true(frame_is_allocated(&fa, last));
	frame_free_range(&fa, last, 1);
	assert_int_equal(fa.nr_free, 1);
	assert_int_equal(frame_alloc_one(&fa), last);
}

/* A random workload checked against a plain array model. */
static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void test_random_against_model(void **state)
{
	(void)state;
	enum { N = 1024 };
	static bool model[N];
	const uint64_t base = 3 * MIB + 5 * F;
	memset(model, 0, sizeof(model));
	assert_int_equal(frame_alloc_init(&fa, base, N * F), 0);
	uint64_t model_free = N;
	for (int step = 0; step < 20000; step++) {
		if (rng() % 3) {
			uint64_t count = 1 + rng() % 16;
			uint64_t align = F << (rng() % 6);
			uint64_t p = frame_alloc_range(&fa, count, align);
			/* Does the model have such a block? */
			bool exists = false;
			for (uint64_t i = 0; i + count <= N && !exists; i++) {
				if ((base + i * F) & (align - 1))
					continue;
				uint64_t k = 0;
				while (k < count && !model[i + k])
					k++;
				exists = k == count;
			}
			if (!p) {
				assert_false(exists);
				continue;
			}
			assert_true(exists);
			assert_int_equal(p & (align - 1), 0);
			assert_true(p >= base && p + count * F <= base + N * F);
			uint64_t first = (p - base) / F;
			for (uint64_t k = 0; k < count; k++) {
				assert_false(model[first + k]);
				model[first + k] = true;
			}
			model_free -= count;
		} else {
			uint64_t first = rng() % N, count = 1 + rng() % 24;
			frame_free_range(&fa, base + first * F, count);
			for (uint64_t k = 0; k < count && first + k < N; k++) {
				if (model[first + k])
					model_free++;
				model[first + k] = false;
			}
		}
		assert_int_equal(fa.nr_free, model_free);
	}
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(frame_is_allocated(&fa, base + i * F), model[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_aligned),
		cmocka_unit_test(test_init_rounds_inwards),
		cmocka_unit_test(test_init_rejects_empty),
		cmocka_unit_test(test_init_maximum_size),
		cmocka_unit_test(test_init_clears_previous_state),
		cmocka_unit_test(test_alloc_one_in_order_until_exhausted),
		cmocka_unit_test(test_alloc_range_contiguous),
		cmocka_unit_test(test_alloc_range_skips_fragments),
		cmocka_unit_test(test_alloc_range_alignment),
		cmocka_unit_test(test_alloc_range_alignment_larger_than_heap),
		cmocka_unit_test(test_alloc_range_rejects_bad_arguments),
		cmocka_unit_test(test_alloc_wraps_around_to_freed_low_frames),
		cmocka_unit_test(test_alloc_range_found_across_the_hint),
		cmocka_unit_test(test_free_counts_only_allocated_frames),
		cmocka_unit_test(test_free_ignores_outside),
		cmocka_unit_test(test_free_by_address_inside_frame),
		cmocka_unit_test(test_is_allocated_outside),
		cmocka_unit_test(test_full_size_heap_ends),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests_name("frame_alloc", tests, NULL, NULL);
}
