/* covers: src/core/memmap.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/memmap.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

static struct mem_range map[BOOT_MAX_MEM_RANGES + 2];
static uint32_t nr;

static void reset(void)
{
	memset(map, 0xa5, sizeof(map));
	nr = 0;
}

static void add(uint64_t base, uint64_t length, uint32_t type)
{
	map[nr++] = (struct mem_range){ .base = base, .length = length, .type = type };
}

static void expect_range(uint32_t i, uint64_t base, uint64_t length, uint32_t type)
{
	assert_int_equal(map[i].base, base);
	assert_int_equal(map[i].length, length);
	assert_int_equal(map[i].type, type);
}

static uint32_t sanitize(void)
{
	nr = memmap_sanitize(map, nr, BOOT_MAX_MEM_RANGES);
	return nr;
}

/* ---- mem_type_name ---- */

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(mem_type_name(MEM_USABLE), "usable");
	assert_string_equal(mem_type_name(MEM_RESERVED), "reserved");
	assert_string_equal(mem_type_name(MEM_ACPI_RECLAIM), "acpi-reclaim");
	assert_string_equal(mem_type_name(MEM_ACPI_NVS), "acpi-nvs");
	assert_string_equal(mem_type_name(MEM_BAD), "bad");
	assert_string_equal(mem_type_name(MEM_NESTBED), "nestbed");
	assert_string_equal(mem_type_name(0), "unknown");
	assert_string_equal(mem_type_name(12), "unknown");
}

/* ---- memmap_sanitize ---- */

static void test_sanitize_empty(void **state)
{
	(void)state;
	reset();
	assert_int_equal(sanitize(), 0);
}

static void test_sanitize_sorts_by_base(void **state)
{
	(void)state;
	reset();
	add(16 * MIB, 16 * MIB, MEM_RESERVED);
	add(0, 640 * KIB, MEM_USABLE);
	add(1 * MIB, 15 * MIB, MEM_USABLE);
	add(0xF0000, 0x10000, MEM_RESERVED);
	assert_int_equal(sanitize(), 4);
	expect_range(0, 0, 640 * KIB, MEM_USABLE);
	expect_range(1, 0xF0000, 0x10000, MEM_RESERVED);
	expect_range(2, 1 * MIB, 15 * MIB, MEM_USABLE);
	expect_range(3, 16 * MIB, 16 * MIB, MEM_RESERVED);
}

static void test_sanitize_drops_zero_length(void **state)
{
	(void)state;
	reset();
	add(0x5000, 0, MEM_RESERVED);
	add(0, 0x10000, MEM_USABLE);
	add(0x20000, 0, MEM_USABLE);
	add(0x8000, 0, MEM_NESTBED); /* inside a usable range: must not split it */
	assert_int_equal(sanitize(), 1);
	expect_range(0, 0, 0x10000, MEM_USABLE);

	reset();
	add(0x1000, 0, MEM_USABLE);
	add(0x2000, 0, MEM_RESERVED);
	assert_int_equal(sanitize(), 0);
}

static void test_sanitize_merges_adjacent_equal_types(void **state)
{
	(void)state;
	reset();
	add(0x3000, 0x1000, MEM_USABLE);
	add(0x0000, 0x1000, MEM_USABLE);
	add(0x1000, 0x2000, MEM_USABLE);
	add(0x4000, 0x1000, MEM_RESERVED);
	add(0x5000, 0x1000, MEM_RESERVED);
	assert_int_equal(sanitize(), 2);
	expect_range(0, 0x0000, 0x4000, MEM_USABLE);
	expect_range(1, 0x4000, 0x2000, MEM_RESERVED);
}

static void test_sanitize_keeps_adjacent_different_types(void **state)
{
	(void)state;
	reset();
	add(0x0000, 0x1000, MEM_USABLE);
	add(0x1000, 0x1000, MEM_ACPI_RECLAIM);
	add(0x2000, 0x1000, MEM_ACPI_NVS);
	add(0x3000, 0x1000, MEM_USABLE);
	assert_int_equal(sanitize(), 4);
	expect_range(0, 0x0000, 0x1000, MEM_USABLE);
	expect_range(1, 0x1000, 0x1000, MEM_ACPI_RECLAIM);
	expect_range(2, 0x2000, 0x1000, MEM_ACPI_NVS);
	expect_range(3, 0x3000, 0x1000, MEM_USABLE);
}

static void test_sanitize_keeps_gaps(void **state)
{
	(void)state;
	reset();
	add(0, 0x1000, MEM_USABLE);
	add(0x3000, 0x1000, MEM_USABLE); /* same type, not adjacent: no merge */
	assert_int_equal(sanitize(), 2);
	expect_range(0, 0, 0x1000, MEM_USABLE);
	expect_range(1, 0x3000, 0x1000, MEM_USABLE);
}

static void test_sanitize_reserved_splits_usable(void **state)
{
	(void)state;
	reset();
	add(0, 16 * MIB, MEM_USABLE);
	add(4 * MIB, 1 * MIB, MEM_RESERVED);
	assert_int_equal(sanitize(), 3);
	expect_range(0, 0, 4 * MIB, MEM_USABLE);
	expect_range(1, 4 * MIB, 1 * MIB, MEM_RESERVED);
	expect_range(2, 5 * MIB, 11 * MIB, MEM_USABLE);
}

static void test_sanitize_usable_never_beats_other_types(void **state)
{
	(void)state;
	/* The usable range comes second and covers the reserved one entirely. */
	reset();
	add(0x2000, 0x2000, MEM_RESERVED);
	add(0x0000, 0x8000, MEM_USABLE);
	assert_int_equal(sanitize(), 3);
	expect_range(0, 0x0000, 0x2000, MEM_USABLE);
	expect_range(1, 0x2000, 0x2000, MEM_RESERVED);
	expect_range(2, 0x4000, 0x4000, MEM_USABLE);

	/* Partial overlap on each side. */
	reset();
	add(0x0000, 0x3000, MEM_USABLE);
	add(0x2000, 0x2000, MEM_ACPI_RECLAIM);
	add(0x3800, 0x2000, MEM_USABLE);
	assert_int_equal(sanitize(), 3);
	expect_range(0, 0x0000, 0x2000, MEM_USABLE);
	expect_range(1, 0x2000, 0x2000, MEM_ACPI_RECLAIM);
	expect_range(2, 0x4000, 0x1800, MEM_USABLE);
}

static void test_sanitize_higher_type_wins_among_non_usable(void **state)
{
	(void)state;
	reset();
	add(0x0000, 0x4000, MEM_RESERVED);
	add(0x1000, 0x1000, MEM_ACPI_NVS);     /* 4 beats 2 */
	add(0x3000, 0x2000, MEM_ACPI_RECLAIM); /* 3 beats 2 on the overlap */
	assert_int_equal(sanitize(), 4);
	expect_range(0, 0x0000, 0x1000, MEM_RESERVED);
	expect_range(1, 0x1000, 0x1000, MEM_ACPI_NVS);
	expect_range(2, 0x2000, 0x1000, MEM_RESERVED);
	expect_range(3, 0x3000, 0x2000, MEM_ACPI_RECLAIM);

	reset();
	add(0x0000, 0x2000, MEM_BAD);
	add(0x1000, 0x2000, MEM_ACPI_RECLAIM); /* bad (5) keeps its part */
	assert_int_equal(sanitize(), 2);
	expect_range(0, 0x0000, 0x2000, MEM_BAD);
	expect_range(1, 0x2000, 0x1000, MEM_ACPI_RECLAIM);
}

static void test_sanitize_nestbed_beats_everything(void **state)
{
	(void)state;
	static const uint32_t types[] = { MEM_USABLE, MEM_RESERVED, MEM_ACPI_RECLAIM,
					  MEM_ACPI_NVS, MEM_BAD };
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		reset();
		add(0x1000, 0x1000, MEM_NESTBED);
		add(0x0000, 0x4000, types[t]);
		assert_int_equal(sanitize(), 3);
		expect_range(0, 0x0000, 0x1000, types[t]);
		expect_range(1, 0x1000, 0x1000, MEM_NESTBED);
		expect_range(2, 0x2000, 0x2000, types[t]);
	}
}

static void test_sanitize_duplicates_and_containment(void **state)
{
	(void)state;
	reset();
	add(0x0000, 0x4000, MEM_USABLE);
	add(0x0000, 0x4000, MEM_USABLE);
	add(0x1000, 0x1000, MEM_USABLE);
	add(0x0000, 0x2000, MEM_USABLE);
	assert_int_equal(sanitize(), 1);
	expect_range(0, 0, 0x4000, MEM_USABLE);

	/* Same base, different lengths and types. */
	reset();
	add(0x0000, 0x4000, MEM_USABLE);
	add(0x0000, 0x1000, MEM_RESERVED);
	assert_int_equal(sanitize(), 2);
	expect_range(0, 0x0000, 0x1000, MEM_RESERVED);
	expect_range(1, 0x1000, 0x3000, MEM_USABLE);
}

static void test_sanitize_many_overlaps(void **state)
{
	(void)state;
	/* A staircase of usable ranges with reserved holes punched every other MiB. */
	reset();
	for (uint64_t i = 0; i < 8; i++)
		add(i * MIB, 2 * MIB, MEM_USABLE);
	for (uint64_t i = 1; i < 9; i += 2)
		add(i * MIB, 512 * KIB, MEM_RESERVED);
	assert_int_equal(sanitize(), 9);
	expect_range(0, 0, 1 * MIB, MEM_USABLE);
	for (uint32_t k = 0; k < 4; k++) {
		uint64_t hole = (2 * k + 1) * MIB;
		expect_range(1 + 2 * k, hole, 512 * KIB, MEM_RESERVED);
		if (k < 3)
			expect_range(2 + 2 * k, hole + 512 * KIB, 1536 * KIB, MEM_USABLE);
	}
	expect_range(8, 7 * MIB + 512 * KIB, 1536 * KIB, MEM_USABLE);
}

static void test_sanitize_idempotent(void **state)
{
	(void)state;
	reset();
	add(0x9000, 0x3000, MEM_RESERVED);
	add(0x0000, 0xA000, MEM_USABLE);
	add(0xB000, 0x5000, MEM_USABLE);
	add(0x2000, 0x1000, MEM_ACPI_NVS);
	sanitize();
	struct mem_range first[BOOT_MAX_MEM_RANGES];
	uint32_t first_nr = nr;
	memcpy(first, map, sizeof(first[0]) * nr);
	assert_int_equal(sanitize(), first_nr);
	assert_memory_equal(map, first, sizeof(first[0]) * nr);
	/* Sorted, non-overlapping, no adjacent equal types. */
	for (uint32_t i = 1; i < nr; i++) {
		assert_true(map[i - 1].base + map[i - 1].length <= map[i].base);
		if (map[i - 1].base + map[i - 1].length == map[i].base)
			assert_int_not_equal(map[i - 1].type, map[i].type);
	}
}

static void test_sanitize_respects_max(void **state)
{
	(void)state;
	reset();
	for (uint64_t i = 0; i < 6; i++)
		add(i * 0x2000, 0x1000, MEM_USABLE);
	assert_int_equal(memmap_sanitize(map, nr, 4), 4);
	/* The lowest ranges survive. */
	for (uint32_t i = 0; i < 4; i++)
		expect_range(i, i * 0x2000, 0x1000, MEM_USABLE);
	reset();
	add(0, 0x1000, MEM_USABLE);
	assert_int_equal(memmap_sanitize(map, nr, 0), 0);
}

static void test_sanitize_full_table(void **state)
{
	(void)state;
	reset();
	for (uint64_t i = 0; i < BOOT_MAX_MEM_RANGES; i++)
		add((BOOT_MAX_MEM_RANGES - 1 - i) * 0x2000, 0x1000,
		    i % 2 ? MEM_USABLE : MEM_RESERVED);
	assert_int_equal(sanitize(), BOOT_MAX_MEM_RANGES);
	for (uint32_t i = 0; i < BOOT_MAX_MEM_RANGES; i++)
		assert_int_equal(map[i].base, (uint64_t)i * 0x2000);
}

static void test_sanitize_drops_wrapping_range(void **state)
{
	(void)state;
	reset();
	add(0, 0x1000, MEM_USABLE);
	add(UINT64_MAX - 0xFFF, 0x2000, MEM_RESERVED); /* end wraps around 2^64 */
	assert_int_equal(sanitize(), 1);
	expect_range(0, 0, 0x1000, MEM_USABLE);
}

static void test_sanitize_high_addresses(void **state)
{
	(void)state;
	reset();
	add(4 * GIB, 60 * GIB, MEM_USABLE);
	add(0xFD00000000ull, 0x300000000ull, MEM_RESERVED); /* the AMD HyperTransport hole */
	add(3 * GIB, 1 * GIB, MEM_RESERVED);
	assert_int_equal(sanitize(), 3);
	expect_range(0, 3 * GIB, 1 * GIB, MEM_RESERVED);
	expect_range(1, 4 * GIB, 60 * GIB, MEM_USABLE);
	expect_range(2, 0xFD00000000ull, 0x300000000ull, MEM_RESERVED);

	reset();
	add(4 * GIB, 1024 * GIB, MEM_USABLE);
	add(0xFD00000000ull, 0x300000000ull, MEM_RESERVED);
	assert_int_equal(sanitize(), 3);
	expect_range(0, 4 * GIB, 0xFD00000000ull - 4 * GIB, MEM_USABLE);
	expect_range(1, 0xFD00000000ull, 0x300000000ull, MEM_RESERVED);
	expect_range(2, 0x10000000000ull, 4 * GIB, MEM_USABLE);
}

/* ---- memmap_carve ---- */

static void test_carve_splits_in_three(void **state)
{
	(void)state;
	reset();
	add(1 * MIB, 127 * MIB, MEM_USABLE);
	int n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 64 * MIB, 16 * MIB, MEM_NESTBED);
	assert_int_equal(n, 3);
	expect_range(0, 1 * MIB, 63 * MIB, MEM_USABLE);
	expect_range(1, 64 * MIB, 16 * MIB, MEM_NESTBED);
	expect_range(2, 80 * MIB, 48 * MIB, MEM_USABLE);
}

static void test_carve_at_edges(void **state)
{
	(void)state;
	reset();
	add(0, 16 * MIB, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0, 1 * MIB, MEM_NESTBED), 2);
	expect_range(0, 0, 1 * MIB, MEM_NESTBED);
	expect_range(1, 1 * MIB, 15 * MIB, MEM_USABLE);

	reset();
	add(0, 16 * MIB, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 15 * MIB, 1 * MIB, MEM_NESTBED), 2);
	expect_range(0, 0, 15 * MIB, MEM_USABLE);
	expect_range(1, 15 * MIB, 1 * MIB, MEM_NESTBED);

	reset();
	add(0, 16 * MIB, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0, 16 * MIB, MEM_NESTBED), 1);
	expect_range(0, 0, 16 * MIB, MEM_NESTBED);
}

static void test_carve_twice_keeps_map_sanitized(void **state)
{
	(void)state;
	/* What guest_memmap_build does: the image, then the heap right after it. */
	reset();
	add(0, 640 * KIB, MEM_USABLE);
	add(1 * MIB, 511 * MIB, MEM_USABLE);
	add(512 * MIB, 1 * MIB, MEM_RESERVED);
	int n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 400 * MIB, 2 * MIB, MEM_NESTBED);
	assert_int_equal(n, 5);
	nr = (uint32_t)n;
	n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 402 * MIB, 30 * MIB, MEM_NESTBED);
	assert_int_equal(n, 5); /* merged with the adjacent nestbed range */
	expect_range(0, 0, 640 * KIB, MEM_USABLE);
	expect_range(1, 1 * MIB, 399 * MIB, MEM_USABLE);
	expect_range(2, 400 * MIB, 32 * MIB, MEM_NESTBED);
	expect_range(3, 432 * MIB, 80 * MIB, MEM_USABLE);
	expect_range(4, 512 * MIB, 1 * MIB, MEM_RESERVED);
}

static void test_carve_across_ranges_and_holes(void **state)
{
	(void)state;
	reset();
	add(0x0000, 0x2000, MEM_USABLE);
	add(0x2000, 0x1000, MEM_RESERVED);
	add(0x5000, 0x2000, MEM_USABLE);
	/* Covers the end of range 0, all of range 1, a hole and the start of range 2. */
	int n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0x1000, 0x5000, MEM_NESTBED);
	assert_int_equal(n, 3);
	expect_range(0, 0x0000, 0x1000, MEM_USABLE);
	expect_range(1, 0x1000, 0x5000, MEM_NESTBED);
	expect_range(2, 0x6000, 0x1000, MEM_USABLE);
}

static void test_carve_reserved_type(void **state)
{
	(void)state;
	reset();
	add(0, 0x10000, MEM_USABLE);
	int n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0x4000, 0x1000, MEM_RESERVED);
	assert_int_equal(n, 3);
	expect_range(1, 0x4000, 0x1000, MEM_RESERVED);
	assert_false(memmap_is_usable(map, (uint32_t)n, 0x4000, 0x1000));
	assert_true(memmap_is_usable(map, (uint32_t)n, 0x5000, 0xB000));
}

static void test_carve_zero_size_is_a_no_op(void **state)
{
	(void)state;
	reset();
	add(0x1000, 0x1000, MEM_USABLE);
	add(0x0000, 0x1000, MEM_USABLE);
	int n = memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0x800, 0, MEM_NESTBED);
	assert_int_equal(n, 1); /* sanitized: sorted and merged */
	expect_range(0, 0, 0x2000, MEM_USABLE);
}

static void test_carve_refuses_when_full(void **state)
{
	(void)state;
	reset();
	add(0, 0x1000, MEM_USABLE);
	add(0x2000, 0x1000, MEM_USABLE);
	struct mem_range before[2];
	memcpy(before, map, sizeof(before));
	assert_int_equal(memmap_carve(map, nr, 2, 0x4000, 0x1000, MEM_NESTBED), -1);
	assert_memory_equal(map, before, sizeof(before));

	reset();
	for (uint64_t i = 0; i < BOOT_MAX_MEM_RANGES; i++)
		add(i * 0x2000, 0x1000, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES + 2, 0x400000, 0x1000,
				      MEM_NESTBED), -1);
}

static void test_carve_fits_exactly(void **state)
{
	(void)state;
	/* count + 1 == max, and the carve at an edge needs exactly one more range. */
	reset();
	add(0, 0x4000, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, 2, 0x3000, 0x1000, MEM_NESTBED), 2);
	expect_range(0, 0x0000, 0x3000, MEM_USABLE);
	expect_range(1, 0x3000, 0x1000, MEM_NESTBED);
}

/* Was a bug (src/core/memmap.c, memmap_carve): it only checks count + 1 <= max, but carving the
 * middle of a range yields count + 2 ranges; memmap_sanitize then truncates to max and the
 * highest range is silently lost (here the usable [0x3000, 0x4000)), and carve returns max
 * instead of -1 as memmap.h promises ("returns ... -1 when it would exceed max"). With
 * guest_memmap_build this drops RAM from the guest's map once the table is nearly full. */
static void test_fixed_carve_split_in_three_exceeds_max(void **state)
{
	(void)state;
	reset();
	add(0, 0x4000, MEM_USABLE);
	int n = memmap_carve(map, nr, 2, 0x1000, 0x2000, MEM_NESTBED);
	assert_int_equal(n, -1); /* got 2: [0, 0x1000) usable, [0x1000, 0x3000) nestbed */
	/* Refused: the map is left as it was. */
	expect_range(0, 0, 0x4000, MEM_USABLE);
	/* With room for three it splits. */
	assert_int_equal(memmap_carve(map, nr, 3, 0x1000, 0x2000, MEM_NESTBED), 3);
	expect_range(2, 0x3000, 0x1000, MEM_USABLE);
}

static void test_carve_split_in_a_full_table(void **state)
{
	(void)state;
	/* What guest_memmap_build meets on a firmware with a long map: 127 ranges, and the
	 * heap carved from the middle of the last usable one. */
	reset();
	for (uint64_t i = 0; i < BOOT_MAX_MEM_RANGES - 1; i++)
		add(i * 0x10000, 0x8000, i % 2 ? MEM_RESERVED : MEM_USABLE);
	uint64_t last = (BOOT_MAX_MEM_RANGES - 2) * 0x10000; /* usable, index 126 */
	assert_int_equal(map[BOOT_MAX_MEM_RANGES - 2].type, MEM_USABLE);
	struct mem_range before[BOOT_MAX_MEM_RANGES];
	memcpy(before, map, sizeof(before));
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, last + 0x2000, 0x1000,
				      MEM_NESTBED), -1);
	assert_memory_equal(map, before, sizeof(before[0]) * nr);
	/* Carving its end needs one range only: that fits exactly. */
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, last + 0x7000, 0x1000,
				      MEM_NESTBED), BOOT_MAX_MEM_RANGES);
	expect_range(BOOT_MAX_MEM_RANGES - 2, last, 0x7000, MEM_USABLE);
	expect_range(BOOT_MAX_MEM_RANGES - 1, last + 0x7000, 0x1000, MEM_NESTBED);
	/* And one range less leaves room for a split. */
	reset();
	for (uint64_t i = 0; i < BOOT_MAX_MEM_RANGES - 2; i++)
		add(i * 0x10000, 0x8000, MEM_USABLE);
	assert_int_equal(memmap_carve(map, nr, BOOT_MAX_MEM_RANGES, 0x2000, 0x1000, MEM_NESTBED),
			 BOOT_MAX_MEM_RANGES);
	expect_range(0, 0, 0x2000, MEM_USABLE);
	expect_range(1, 0x2000, 0x1000, MEM_NESTBED);
	expect_range(2, 0x3000, 0x5000, MEM_USABLE);
	expect_range(BOOT_MAX_MEM_RANGES - 1, (BOOT_MAX_MEM_RANGES - 3) * 0x10000, 0x8000, MEM_USABLE);
}

/* ---- memmap_find_top ---- */

static int find_top(uint64_t size, uint64_t align, uint64_t limit, const struct mem_range *avoid,
		    uint32_t nr_avoid, uint64_t *base)
{
	return memmap_find_top(map, nr, size, align, limit, avoid, nr_avoid, base);
}

static void qemu_like_map(void)
{
	reset();
	add(0, 0x9FC00, MEM_USABLE);
	add(0x9FC00, 0x400, MEM_RESERVED);
	add(0xF0000, 0x10000, MEM_RESERVED);
	add(1 * MIB, 511 * MIB - 128 * KIB, MEM_USABLE); /* up to 0x1FFE0000 */
	add(0x1FFE0000, 0x20000, MEM_RESERVED);
	add(0xFFFC0000, 0x40000, MEM_RESERVED);
}

static void test_find_top_highest_block(void **state)
{
	(void)state;
	qemu_like_map();
	uint64_t base = 0;
	assert_int_equal(find_top(1 * MIB, 4 * KIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x1FFE0000 - 1 * MIB);
	assert_int_equal(find_top(32 * MIB, 2 * MIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x1FE00000 - 32 * MIB); /* 2 MiB aligned down */
}

static void test_find_top_alignment(void **state)
{
	(void)state;
	reset();
	add(0x100000, 0x2FF000, MEM_USABLE); /* [1 MiB, 0x3FF000) */
	uint64_t base = 0;
	assert_int_equal(find_top(0x1000, 2 * MIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x200000);
	assert_int_equal(find_top(0x1000, 0x1000, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x3FE000);
	/* Any power of two works, even below a page. */
	assert_int_equal(find_top(0x10, 1, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x3FEFF0);
	/* 4 MiB alignment leaves no aligned base inside the range. */
	base = 0xdead;
	assert_int_equal(find_top(0x1000, 4 * MIB, UINT64_MAX, NULL, 0, &base), -1);
	assert_int_equal(base, 0xdead);
}

static void test_find_top_exact_fit(void **state)
{
	(void)state;
	reset();
	add(0x200000, 0x200000, MEM_USABLE);
	uint64_t base = 0;
	assert_int_equal(find_top(0x200000, 0x200000, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 0x200000);
	assert_int_equal(find_top(0x201000, 0x1000, UINT64_MAX, NULL, 0, &base), -1);
}

static void test_find_top_limit(void **state)
{
	(void)state;
	reset();
	add(1 * MIB, 63 * MIB, MEM_USABLE);
	add(4 * GIB, 4 * GIB, MEM_USABLE);
	uint64_t base = 0;
	assert_int_equal(find_top(1 * MIB, 1 * MIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 8 * GIB - 1 * MIB);
	/* Below 4 GiB: the high range is skipped entirely. */
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 4 * GIB, NULL, 0, &base), 0);
	assert_int_equal(base, 63 * MIB);
	/* A limit inside a range clips it; the block ends at or below the limit. */
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 32 * MIB, NULL, 0, &base), 0);
	assert_int_equal(base, 31 * MIB);
	assert_int_equal(find_top(1 * MIB, 4 * KIB, 32 * MIB + 0x1234, NULL, 0, &base), 0);
	assert_int_equal(base, 31 * MIB + 0x1000);
	assert_int_equal(base + 1 * MIB <= 32 * MIB + 0x1234, 1);
	/* A limit inside the high range. */
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 5 * GIB, NULL, 0, &base), 0);
	assert_int_equal(base, 5 * GIB - 1 * MIB);
	/* Limits that leave too little. */
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 1 * MIB + 0xFFFFF, NULL, 0, &base), -1);
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 1 * MIB, NULL, 0, &base), -1);
	assert_int_equal(find_top(1 * MIB, 1 * MIB, 0, NULL, 0, &base), -1);
}

static void test_find_top_skips_non_usable(void **state)
{
	(void)state;
	reset();
	add(0, 8 * MIB, MEM_USABLE);
	add(8 * MIB, 8 * MIB, MEM_RESERVED);
	add(16 * MIB, 8 * MIB, MEM_ACPI_NVS);
	add(24 * MIB, 8 * MIB, MEM_NESTBED);
	uint64_t base = 0;
	assert_int_equal(find_top(1 * MIB, 1 * MIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 7 * MIB);
	/* A block never spans two ranges, even two adjacent usable ones. */
	reset();
	add(0, 1 * MIB, MEM_USABLE);
	add(1 * MIB, 1 * MIB, MEM_USABLE);
	assert_int_equal(find_top(2 * MIB, 4 * KIB, UINT64_MAX, NULL, 0, &base), -1);
	/* Too small everywhere. */
	reset();
	add(0, 1 * MIB, MEM_USABLE);
	add(2 * MIB, 1 * MIB, MEM_USABLE);
	assert_int_equal(find_top(2 * MIB, 4 * KIB, UINT64_MAX, NULL, 0, &base), -1);
	/* The highest range too small, the lower one big enough. */
	reset();
	add(0, 16 * MIB, MEM_USABLE);
	add(32 * MIB, 1 * MIB, MEM_USABLE);
	assert_int_equal(find_top(2 * MIB, 2 * MIB, UINT64_MAX, NULL, 0, &base), 0);
	assert_int_equal(base, 14 * MIB);
}

static void test_find_top_avoid_forces_lower_block(void **state)
{
	(void)state;
	reset();
	add(0, 64 * MIB, MEM_USABLE);
	uint64_t base = 0;
	/* The module sits in the top block: the block ends below it. */
	struct mem_range avoid[] = { { 62 * MIB, 1 * MIB, 0 } };
	assert_int_equal(find_top(2 * MIB, 2 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 60 * MIB);
	/* An unaligned avoided range pushes the aligned base further down (61 MiB would
	 * fit below it, but is not 2 MiB aligned). */
	avoid[0] = (struct mem_range){ 63 * MIB, 0x1000, 0 };
	assert_int_equal(find_top(2 * MIB, 2 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 60 * MIB);
	/* A small block fits above the avoided range. */
	avoid[0] = (struct mem_range){ 60 * MIB, 1 * MIB, 0 };
	assert_int_equal(find_top(1 * MIB, 1 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 63 * MIB);
}

static void test_find_top_avoid_touching_is_no_conflict(void **state)
{
	(void)state;
	reset();
	add(0, 64 * MIB, MEM_USABLE);
	uint64_t base = 0;
	struct mem_range avoid[] = {
		{ 62 * MIB, 2 * MIB, 0 },  /* ends where the range ends */
		{ 59 * MIB, 1 * MIB, 0 },  /* ends where the block starts */
	};
	assert_int_equal(find_top(2 * MIB, 2 * MIB, UINT64_MAX, avoid, 2, &base), 0);
	assert_int_equal(base, 60 * MIB);
}

static void test_find_top_avoid_several(void **state)
{
	(void)state;
	reset();
	add(0, 64 * MIB, MEM_USABLE);
	uint64_t base = 0;
	/* Two modules in the top 8 MiB and the image below them: the first free 8 MiB
	 * block is under all three. */
	struct mem_range avoid[] = {
		{ 62 * MIB, 1 * MIB, 0 },
		{ 57 * MIB, 1 * MIB, 0 },
		{ 50 * MIB, 4 * MIB, 0 },
	};
	assert_int_equal(find_top(8 * MIB, 1 * MIB, UINT64_MAX, avoid, 3, &base), 0);
	assert_int_equal(base, 42 * MIB);
	/* In any order. */
	struct mem_range reversed[] = { avoid[2], avoid[1], avoid[0] };
	assert_int_equal(find_top(8 * MIB, 1 * MIB, UINT64_MAX, reversed, 3, &base), 0);
	assert_int_equal(base, 42 * MIB);
	/* A smaller block fits in a gap between two of them. */
	assert_int_equal(find_top(4 * MIB, 1 * MIB, UINT64_MAX, avoid, 3, &base), 0);
	assert_int_equal(base, 58 * MIB);
	assert_int_equal(find_top(3 * MIB, 1 * MIB, UINT64_MAX, avoid, 3, &base), 0);
	assert_int_equal(base, 59 * MIB);
}

static void test_find_top_avoid_pushes_to_lower_range(void **state)
{
	(void)state;
	reset();
	add(1 * MIB, 15 * MIB, MEM_USABLE);
	add(32 * MIB, 4 * MIB, MEM_USABLE);
	uint64_t base = 0;
	/* The avoided range covers most of the high range, leaving less than the size. */
	struct mem_range avoid[] = { { 33 * MIB, 2 * MIB, 0 } };
	assert_int_equal(find_top(2 * MIB, 1 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 14 * MIB);
	/* An avoided range that starts below the usable range and covers all of it. */
	avoid[0] = (struct mem_range){ 20 * MIB, 20 * MIB, 0 };
	assert_int_equal(find_top(1 * MIB, 1 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 15 * MIB);
	/* Everything avoided. */
	avoid[0] = (struct mem_range){ 0, 64 * MIB, 0 };
	base = 0xdead;
	assert_int_equal(find_top(1 * MIB, 1 * MIB, UINT64_MAX, avoid, 1, &base), -1);
	assert_int_equal(base, 0xdead);
}

static void test_find_top_avoid_with_limit(void **state)
{
	(void)state;
	qemu_like_map();
	uint64_t base = 0;
	/* nestbed's own relocation: the kernel at 1 MiB and a module right after it. */
	struct mem_range avoid[] = {
		{ 0x100000, 0x80000, 0 },
		{ 0x1FB00000, 0x400000, 0 },
	};
	assert_int_equal(find_top(64 * MIB, 2 * MIB, 4 * GIB, avoid, 2, &base), 0);
	assert_int_equal(base, 0x1FA00000 - 64 * MIB);
	assert_int_equal(base % (2 * MIB), 0);
}

static void test_find_top_rejects_bad_arguments(void **state)
{
	(void)state;
	reset();
	add(0, 64 * MIB, MEM_USABLE);
	uint64_t base = 0xdead;
	assert_int_equal(find_top(0, 4 * KIB, UINT64_MAX, NULL, 0, &base), -1);
	assert_int_equal(find_top(1 * MIB, 0, UINT64_MAX, NULL, 0, &base), -1);
	assert_int_equal(find_top(1 * MIB, 3 * KIB, UINT64_MAX, NULL, 0, &base), -1);
	assert_int_equal(find_top(1 * MIB, 0x3000, UINT64_MAX, NULL, 0, &base), -1);
	assert_int_equal(base, 0xdead);
	nr = 0;
	assert_int_equal(find_top(1 * MIB, 4 * KIB, UINT64_MAX, NULL, 0, &base), -1);
}

/* Was a bug (src/core/memmap.c, memmap_find_top, helper overlaps()): a zero-length avoided range
 * strictly inside the candidate block counts as a conflict (overlaps(a, alen, b, 0) is
 * a < b && b < a + alen), although an empty range overlaps nothing (memmap.h: "overlapping
 * none of `avoid`"). relocate_high() passes every Multiboot module, so an empty module
 * pushes nestbed's region below where it fits. Expected base 60 MiB, got 58 MiB. */
static void test_fixed_find_top_zero_length_avoid(void **state)
{
	(void)state;
	reset();
	add(0, 64 * MIB, MEM_USABLE);
	uint64_t base = 0;
	struct mem_range avoid[] = { { 63 * MIB, 0, 0 } };
	assert_int_equal(find_top(4 * MIB, 2 * MIB, UINT64_MAX, avoid, 1, &base), 0);
	assert_int_equal(base, 60 * MIB);
}

/* ---- memmap_is_usable ---- */

static void test_is_usable(void **state)
{
	(void)state;
	qemu_like_map();
	sanitize();
	assert_true(memmap_is_usable(map, nr, 0, 0x9FC00));
	assert_false(memmap_is_usable(map, nr, 0, 0x9FC01));
	assert_true(memmap_is_usable(map, nr, 1 * MIB, 16 * MIB));
	assert_true(memmap_is_usable(map, nr, 0x1FFDF000, 0x1000)); /* last usable page */
	assert_false(memmap_is_usable(map, nr, 0x1FFDF000, 0x1001));
	assert_false(memmap_is_usable(map, nr, 0xA0000, 0x1000));  /* hole */
	assert_false(memmap_is_usable(map, nr, 0xF0000, 0x1000));  /* reserved */
	assert_false(memmap_is_usable(map, nr, 0x9F000, 0x62000)); /* spans a hole */
	assert_false(memmap_is_usable(map, nr, 1 * GIB, 0x1000));  /* above all RAM */
	assert_false(memmap_is_usable(map, nr, 0xFFFC0000, 0x1000));
}

static void test_is_usable_across_adjacent_ranges(void **state)
{
	(void)state;
	/* Two usable ranges that a sanitized map cannot have adjacent unless separated by a
	 * different type: check the walk continues across an unmerged boundary too. */
	reset();
	add(0x0000, 0x1000, MEM_USABLE);
	add(0x1000, 0x1000, MEM_USABLE);
	add(0x2000, 0x1000, MEM_USABLE);
	assert_true(memmap_is_usable(map, nr, 0x800, 0x2000));
	assert_true(memmap_is_usable(map, nr, 0, 0x3000));
	assert_false(memmap_is_usable(map, nr, 0, 0x3001));

	reset();
	add(0x0000, 0x1000, MEM_USABLE);
	add(0x1000, 0x1000, MEM_NESTBED);
	add(0x2000, 0x1000, MEM_USABLE);
	assert_false(memmap_is_usable(map, nr, 0x800, 0x2000));
	assert_true(memmap_is_usable(map, nr, 0x2000, 0x1000));
	assert_false(memmap_is_usable(map, nr, 0x1000, 1));
}

static void test_is_usable_zero_size(void **state)
{
	(void)state;
	reset();
	add(0, 0x1000, MEM_USABLE);
	assert_true(memmap_is_usable(map, nr, 0x800, 0));
	assert_true(memmap_is_usable(map, 0, 0x800, 0));
	assert_false(memmap_is_usable(map, 0, 0x800, 1));
}

/* Was a bug (src/core/memmap.c, memmap_is_usable): end = base + size wraps around 2^64, so the
 * loop never runs and cursor (= base) >= end answers true for a range that is not memory at
 * all. E.g. base 0xFFFFFFFFFFFFF000, size 0x2000 over a map with only [0, 0x1000) usable:
 * expected false, got true. */
static void test_fixed_is_usable_wrapping_range(void **state)
{
	(void)state;
	reset();
	add(0, 0x1000, MEM_USABLE);
	assert_false(memmap_is_usable(map, nr, 0xFFFFFFFFFFFFF000ull, 0x2000));
}

/* ---- memmap_identity_end ---- */

static void test_identity_end(void **state)
{
	(void)state;
	/* QEMU's map ends at 4 GiB (the BIOS ROM): exactly the minimum */
	qemu_like_map();
	assert_int_equal(memmap_identity_end(map, nr), 4 * GIB);
	assert_int_equal(memmap_identity_end(map, 0), 4 * GIB);
	/* RAM above 4 GiB: its end, rounded up to 1 GiB, whatever the type and order */
	reset();
	add(4 * GIB, 1 * GIB + 0x1000, MEM_RESERVED);
	add(0, 1 * MIB, MEM_USABLE);
	assert_int_equal(memmap_identity_end(map, nr), 6 * GIB);
}

/* ---- memmap_top ---- */

static void test_top(void **state)
{
	(void)state;
	qemu_like_map();
	assert_int_equal(memmap_top(map, nr, MEM_USABLE), 0x1FFE0000);
	assert_int_equal(memmap_top(map, nr, MEM_RESERVED), 4 * GIB);
	assert_int_equal(memmap_top(map, nr, MEM_ACPI_NVS), 0);
	assert_int_equal(memmap_top(map, 0, MEM_USABLE), 0);
	/* Does not rely on order. */
	reset();
	add(4 * GIB, 1 * GIB, MEM_USABLE);
	add(0, 1 * MIB, MEM_USABLE);
	assert_int_equal(memmap_top(map, nr, MEM_USABLE), 5 * GIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_sanitize_empty),
		cmocka_unit_test(test_sanitize_sorts_by_base),
		cmocka_unit_test(test_sanitize_drops_zero_length),
		cmocka_unit_test(test_sanitize_merges_adjacent_equal_types),
		cmocka_unit_test(test_sanitize_keeps_adjacent_different_types),
		cmocka_unit_test(test_sanitize_keeps_gaps),
		cmocka_unit_test(test_sanitize_reserved_splits_usable),
		cmocka_unit_test(test_sanitize_usable_never_beats_other_types),
		cmocka_unit_test(test_sanitize_higher_type_wins_among_non_usable),
		cmocka_unit_test(test_sanitize_nestbed_beats_everything),
		cmocka_unit_test(test_sanitize_duplicates_and_containment),
		cmocka_unit_test(test_sanitize_many_overlaps),
		cmocka_unit_test(test_sanitize_idempotent),
		cmocka_unit_test(test_sanitize_respects_max),
		cmocka_unit_test(test_sanitize_full_table),
		cmocka_unit_test(test_sanitize_drops_wrapping_range),
		cmocka_unit_test(test_sanitize_high_addresses),
		cmocka_unit_test(test_carve_splits_in_three),
		cmocka_unit_test(test_carve_at_edges),
		cmocka_unit_test(test_carve_twice_keeps_map_sanitized),
		cmocka_unit_test(test_carve_across_ranges_and_holes),
		cmocka_unit_test(test_carve_reserved_type),
		cmocka_unit_test(test_carve_zero_size_is_a_no_op),
		cmocka_unit_test(test_carve_refuses_when_full),
		cmocka_unit_test(test_carve_fits_exactly),
		cmocka_unit_test(test_fixed_carve_split_in_three_exceeds_max),
		cmocka_unit_test(test_carve_split_in_a_full_table),
		cmocka_unit_test(test_find_top_highest_block),
		cmocka_unit_test(test_find_top_alignment),
		cmocka_unit_test(test_find_top_exact_fit),
		cmocka_unit_test(test_find_top_limit),
		cmocka_unit_test(test_find_top_skips_non_usable),
		cmocka_unit_test(test_find_top_avoid_forces_lower_block),
		cmocka_unit_test(test_find_top_avoid_touching_is_no_conflict),
		cmocka_unit_test(test_find_top_avoid_several),
		cmocka_unit_test(test_find_top_avoid_pushes_to_lower_range),
		cmocka_unit_test(test_find_top_avoid_with_limit),
		cmocka_unit_test(test_find_top_rejects_bad_arguments),
		cmocka_unit_test(test_fixed_find_top_zero_length_avoid),
		cmocka_unit_test(test_is_usable),
		cmocka_unit_test(test_is_usable_across_adjacent_ranges),
		cmocka_unit_test(test_is_usable_zero_size),
		cmocka_unit_test(test_fixed_is_usable_wrapping_range),
		cmocka_unit_test(test_identity_end),
		cmocka_unit_test(test_top),
	};
	return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
