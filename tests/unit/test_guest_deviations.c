/* covers: guests/lib/deviations.c guests/lib/glob.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/deviations.h"

static void test_qemu(void **state)
{
	(void)state;
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "intercept/invd"));
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "intercept/invd-with-wbinvd"));
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "intercept/rdtscp-with-rdtsc"));
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "io/address-size"));
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "io/string-address-size"));
	assert_non_null(deviation_note(PLATFORM_QEMU_TCG, "mode/real-outsb"));
	/* Not QEMU's: a CR2 bug of Bochs, and probes QEMU passes. */
	assert_null(deviation_note(PLATFORM_QEMU_TCG, "state/cr2-load"));
	assert_null(deviation_note(PLATFORM_QEMU_TCG, "intercept/cpuid"));
	assert_null(deviation_note(PLATFORM_QEMU_TCG, "io/in-dx-byte"));
	assert_null(deviation_note(PLATFORM_QEMU_TCG, "mode/real-cpuid"));
}

static void test_bochs(void **state)
{
	(void)state;
	assert_non_null(deviation_note(PLATFORM_BOCHS, "state/cr2-load"));
	assert_non_null(deviation_note(PLATFORM_BOCHS, "exception/pf-read"));
	assert_non_null(deviation_note(PLATFORM_BOCHS, "inject/soft-int-next-rip"));
	assert_null(deviation_note(PLATFORM_BOCHS, "intercept/invd"));
	assert_null(deviation_note(PLATFORM_BOCHS, "exception/ud"));
}

static void test_nestbed_and_others(void **state)
{
	(void)state;
	/* Under nestbed only what the emulators underneath do: nestbed's own nRIP
	 * handling of injected INTn is its own business. */
	assert_non_null(deviation_note(PLATFORM_NESTBED, "intercept/xsetbv"));
	assert_non_null(deviation_note(PLATFORM_NESTBED, "state/cr2-load"));
	assert_null(deviation_note(PLATFORM_NESTBED, "inject/soft-int-next-rip"));
	assert_null(deviation_note(PLATFORM_NESTBED, "msr/rdmsr-low-intercepted"));
	/* Real hardware has no documented deviations. */
	assert_null(deviation_note(PLATFORM_OTHER, "intercept/invd"));
	assert_null(deviation_note(PLATFORM_OTHER, "state/cr2-load"));
	assert_string_equal(platform_name(PLATFORM_QEMU_TCG), "QEMU TCG");
	assert_string_equal(platform_name(PLATFORM_OTHER), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu),
		cmocka_unit_test(test_bochs),
		cmocka_unit_test(test_nestbed_and_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
