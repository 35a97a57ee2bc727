/* covers: guests/lib/cmdline.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/cmdline.h"

static const char *const on_off[] = { "on", "off", NULL };
static const struct cmdline_key known[] = {
	{ "diag", on_off, "diagnostics" },
	{ "seed", NULL, "random seed" },
};
#define NR_KNOWN (sizeof(known) / sizeof(known[0]))

static struct guest_cmdline cmd;
static char error[CMDLINE_ERROR_MAX];

static void parse_ok(const char *line)
{
	int rc = cmdline_parse(&cmd, line, error, sizeof(error));
	if (rc != 0)
		fail_msg("'%s': %s", line, error);
}

static void test_empty_and_image_only(void **state)
{
	(void)state;
	parse_ok("");
	assert_string_equal(cmd.image, "");
	assert_int_equal(cmd.nr_globs, 0);
	assert_int_equal(cmd.nr_options, 0);
	assert_false(cmd.list);

	parse_ok("conformance.elf");
	assert_string_equal(cmd.image, "conformance.elf");
	assert_int_equal(cmd.nr_globs, 0);

	parse_ok("   \t ");
	assert_string_equal(cmd.image, "");
}

static void test_globs_options_list(void **state)
{
	(void)state;
	parse_ok("conformance.elf platform/* svm/?pt  list diag=off seed=7");
	assert_string_equal(cmd.image, "conformance.elf");
	assert_true(cmd.list);
	assert_int_equal(cmd.nr_globs, 2);
	assert_string_equal(cmd.globs[0], "platform/*");
	assert_string_equal(cmd.globs[1], "svm/?pt");
	assert_int_equal(cmd.nr_options, 2);
	assert_string_equal(cmd.options[0].key, "diag");
	assert_string_equal(cmd.options[0].value, "off");
	assert_string_equal(cmdline_option(&cmd, "seed", "0"), "7");
	assert_string_equal(cmdline_option(&cmd, "absent", "fallback"), "fallback");
	assert_int_equal(cmdline_check_options(&cmd, known, NR_KNOWN, error, sizeof(error)), 0);
}

static void test_qemu_repeats_the_image_name(void **state)
{
	(void)state;
	/* QEMU -kernel passes "<path> <-append text>". */
	parse_ok("build/guests/conformance.elf conformance.elf platform/*");
	assert_string_equal(cmd.image, "build/guests/conformance.elf");
	assert_int_equal(cmd.nr_globs, 1);
	assert_string_equal(cmd.globs[0], "platform/*");

	/* Only the second word, and only the same file name. */
	parse_ok("build/guests/conformance.elf platform/*");
	assert_int_equal(cmd.nr_globs, 1);
	parse_ok("conformance.elf other.elf");
	assert_int_equal(cmd.nr_globs, 1);
	assert_string_equal(cmd.globs[0], "other.elf");
}

static void test_last_option_wins(void **state)
{
	(void)state;
	parse_ok("g diag=on diag=off");
	assert_string_equal(cmdline_option(&cmd, "diag", "on"), "off");
	/* A value may itself contain '='. */
	parse_ok("g seed=a=b");
	assert_string_equal(cmdline_option(&cmd, "seed", ""), "a=b");
}

static void test_bad_options(void **state)
{
	(void)state;
	parse_ok("g foo=1");
	assert_int_equal(cmdline_check_options(&cmd, known, NR_KNOWN, error, sizeof(error)), -1);
	assert_string_equal(error, "unknown option 'foo=1' (known: diag, seed)");

	parse_ok("g diag=maybe");
	assert_int_equal(cmdline_check_options(&cmd, known, NR_KNOWN, error, sizeof(error)), -1);
	assert_string_equal(error, "bad value 'diag=maybe' (diagnostics: on|off)");

	parse_ok("g seed=");
	assert_int_equal(cmdline_check_options(&cmd, known, NR_KNOWN, error, sizeof(error)), -1);
	assert_string_equal(error, "bad value 'seed=' (random seed: a non-empty value)");

	parse_ok("g x=1");
	assert_int_equal(cmdline_check_options(&cmd, known, 0, error, sizeof(error)), -1);
	assert_string_equal(error, "unknown option 'x=1' (known: none)");

	assert_int_equal(cmdline_parse(&cmd, "g =1", error, sizeof(error)), -1);
	assert_string_equal(error, "option '=1' has no key");
}

static void test_limits(void **state)
{
	(void)state;
	char line[CMDLINE_MAX + 8];
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(cmdline_parse(&cmd, line, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "longer than"));

	char many[CMDLINE_MAX];
	size_t used = (size_t)snprintf(many, sizeof(many), "g");
	for (int i = 0; i <= CMDLINE_MAX_GLOBS; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used, " p%d/x", i);
	assert_int_equal(cmdline_parse(&cmd, many, error, sizeof(error)), -1);
	assert_string_equal(error, "more than 32 probe globs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_image_only),
		cmocka_unit_test(test_globs_options_list),
		cmocka_unit_test(test_qemu_repeats_the_image_name),
		cmocka_unit_test(test_last_option_wins),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests_name("guest_cmdline", tests, NULL, NULL);
}
