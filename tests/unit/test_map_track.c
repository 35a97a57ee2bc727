/* covers: src/nested/map_track.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "nested/map_track.h"

static struct map_track t;

static int setup(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	return 0;
}

/* The first dependant of a page protects it; a second one does not protect again. */
static void add_reports_new_pages(void **state)
{
	(void)state;
	assert_int_equal(map_track_add(&t, 0x5000, 0), 1);
	assert_int_equal(map_track_add(&t, 0x5fff, 1), 0); /* same page, another vCPU */
	assert_int_equal(map_track_add(&t, 0x5000, 0), 0); /* again */
	assert_int_equal(map_track_add(&t, 0x6000, 0), 1);
	assert_true(map_track_has(&t, 0x5abc));
	assert_true(map_track_has(&t, 0x6000));
	assert_false(map_track_has(&t, 0x7000));
	assert_int_equal(t.nr, 2);
	assert_int_equal(map_track_add(&t, 0x8000, MAP_TRACK_MAX_VCPUS), -1);
}

/* A write makes every dependant stale and untracks the page; a second write to it (the
 * retried instruction) is nobody's business. */
static void write_returns_dependants(void **state)
{
	(void)state;
	map_track_add(&t, 0x5000, 0);
	map_track_add(&t, 0x5000, 3);
	map_track_add(&t, 0x9000, 3);
	assert_int_equal(map_track_write(&t, 0x5008), (1ull << 0) | (1ull << 3));
	assert_false(map_track_has(&t, 0x5000));
	assert_true(map_track_has(&t, 0x9000));
	assert_int_equal(map_track_write(&t, 0x5008), 0);
	assert_int_equal(map_track_write(&t, 0x123000), 0);
}

/* Dropping a vCPU frees exactly the pages nobody else needs. */
static void drop_frees_unshared_pages(void **state)
{
	(void)state;
	map_track_add(&t, 0x1000, 1);
	map_track_add(&t, 0x2000, 1);
	map_track_add(&t, 0x2000, 2);
	map_track_add(&t, 0x3000, 1);
	map_track_add(&t, 0x4000, 2);
	uint64_t freed[8];
	unsigned n = map_track_drop_vcpu(&t, 1, freed, 8);
	assert_int_equal(n, 2);
	assert_true((freed[0] == 0x1000 && freed[1] == 0x3000) ||
		    (freed[0] == 0x3000 && freed[1] == 0x1000));
	assert_true(map_track_has(&t, 0x2000));
	assert_true(map_track_has(&t, 0x4000));
	assert_int_equal(t.nr, 2);
	assert_int_equal(map_track_write(&t, 0x2000), 1ull << 2);
	assert_int_equal(map_track_drop_vcpu(&t, 1, freed, 8), 0);
}

static void table_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < MAP_TRACK_MAX_PAGES; i++)
		assert_int_equal(map_track_add(&t, (uint64_t)(i + 1) << 12, i % MAP_TRACK_MAX_VCPUS), 1);
	assert_int_equal(map_track_add(&t, 0xfff000000ull, 0), -1);
	assert_int_equal(map_track_add(&t, 1ull << 12, 5), 0); /* known pages still join */
}

static void cache_reuse(void **state)
{
	(void)state;
	struct map_cache c = { .valid = true, .key = { 0x10000, 0x20000, 0 } };
	uint64_t same[3] = { 0x10000, 0x20000, 0 }, other[3] = { 0x10000, 0x21000, 0 };
	assert_true(map_cache_reusable(&c, same));
	assert_false(map_cache_reusable(&c, other));
	c.stale = 1;
	assert_false(map_cache_reusable(&c, same));
	c.stale = 0;
	c.filled = true;
	assert_false(map_cache_reusable(&c, same));
	c.filled = false;
	c.valid = false;
	assert_false(map_cache_reusable(&c, same));
}

/* nestbed's own bits: collected once, ORed into a merge word by word. */
static void own_words(void **state)
{
	(void)state;
	uint64_t map[1536] = { 0 };
	map[3] = 0x10;
	map[1535] = 1ull << 63;
	struct map_word w[4];
	assert_int_equal(map_words_collect(map, 1536, w, 4), 2);
	assert_int_equal(w[0].index, 3);
	assert_int_equal(w[1].index, 1535);
	uint64_t merged[1536];
	memset(merged, 0, sizeof(merged));
	merged[3] = 0x1;
	map_words_or(merged, w, 2);
	assert_int_equal(merged[3], 0x11);
	assert_int_equal(merged[1535], 1ull << 63);
	assert_int_equal(merged[4], 0);
	assert_int_equal(map_words_collect(map, 1536, w, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(add_reports_new_pages, setup),
		cmocka_unit_test_setup(write_returns_dependants, setup),
		cmocka_unit_test_setup(drop_frees_unshared_pages, setup),
		cmocka_unit_test_setup(table_full, setup),
		cmocka_unit_test_setup(cache_reuse, setup),
		cmocka_unit_test_setup(own_words, setup),
	};
	return cmocka_run_group_tests_name("map_track", tests, NULL, NULL);
}
