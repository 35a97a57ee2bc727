/* covers: guests/lib/memory_map.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/memory_map.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

/* QEMU's map for -m 256, as the guest printed it. */
static const struct memory_range qemu_256m[] = {
	{ 0x0, 0x9fc00, MEMORY_USABLE },
	{ 0x9fc00, 0x400, MEMORY_RESERVED },
	{ 0xf0000, 0x10000, MEMORY_RESERVED },
	{ 0x100000, 0xfee0000, MEMORY_USABLE },
	{ 0xffe0000, 0x20000, MEMORY_RESERVED },
	{ 0xfffc0000, 0x40000, MEMORY_RESERVED },
	{ 0xfd00000000, 0x300000000, MEMORY_RESERVED },
};
#define QEMU_COUNT (sizeof(qemu_256m) / sizeof(qemu_256m[0]))

static void test_runs(void **state)
{
	(void)state;
	assert_int_equal(memory_usable_run(qemu_256m, QEMU_COUNT, 0), 639 * KIB);
	assert_int_equal(memory_usable_run(qemu_256m, QEMU_COUNT, MIB), 260992 * KIB);
	assert_int_equal(memory_usable_run(qemu_256m, QEMU_COUNT, 0x9fc00), 0);
	assert_int_equal(memory_usable_run(qemu_256m, QEMU_COUNT, 0x200000), 0xfee0000 - 0x100000);
	assert_true(memory_usable_covers(qemu_256m, QEMU_COUNT, 0x100000, 0x11e9d0));
	assert_false(memory_usable_covers(qemu_256m, QEMU_COUNT, 0x9f000, 0xa0000));
	assert_true(memory_usable_covers(qemu_256m, QEMU_COUNT, 5, 5)); /* empty */
}

static void test_adjacent_and_unsorted_ranges_merge(void **state)
{
	(void)state;
	static const struct memory_range split[] = {
		{ 0x300000, 0x100000, MEMORY_USABLE },
		{ 0x100000, 0x100000, MEMORY_USABLE },
		{ 0x200000, 0x100000, MEMORY_USABLE },
		{ 0x400000, 0x1000, MEMORY_RESERVED },
		{ 0x401000, 0x1000, MEMORY_USABLE },
	};
	assert_int_equal(memory_usable_run(split, 5, 0x100000), 0x300000);
	assert_int_equal(memory_usable_run(split, 5, 0x180000), 0x280000);
	assert_false(memory_usable_covers(split, 5, 0x100000, 0x402000));
	unsigned a, b;
	assert_false(memory_usable_overlap(split, 5, &a, &b));
}

static void test_overlap(void **state)
{
	(void)state;
	static const struct memory_range overlapping[] = {
		{ 0x0, 0x1000, MEMORY_RESERVED },
		{ 0x100000, 0x200000, MEMORY_USABLE },
		{ 0x0, 0x200000, MEMORY_RESERVED }, /* reserved over usable: not our question */
		{ 0x2ff000, 0x2000, MEMORY_USABLE },
	};
	unsigned a = 99, b = 99;
	assert_true(memory_usable_overlap(overlapping, 4, &a, &b));
	assert_int_equal(a, 1);
	assert_int_equal(b, 3);

	assert_false(memory_usable_overlap(qemu_256m, QEMU_COUNT, &a, &b));
}

static void test_empty_and_wrapping_ranges(void **state)
{
	(void)state;
	static const struct memory_range odd[] = {
		{ 0x1000, 0, MEMORY_USABLE },                  /* empty: ignored */
		{ UINT64_MAX - 0xfff, 0x2000, MEMORY_USABLE }, /* wraps: saturated */
	};
	assert_int_equal(memory_range_end(&odd[1]), UINT64_MAX);
	assert_int_equal(memory_usable_run(odd, 2, 0x1000), 0);
	assert_int_equal(memory_usable_run(odd, 2, UINT64_MAX - 0xfff), 0xfff);
	unsigned a, b;
	assert_false(memory_usable_overlap(odd, 2, &a, &b));
	assert_string_equal(memory_type_name(MEMORY_ACPI_NVS), "ACPI NVS");
	assert_string_equal(memory_type_name(42), "other");
}

static void test_normalize_sorts_and_merges(void **state)
{
	(void)state;
	struct memory_range m[] = {
		{ 0x100000, 0x100000, MEMORY_USABLE },
		{ 0x0, 0x9f000, MEMORY_USABLE },
		{ 0x9f000, 0x1000, MEMORY_RESERVED },
		{ 0x300000, 0x0, MEMORY_RESERVED }, /* empty: dropped */
		{ 0x200000, 0x100000, MEMORY_USABLE },
		{ 0xa0000, 0x1000, MEMORY_RESERVED }, /* touches the reserved page before it */
		{ 0x400000, 0x1000, MEMORY_USABLE },  /* a gap before it: stays apart */
	};
	unsigned n = memory_map_normalize(m, 7);
	assert_int_equal(n, 4);
	assert_int_equal(m[0].base, 0);
	assert_int_equal(m[0].length, 0x9f000);
	assert_int_equal(m[1].base, 0x9f000);
	assert_int_equal(m[1].length, 0x2000);
	assert_int_equal(m[2].base, 0x100000);
	assert_int_equal(m[2].length, 0x200000);
	assert_int_equal(m[3].base, 0x400000);
	const struct memory_range same[] = {
		{ 0, 0x9f000, MEMORY_USABLE }, { 0x9f000, 0x2000, MEMORY_RESERVED },
		{ 0x100000, 0x200000, MEMORY_USABLE }, { 0x400000, 0x1000, MEMORY_USABLE },
	};
	assert_int_equal(memory_map_first_difference(m, n, same, 4), 4);
	struct memory_range other[4];
	memcpy(other, same, sizeof(other));
	other[1].type = MEMORY_USABLE;
	assert_int_equal(memory_map_first_difference(m, n, other, 4), 1);
	assert_int_equal(memory_map_first_difference(m, n, same, 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_adjacent_and_unsorted_ranges_merge),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_empty_and_wrapping_ranges),
		cmocka_unit_test(test_normalize_sorts_and_merges),
	};
	return cmocka_run_group_tests_name("guest_memory_map", tests, NULL, NULL);
}
