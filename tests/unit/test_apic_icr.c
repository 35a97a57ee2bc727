/* covers: src/core/apic_icr.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/apic_icr.h"

#define FLAT 0xffffffffu      /* DFR: flat model (bits 31:28 = 1111b) */
#define CLUSTER 0x0fffffffu   /* DFR: cluster model (bits 31:28 = 0000b) */

/* A CPU with an APIC ID and the reset LDR/DFR (11.4.7.1). */
static struct icr_target cpu(uint32_t id)
{
	return (struct icr_target){ .apic_id = id, .ldr = APIC_LDR_RESET, .dfr = APIC_DFR_RESET };
}

static struct icr_target xapic_logical(uint32_t id, uint8_t logical_id, uint32_t dfr)
{
	return (struct icr_target){ .apic_id = id, .ldr = (uint32_t)logical_id << 24, .dfr = dfr };
}

/* Linux's wakeup_secondary_cpu_via_init: INIT assert (level), INIT de-assert, then
 * STARTUP with the trampoline's page number, physical destination in ICR high. */
static void linux_init_sipi_sequence(void **state)
{
	(void)state;
	struct icr init = icr_decode(0x0000c500u, 3u << 24, false);
	assert_int_equal(init.delivery, ICR_INIT);
	assert_true(init.assert);
	assert_true(init.level_trigger);
	assert_false(icr_is_init_deassert(&init));
	assert_int_equal(init.dest, 3);
	struct icr_target c3 = cpu(3), c1 = cpu(1);
	assert_true(icr_targets(&init, 0, &c3, false));
	assert_false(icr_targets(&init, 0, &c1, false));

	struct icr deassert = icr_decode(0x00008500u, 3u << 24, false);
	assert_true(icr_is_init_deassert(&deassert));

	struct icr sipi = icr_decode(0x00000699u, 3u << 24, false);
	assert_int_equal(sipi.delivery, ICR_STARTUP);
	assert_int_equal(sipi.vector, 0x99);
	assert_true(icr_targets(&sipi, 0, &c3, false));
}

static void shorthands(void **state)
{
	(void)state;
	struct icr_target c0 = cpu(0), c2 = cpu(2), c4 = cpu(4), c5 = cpu(5);
	struct icr all_but_self = icr_decode(0x000c4500u, 0, false);
	assert_int_equal(all_but_self.shorthand, ICR_ALL_EXCLUDING_SELF);
	assert_false(icr_targets(&all_but_self, 2, &c2, false));
	assert_true(icr_targets(&all_but_self, 2, &c0, false));
	struct icr all = icr_decode(0x00080000u | 0x600u, 0, false);
	assert_int_equal(all.shorthand, ICR_ALL_INCLUDING_SELF);
	assert_true(icr_targets(&all, 2, &c2, false));
	assert_true(icr_targets(&all, 2, &c0, false));
	struct icr self = icr_decode(0x00040030u, 0, false);
	assert_int_equal(self.shorthand, ICR_SELF);
	assert_true(icr_targets(&self, 5, &c5, false));
	assert_false(icr_targets(&self, 5, &c4, false));
	/* a shorthand ignores the destination field and the destination mode (11.6.1) */
	struct icr self_logical = icr_decode(0x00040830u, 0x80u << 24, false);
	assert_true(icr_targets(&self_logical, 5, &c5, false));
	assert_false(icr_targets(&self_logical, 5, &c4, false));
	/* x2APIC: the same shorthands */
	struct icr x2_all_but_self = icr_decode(0x000c4500u, 0, true);
	assert_false(icr_targets(&x2_all_but_self, 2, &c2, true));
	assert_true(icr_targets(&x2_all_but_self, 2, &c4, true));
}

static void broadcast_and_x2apic(void **state)
{
	(void)state;
	struct icr_target c7 = cpu(7), c300 = cpu(300), c44 = cpu(300 & 0xff);
	struct icr bcast = icr_decode(0x00004500u, 0xffu << 24, false);
	assert_true(icr_targets(&bcast, 0, &c7, false));
	/* x2APIC: the destination is ICR bits 63:32, all 32 of them */
	struct icr x2 = icr_decode(0x00000600u | 0x10, 300, true);
	assert_int_equal(x2.dest, 300);
	assert_true(icr_targets(&x2, 0, &c300, true));
	assert_false(icr_targets(&x2, 0, &c44, true));
	struct icr x2_bcast = icr_decode(0x00004500u, 0xffffffffu, true);
	assert_true(icr_targets(&x2_bcast, 0, &c300, true));
	/* FFH is no broadcast in x2APIC mode: APIC ID 255 only */
	struct icr x2_ff = icr_decode(0x00004500u, 0xffu, true);
	struct icr_target c255 = cpu(255);
	assert_false(icr_targets(&x2_ff, 0, &c7, true));
	assert_true(icr_targets(&x2_ff, 0, &c255, true));
}

/* xAPIC flat model: the MDA's bits against the 8-bit logical ID, any overlap (11.6.2.2). */
static void xapic_flat_logical(void **state)
{
	(void)state;
	/* Linux's flat mode: logical ID 1 << CPU number */
	struct icr_target c0 = xapic_logical(0, 0x01, FLAT), c1 = xapic_logical(1, 0x02, FLAT),
			  c2 = xapic_logical(2, 0x04, FLAT);
	struct icr init = icr_decode(0x0000cd00u, 0x02u << 24, false); /* INIT, logical, MDA 02H */
	assert_true(init.logical);
	assert_false(icr_targets(&init, 0, &c0, false));
	assert_true(icr_targets(&init, 0, &c1, false));
	assert_false(icr_targets(&init, 0, &c2, false));
	struct icr two = icr_decode(0x00000e10u, 0x06u << 24, false); /* SIPI to CPUs 1 and 2 */
	assert_true(icr_targets(&two, 0, &c1, false));
	assert_true(icr_targets(&two, 0, &c2, false));
	assert_false(icr_targets(&two, 0, &c0, false));
	/* a CPU whose LDR is still 0 is in no logical group */
	struct icr_target fresh = xapic_logical(3, 0, FLAT);
	struct icr all_bits = icr_decode(0x0000cd00u, 0x7fu << 24, false);
	assert_false(icr_targets(&all_bits, 0, &fresh, false));
	/* MDA FFH reaches every CPU (broadcast) */
	struct icr bcast = icr_decode(0x0000cd00u, 0xffu << 24, false);
	assert_true(icr_targets(&bcast, 0, &fresh, false));
	assert_true(icr_targets(&bcast, 0, &c2, false));
}

/* xAPIC cluster model: MDA bits 7:4 name the cluster, bits 3:0 its members (11.6.2.2). */
static void xapic_cluster_logical(void **state)
{
	(void)state;
	struct icr_target a = xapic_logical(0, 0x11, CLUSTER), b = xapic_logical(1, 0x12, CLUSTER),
			  c = xapic_logical(2, 0x21, CLUSTER);
	struct icr to_1_2 = icr_decode(0x0000cd00u, 0x12u << 24, false);
	assert_false(icr_targets(&to_1_2, 0, &a, false));
	assert_true(icr_targets(&to_1_2, 0, &b, false));
	assert_false(icr_targets(&to_1_2, 0, &c, false));
	struct icr cluster1_both = icr_decode(0x0000cd00u, 0x13u << 24, false);
	assert_true(icr_targets(&cluster1_both, 0, &a, false));
	assert_true(icr_targets(&cluster1_both, 0, &b, false));
	assert_false(icr_targets(&cluster1_both, 0, &c, false)); /* same member bit, other cluster */
	struct icr cluster2 = icr_decode(0x0000cd00u, 0x21u << 24, false);
	assert_true(icr_targets(&cluster2, 0, &c, false));
	assert_false(icr_targets(&cluster2, 0, &a, false));
	struct icr bcast = icr_decode(0x0000cd00u, 0xffu << 24, false);
	assert_true(icr_targets(&bcast, 0, &a, false));
	assert_true(icr_targets(&bcast, 0, &c, false));
	/* a DFR model the SDM does not define matches nothing */
	struct icr_target odd = xapic_logical(4, 0x11, 0x5fffffffu);
	assert_false(icr_targets(&cluster1_both, 0, &odd, false));
}

/* x2APIC logical: LDR = cluster (x2APIC ID 19:4) << 16 | 1 << (x2APIC ID 3:0)
 * (11.12.10.2); the destination names a cluster and a 16-bit member mask. */
static void x2apic_logical(void **state)
{
	(void)state;
	assert_int_equal(x2apic_logical_id(0), 0x00000001u);
	assert_int_equal(x2apic_logical_id(1), 0x00000002u);
	assert_int_equal(x2apic_logical_id(17), 0x00010002u);
	assert_int_equal(x2apic_logical_id(0x12345), 0x12340020u);
	struct icr_target c1 = cpu(1), c2 = cpu(2), c17 = cpu(17);
	struct icr to_1 = icr_decode(0x00000d00u | 0xc000u, 0x00000002u, true); /* INIT, logical */
	assert_true(icr_targets(&to_1, 0, &c1, true));
	assert_false(icr_targets(&to_1, 0, &c2, true));
	assert_false(icr_targets(&to_1, 0, &c17, true)); /* same member bit, cluster 1 */
	struct icr cluster1 = icr_decode(0x00000e20u, 0x00010002u, true);
	assert_true(icr_targets(&cluster1, 0, &c17, true));
	assert_false(icr_targets(&cluster1, 0, &c1, true));
	struct icr bcast = icr_decode(0x00000e20u, 0xffffffffu, true);
	assert_true(icr_targets(&bcast, 0, &c17, true));
	assert_true(icr_targets(&bcast, 0, &c1, true));
	/* the xAPIC LDR/DFR play no part in x2APIC mode */
	struct icr_target stale = xapic_logical(2, 0xff, FLAT);
	assert_false(icr_targets(&to_1, 0, &stale, true));
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
		cmocka_unit_test(xapic_flat_logical),
		cmocka_unit_test(xapic_cluster_logical),
		cmocka_unit_test(x2apic_logical),
		cmocka_unit_test(encode_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
