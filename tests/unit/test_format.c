/* covers: src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/format.h"

static void check(const char *expect, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	int n = format_buf_v(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_string_equal(buf, expect);
	assert_int_equal(n, (int)strlen(expect));
}

static void test_integers(void **state)
{
	(void)state;
	check("42", "%d", 42);
	check("-42", "%d", -42);
	check("-9223372036854775808", "%lld", (long long)INT64_MIN);
	check("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	check("0x00000000deadbeef", "%#018llx", 0xdeadbeefULL);
	check("DEADBEEF", "%X", 0xdeadbeefU);
	check("   7", "%4u", 7u);
	check("7   |", "%-4u|", 7u);
	check("0007", "%04d", 7);
	check("-007", "%04d", -7);
	check("+5", "%+d", 5);
	check("17", "%o", 15u);
	check("ff", "%hhx", 0x1ff);
	check("123", "%zu", (size_t)123);
}

static void test_strings_and_chars(void **state)
{
	(void)state;
	check("abc", "%s", "abc");
	check("(null)", "%s", (char *)NULL);
	check("ab", "%.2s", "abcdef");
	check("  ab", "%4.2s", "abcdef");
	check("x", "%c", 'x');
	check("100%", "%d%%", 100);
	check("0x1000", "%p", (void *)0x1000);
	check("%y", "%y");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[4];
	int n = format_buf(buf, sizeof(buf), "%s", "hello");
	assert_int_equal(n, 5);
	assert_string_equal(buf, "hel");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings_and_chars),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
