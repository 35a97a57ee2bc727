/* covers: src/core/apic_icr.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/apic_icr.h"

/* Linux's wakeup_secondary_cpu_via_init: INIT assert (level), INIT de-assert, then
 * STARTUP with the trampoline's page number, physical destination in ICR high. */
static void linux_init_sipi_sequence(void **state)
{
	(void)state;
	bool unsupported;
	struct icr init = icr_decode(0x0000c500u, 3u << 24, false);
	assert_int_equal(init.delivery, ICR_INIT);
	assert_true(init.assert);
	assert_true(init.level_trigger);
	assert_false(icr_is_init_deassert(&init));
	assert_int_equal(init.dest, 3);
	assert_true(icr_targets(&init, 0, 3, false, &unsupported));
	assert_false(icr_targets(&init, 0, 1, false, &unsupported));
	assert_false(unsupported);

	struct icr deassert = icr_decode(0x00008500u, 3u << 24, false);
	assert_true(icr_is_init_deassert(&deassert));

	struct icr sipi = icr_decode(0x00000699u, 3u << 24, false);
	assert_int_equal(sipi.delivery, ICR_STARTUP);
	assert_int_equal(sipi.vector, 0x99);
	assert_true(icr_targets(&sipi, 0, 3, false, &unsupported));
}

static void shorthands(void **state)
{
	(void)state;
	bool unsupported;
	struct icr all_but_self = icr_decode(0x000c4500u, 0, false);
	assert_int_equal(all_but_self.shorthand, ICR_ALL_EXCLUDING_SELF);
	assert_false(icr_targets(&all_but_self, 2, 2, false, &unsupported));
	assert_true(icr_targets(&all_but_self, 2, 0, false, &unsupported));
	struct icr all = icr_decode(0x00080000u | 0x600u, 0, false);
	assert_true(icr_targets(&all, 2, 2, false, &unsupported));
	struct icr self = icr_decode(0x00040030u, 0, false);
	assert_true(icr_targets(&self, 5, 5, false, &unsupported));
	assert_false(icr_targets(&self, 5, 4, false, &unsupported));
}

static void broadcast_and_x2apic(void **state)
{
	(void)state;
	bool unsupported;
	struct icr bcast = icr_decode(0x00004500u, 0xffu << 24, false);
	assert_true(icr_targets(&bcast, 0, 7, false, &unsupported));
	/* x2APIC: the destination is ICR bits 63:32, all 32 of them */
	struct icr x2 = icr_decode(0x00000600u | 0x10, 300, true);
	assert_int_equal(x2.dest, 300);
	assert_true(icr_targets(&x2, 0, 300, true, &unsupported));
	assert_false(icr_targets(&x2, 0, 300 & 0xff, true, &unsupported));
}

static void logical_destination_is_reported(void **state)
{
	(void)state;
	bool unsupported;
	struct icr logical = icr_decode(0x00004d00u, 1u << 24, false);
	assert_true(logical.logical);
	assert_false(icr_targets(&logical, 0, 0, false, &unsupported));
	assert_true(unsupported);
}

static void encode_round_trip(void **state)
{
	(void)state;
	uint32_t lows[] = { 0x0000c500u, 0x00000699u, 0x000c4500u, 0x00004d00u, 0x000000ffu };
	for (unsigned i = 0; i < sizeof(lows) / sizeof(lows[0]); i++) {
		struct icr d = icr_decode(lows[i], 0, false);
		assert_int_equal(icr_encode_low(&d), lows[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linux_init_sipi_sequence),
		cmocka_unit_test(shorthands),
		cmocka_unit_test(broadcast_and_x2apic),
		cmocka_unit_test(logical_destination_is_reported),
		cmocka_unit_test(encode_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
