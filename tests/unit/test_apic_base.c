/* covers: src/core/apic_base.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/apic_base.h"

/* nestbed owns [0x7f00000, 0x8000000) in these tests */
static bool owns(uint64_t pa, uint64_t len)
{
	return pa < 0x8000000ull && 0x7f00000ull < pa + len;
}

static enum apic_base_verdict check(uint64_t value, unsigned maxphyaddr, bool x2apic)
{
	return apic_base_check(value, maxphyaddr, x2apic, owns);
}

static void test_default_and_moves(void **state)
{
	(void)state;
	assert_int_equal(check(0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP, 40, false), APIC_BASE_OK);
	assert_int_equal(check(0xfee00000ull | APIC_BASE_EN, 40, false), APIC_BASE_OK);
	assert_int_equal(check(0x00200000ull | APIC_BASE_EN, 40, false), APIC_BASE_OK);
	assert_int_equal(check(0xfee00000ull, 40, false), APIC_BASE_OK); /* disabled */
	/* x2APIC mode only where the CPU has it */
	assert_int_equal(check(0xfee00000ull | APIC_BASE_EN | APIC_BASE_EXTD, 40, true), APIC_BASE_OK);
	assert_int_equal(check(0xfee00000ull | APIC_BASE_EN | APIC_BASE_EXTD, 40, false),
			 APIC_BASE_RESERVED);
}

static void test_reserved_bits(void **state)
{
	(void)state;
	for (unsigned bit = 0; bit < 8; bit++)
		assert_int_equal(check(0xfee00000ull | APIC_BASE_EN | (1ull << bit), 40, true),
				 APIC_BASE_RESERVED);
	assert_int_equal(check(0xfee00000ull | APIC_BASE_EN | (1ull << 9), 40, true), APIC_BASE_RESERVED);
	/* the address bits stop below MAXPHYADDR */
	assert_int_equal(check((1ull << 39) | APIC_BASE_EN, 40, false), APIC_BASE_OK);
	assert_int_equal(check((1ull << 40) | APIC_BASE_EN, 40, false), APIC_BASE_RESERVED);
	assert_int_equal(check((1ull << 63) | APIC_BASE_EN, 52, false), APIC_BASE_RESERVED);
	assert_int_equal(check((1ull << 51) | APIC_BASE_EN, 52, false), APIC_BASE_OK);
}

static void test_nestbed_memory(void **state)
{
	(void)state;
	/* the first, a middle and the last page of nestbed's range; enabled or not */
	assert_int_equal(check(0x7f00000ull | APIC_BASE_EN, 40, false), APIC_BASE_ON_NESTBED);
	assert_int_equal(check(0x7f80000ull | APIC_BASE_EN, 40, false), APIC_BASE_ON_NESTBED);
	assert_int_equal(check(0x7fff000ull | APIC_BASE_EN, 40, false), APIC_BASE_ON_NESTBED);
	assert_int_equal(check(0x7f80000ull, 40, false), APIC_BASE_ON_NESTBED);
	assert_int_equal(check(0x7f80000ull | APIC_BASE_EN | APIC_BASE_EXTD, 40, true),
			 APIC_BASE_ON_NESTBED);
	/* the pages just outside */
	assert_int_equal(check(0x7eff000ull | APIC_BASE_EN, 40, false), APIC_BASE_OK);
	assert_int_equal(check(0x8000000ull | APIC_BASE_EN, 40, false), APIC_BASE_OK);
	/* reserved bits are reported first, as the CPU would refuse them anyway */
	assert_int_equal(check(0x7f80000ull | 1, 40, false), APIC_BASE_RESERVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_and_moves),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_nestbed_memory),
	};
	return cmocka_run_group_tests_name("apic_base", tests, NULL, NULL);
}
