/* covers: src/core/cr0_write.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/cr0_write.h"

#define PROT (CR0_PE | CR0_ET)

static int write(uint64_t cr0, uint64_t cr4, uint64_t efer, bool cs_l, uint64_t value,
		 struct cr0_write_effect *out)
{
	struct cr0_write_view v = { .cr0 = cr0, .cr4 = cr4, .efer = efer, .cs_l = cs_l };
	return cr0_write(&v, value, out);
}

static void test_gp_rules(void **state)
{
	(void)state;
	struct cr0_write_effect e;
	assert_int_equal(write(PROT, 0, 0, false, PROT | (1ull << 32), &e), -1);
	assert_int_equal(write(PROT, 0, 0, false, CR0_PG | CR0_ET, &e), -1);          /* PG without PE */
	assert_int_equal(write(PROT, 0, 0, false, PROT | CR0_NW, &e), -1);            /* NW without CD */
	assert_int_equal(write(PROT, 0, 0, false, PROT | CR0_NW | CR0_CD, &e), 0);
	/* activating long mode needs CR4.PAE and CS.L clear (APM 14.6.1) */
	assert_int_equal(write(PROT, 0, EFER_LME, false, PROT | CR0_PG, &e), -1);
	assert_int_equal(write(PROT, CR4_PAE, EFER_LME, true, PROT | CR0_PG, &e), -1);
	/* leaving paging from 64-bit code: #GP; from compatibility mode: allowed */
	uint64_t lma = EFER_LME | EFER_LMA;
	assert_int_equal(write(PROT | CR0_PG, CR4_PAE, lma, true, PROT, &e), -1);
	assert_int_equal(write(PROT | CR0_PG, CR4_PAE, lma, false, PROT, &e), 0);
	assert_int_equal(e.efer, EFER_LME);
	assert_true(e.pg_off);
	assert_false(e.pg_on);
	assert_true(e.flush_tlb);
}

static void test_long_mode_activation(void **state)
{
	(void)state;
	struct cr0_write_effect e;
	assert_int_equal(write(PROT, CR4_PAE, EFER_LME, false, PROT | CR0_PG, &e), 0);
	assert_int_equal(e.efer, EFER_LME | EFER_LMA);
	assert_true(e.pg_on);
	/* without LME, paging is legacy paging: LMA stays clear, PAE is not needed */
	assert_int_equal(write(PROT, 0, 0, false, PROT | CR0_PG, &e), 0);
	assert_int_equal(e.efer, 0);
	/* TS alone does not touch translations */
	assert_int_equal(write(PROT, 0, 0, false, PROT | CR0_TS, &e), 0);
	assert_false(e.flush_tlb);
	assert_int_equal(write(PROT, 0, 0, false, PROT | CR0_WP, &e), 0);
	assert_true(e.flush_tlb);
}

static void test_lmsw(void **state)
{
	(void)state;
	assert_int_equal(cr0_lmsw_value(PROT | CR0_PG, 0), PROT | CR0_PG); /* never clears PE */
	assert_int_equal(cr0_lmsw_value(CR0_ET, 0xffff), CR0_ET | CR0_LMSW_BITS);
	assert_int_equal(cr0_lmsw_value(PROT | CR0_TS, CR0_MP), PROT | CR0_MP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gp_rules),
		cmocka_unit_test(test_long_mode_activation),
		cmocka_unit_test(test_lmsw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
