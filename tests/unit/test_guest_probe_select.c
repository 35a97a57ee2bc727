/* covers: guests/lib/probe_select.c guests/lib/glob.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/probe_select.h"

/* In registration (link) order, deliberately unsorted. */
static const char *const names[] = {
	"platform/virt-present", "platform/cpu-vendor", "svm/intercept/cpuid",
	"platform/exception-ud", "vmx/basic",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))

static unsigned order[NR_NAMES];
static char error[160];

static void expect_selection(const char *const globs[], unsigned nr_globs,
			     const char *const expected[], unsigned nr_expected)
{
	int count = probe_select(names, NR_NAMES, globs, nr_globs, order, error, sizeof(error));
	if (count < 0)
		fail_msg("%s", error);
	assert_int_equal(count, nr_expected);
	for (unsigned i = 0; i < nr_expected; i++)
		assert_string_equal(names[order[i]], expected[i]);
}

static void test_no_globs_selects_all_sorted(void **state)
{
	(void)state;
	static const char *const all[] = {
		"platform/cpu-vendor", "platform/exception-ud", "platform/virt-present",
		"svm/intercept/cpuid", "vmx/basic",
	};
	expect_selection(NULL, 0, all, NR_NAMES);
}

static void test_globs_union_without_duplicates(void **state)
{
	(void)state;
	static const char *const globs[] = { "platform/*", "*/cpu-vendor", "vmx/basic" };
	static const char *const expected[] = {
		"platform/cpu-vendor", "platform/exception-ud", "platform/virt-present", "vmx/basic",
	};
	expect_selection(globs, 3, expected, 4);

	static const char *const one[] = { "svm/*" };
	static const char *const cpuid[] = { "svm/intercept/cpuid" };
	expect_selection(one, 1, cpuid, 1);
}

static void test_glob_matching_nothing_is_an_error(void **state)
{
	(void)state;
	static const char *const globs[] = { "platform/*", "nested/*" };
	assert_int_equal(probe_select(names, NR_NAMES, globs, 2, order, error, sizeof(error)), -1);
	assert_string_equal(error, "'nested/*' matches no probe (try 'list')");
}

static void test_names_check(void **state)
{
	(void)state;
	assert_int_equal(probe_names_check(names, NR_NAMES, error, sizeof(error)), 0);

	static const char *const duplicate[] = { "a/b", "c/d", "a/b" };
	assert_int_equal(probe_names_check(duplicate, 3, error, sizeof(error)), -1);
	assert_string_equal(error, "probe 'a/b' is registered twice");

	static const char *const bad[][1] = {
		{ "noslash" }, { "/lead" }, { "trail/" }, { "a//b" }, { "Upper/case" },
		{ "sp ace/x" }, { "hash/#1" }, { "" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (probe_names_check(bad[i], 1, error, sizeof(error)) != -1)
			fail_msg("'%s' accepted", bad[i][0]);
	}
	static const char *const good[] = { "svm/intercept/cpuid", "x86/exc-ud_2.v1" };
	assert_int_equal(probe_names_check(good, 2, error, sizeof(error)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_globs_selects_all_sorted),
		cmocka_unit_test(test_globs_union_without_duplicates),
		cmocka_unit_test(test_glob_matching_nothing_is_an_error),
		cmocka_unit_test(test_names_check),
	};
	return cmocka_run_group_tests_name("guest_probe_select", tests, NULL, NULL);
}
