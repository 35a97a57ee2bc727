/* covers: guests/lib/glob.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/glob.h"

static void test_literals(void **state)
{
	(void)state;
	assert_true(glob_match("platform/cpu-vendor", "platform/cpu-vendor"));
	assert_false(glob_match("platform/cpu-vendor", "platform/cpu-vendo"));
	assert_false(glob_match("platform/cpu-vendo", "platform/cpu-vendor"));
	assert_true(glob_match("", ""));
	assert_false(glob_match("", "x"));
	assert_false(glob_match("x", ""));
}

static void test_star(void **state)
{
	(void)state;
	assert_true(glob_match("*", ""));
	assert_true(glob_match("*", "anything/at/all"));
	assert_true(glob_match("platform/*", "platform/cpu-vendor"));
	assert_true(glob_match("platform/*", "platform/"));
	assert_false(glob_match("platform/*", "platforms/cpu"));
	/* '*' crosses '/': one glob selects a whole area. */
	assert_true(glob_match("svm/*", "svm/intercept/cpuid"));
	assert_true(glob_match("*/cpuid", "svm/intercept/cpuid"));
	assert_true(glob_match("*cpu*", "platform/cpu-vendor"));
	assert_true(glob_match("p*m/e*-pf", "platform/exception-pf"));
	assert_false(glob_match("p*m/e*-pf", "platform/exception-ud"));
	assert_true(glob_match("**", "x"));
	assert_true(glob_match("a*b*c", "aXbYbZc"));
	assert_false(glob_match("a*b*c", "aXbYbZ"));
}

static void test_question_mark(void **state)
{
	(void)state;
	assert_true(glob_match("platform/cpu-vendo?", "platform/cpu-vendor"));
	assert_false(glob_match("platform/cpu-vendor?", "platform/cpu-vendor"));
	assert_true(glob_match("?", "x"));
	assert_false(glob_match("?", ""));
	assert_true(glob_match("a?c*", "abcdef"));
}

static void test_backtracking(void **state)
{
	(void)state;
	/* The first '*' must give back characters to let the rest match. */
	assert_true(glob_match("*ab", "aaab"));
	assert_true(glob_match("*a*b", "xaybzab"));
	assert_false(glob_match("*a*b", "xaybza"));
	assert_true(glob_match("a*?b", "axxb"));
	assert_false(glob_match("a*?b", "ab"));
}

static void test_has_wildcards(void **state)
{
	(void)state;
	assert_true(glob_has_wildcards("platform/*"));
	assert_true(glob_has_wildcards("a?"));
	assert_false(glob_has_wildcards("platform/cpu-vendor"));
	assert_false(glob_has_wildcards(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_question_mark),
		cmocka_unit_test(test_backtracking),
		cmocka_unit_test(test_has_wildcards),
	};
	return cmocka_run_group_tests_name("guest_glob", tests, NULL, NULL);
}
