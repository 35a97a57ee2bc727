/* covers: guests/lib/tdp.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/tdp.h"

static uint64_t pool[TDP_POOL_PAGES][512] __attribute__((aligned(4096)));

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)

static void test_identity(void **state)
{
	(void)state;
	for (int f = TDP_NPT; f <= TDP_EPT; f++) {
		struct tdp t;
		assert_int_equal(tdp_build_identity(&t, (enum tdp_format)f, &pool), 0);
		assert_int_equal(tdp_root_pa(&t), (uint64_t)(uintptr_t)pool[0]);
		assert_int_equal(t.used, 6); /* PML4, PDPT, 4 page directories */
		uint64_t probes[] = { 0, 0x1000, 0x1fffff, 2 * MIB, GIB + 123, 4 * GIB - 1 };
		for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			assert_int_equal(tdp_rights(&t, probes[i]), TDP_RWX);
		assert_int_equal(tdp_rights(&t, 4 * GIB), 0); /* outside the map */
	}
}

static void test_npt_entries_are_user(void **state)
{
	(void)state;
	struct tdp t;
	assert_int_equal(tdp_build_identity(&t, TDP_NPT, &pool), 0);
	/* Every level: present, writable, user (nested walks are user accesses). */
	assert_true((t.root[0] & (NPT_P | NPT_W | NPT_U)) == (NPT_P | NPT_W | NPT_U));
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(t.root[0] & TDP_ADDR_MASK);
	uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[1] & TDP_ADDR_MASK);
	assert_int_equal(pd[3], (GIB + 3 * 2 * MIB) | NPT_P | NPT_W | NPT_U | NPT_PS);
}

static void test_ept_leaf_format(void **state)
{
	(void)state;
	assert_int_equal(tdp_leaf_value(TDP_EPT, 0x200000, TDP_RWX, true),
			 0x200000 | EPT_R | EPT_W | EPT_X | EPT_MEMTYPE_WB | EPT_PS);
	assert_int_equal(tdp_leaf_value(TDP_EPT, 0x3000, TDP_X, false), 0x3000 | EPT_X | EPT_MEMTYPE_WB);
	assert_int_equal(tdp_leaf_value(TDP_EPT, 0x3000, 0, false), 0);
	assert_int_equal(tdp_leaf_value(TDP_NPT, 0x3000, TDP_R, false), 0x3000 | NPT_P | NPT_U | NPT_NX);
	assert_int_equal(tdp_leaf_value(TDP_NPT, 0x3000, TDP_R | TDP_X, false), 0x3000 | NPT_P | NPT_U);
}

static void test_set_page_splits(void **state)
{
	(void)state;
	for (int f = TDP_NPT; f <= TDP_EPT; f++) {
		struct tdp t;
		assert_int_equal(tdp_build_identity(&t, (enum tdp_format)f, &pool), 0);
		uint64_t gpa = 0x12345678;
		assert_int_equal(tdp_set_page(&t, gpa, 0), 0);
		assert_int_equal(t.used, 7); /* one page table for the split */
		assert_int_equal(tdp_rights(&t, gpa & ~0xfffull), 0);
		assert_int_equal(tdp_rights(&t, (gpa & ~0xfffull) + 0xfff), 0);
		/* The neighbours in the same 2 MiB keep their rights. */
		assert_int_equal(tdp_rights(&t, (gpa & ~0xfffull) - 1), TDP_RWX);
		assert_int_equal(tdp_rights(&t, (gpa & ~0xfffull) + 0x1000), TDP_RWX);
		/* A second page in the same 2 MiB needs no new table. */
		assert_int_equal(tdp_set_page(&t, gpa + 0x1000, TDP_R | TDP_X), 0);
		assert_int_equal(t.used, 7);
		assert_int_equal(tdp_rights(&t, gpa + 0x1000), TDP_R | TDP_X);
		/* Back to full rights. */
		assert_int_equal(tdp_set_page(&t, gpa, TDP_RWX), 0);
		assert_int_equal(tdp_rights(&t, gpa), TDP_RWX);
		/* The leaf entry maps the page to itself. */
		uint64_t *leaf = tdp_leaf_entry(&t, gpa);
		assert_non_null(leaf);
		assert_int_equal(*leaf & TDP_ADDR_MASK, gpa & ~0xfffull);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	struct tdp t;
	assert_int_equal(tdp_build_identity(&t, TDP_NPT, &pool), 0);
	/* NPT has no write-only or execute-only pages (R is the present bit). */
	assert_int_equal(tdp_set_page(&t, 0x1000, TDP_W), -1);
	assert_int_equal(tdp_set_page(&t, 0x1000, TDP_X), -1);
	assert_int_equal(tdp_set_page(&t, 0x1000, 8), -1);
	assert_int_equal(tdp_set_page(&t, 4 * GIB, 0), -1);
	assert_null(tdp_leaf_entry(&t, 4 * GIB + 5));

	assert_int_equal(tdp_build_identity(&t, TDP_EPT, &pool), 0);
	assert_int_equal(tdp_set_page(&t, 0x1000, TDP_X), 0);
	assert_int_equal(tdp_rights(&t, 0x1000), TDP_X);
}

static void test_pool_exhaustion(void **state)
{
	(void)state;
	struct tdp t;
	assert_int_equal(tdp_build_identity(&t, TDP_EPT, &pool), 0);
	unsigned splits = TDP_POOL_PAGES - 6;
	for (unsigned i = 0; i < splits; i++)
		assert_int_equal(tdp_set_page(&t, i * 2 * MIB, 0), 0);
	assert_int_equal(t.used, TDP_POOL_PAGES);
	assert_int_equal(tdp_set_page(&t, splits * 2 * MIB, 0), -1);
	/* Pages in regions already split still work. */
	assert_int_equal(tdp_set_page(&t, 0x5000, TDP_R), 0);
	assert_int_equal(tdp_rights(&t, 0x5000), TDP_R);
	assert_int_equal(tdp_rights(&t, splits * 2 * MIB), TDP_RWX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_npt_entries_are_user),
		cmocka_unit_test(test_ept_leaf_format),
		cmocka_unit_test(test_set_page_splits),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_pool_exhaustion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
