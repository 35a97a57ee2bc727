/* covers: src/boot/efi/efi_args.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "boot/efi/efi_args.h"

static struct efi_boot_args args;

static void test_nestbed_args_and_modules(void **state)
{
	(void)state;
	assert_int_equal(efi_args_parse("  selftest  verbose --- \\guest.elf a=1  b=2 "
					"---\t/boot/second.bin ---  third", &args), EFI_ARGS_OK);
	assert_string_equal(args.nestbed_args, "selftest  verbose");
	assert_int_equal(args.nr_modules, 3);
	assert_string_equal(args.modules[0].path, "\\guest.elf");
	assert_string_equal(args.modules[0].args, "a=1  b=2");
	assert_string_equal(args.modules[1].path, "/boot/second.bin");
	assert_string_equal(args.modules[1].args, "");
	assert_string_equal(args.modules[2].path, "third");
	assert_string_equal(args.modules[2].args, "");
}

static void test_no_modules(void **state)
{
	(void)state;
	assert_int_equal(efi_args_parse("selftest", &args), EFI_ARGS_OK);
	assert_string_equal(args.nestbed_args, "selftest");
	assert_int_equal(args.nr_modules, 0);
	assert_int_equal(efi_args_parse("", &args), EFI_ARGS_OK);
	assert_string_equal(args.nestbed_args, "");
}

static void test_separator_only_as_a_word(void **state)
{
	(void)state;
	assert_int_equal(efi_args_parse("a----b --x -- --- g.elf ----", &args), EFI_ARGS_OK);
	assert_string_equal(args.nestbed_args, "a----b --x --");
	assert_int_equal(args.nr_modules, 1);
	assert_string_equal(args.modules[0].args, "----");
}

static void test_modules_without_nestbed_args(void **state)
{
	(void)state;
	assert_int_equal(efi_args_parse("--- g.elf x", &args), EFI_ARGS_OK);
	assert_string_equal(args.nestbed_args, "");
	assert_int_equal(args.nr_modules, 1);
	assert_string_equal(args.modules[0].path, "g.elf");
	assert_string_equal(args.modules[0].args, "x");
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(efi_args_parse("selftest ---", &args), EFI_ARGS_MISSING_PATH);
	assert_int_equal(efi_args_parse("selftest ---   ", &args), EFI_ARGS_MISSING_PATH);
	assert_int_equal(efi_args_parse("selftest --- --- g.elf", &args), EFI_ARGS_MISSING_PATH);
	assert_int_equal(efi_args_parse("--- a --- b --- c --- d --- e --- f --- g --- h --- i",
					&args), EFI_ARGS_TOO_MANY_MODULES);
	assert_int_equal(efi_args_parse("--- a --- b --- c --- d --- e --- f --- g --- h",
					&args), EFI_ARGS_OK);
	assert_int_equal(args.nr_modules, BOOT_MAX_MODULES);

	char long_path[EFI_MODULE_PATH_MAX + 8] = "--- ";
	memset(long_path + 4, 'p', EFI_MODULE_PATH_MAX);
	long_path[4 + EFI_MODULE_PATH_MAX] = '\0';
	assert_int_equal(efi_args_parse(long_path, &args), EFI_ARGS_TOO_LONG);
	long_path[4 + EFI_MODULE_PATH_MAX - 1] = '\0';
	assert_int_equal(efi_args_parse(long_path, &args), EFI_ARGS_OK);

	assert_string_equal(efi_args_error_text(EFI_ARGS_MISSING_PATH),
			    "'---' without a module path");
}

static void test_basename(void **state)
{
	(void)state;
	assert_string_equal(efi_path_basename("\\EFI\\BOOT\\guest.elf"), "guest.elf");
	assert_string_equal(efi_path_basename("/boot/guest.elf"), "guest.elf");
	assert_string_equal(efi_path_basename("fs0:guest.elf"), "guest.elf");
	assert_string_equal(efi_path_basename("guest.elf"), "guest.elf");
	assert_string_equal(efi_path_basename("dir\\"), "");
}

static void test_module_cmdline(void **state)
{
	(void)state;
	struct efi_module_spec m = { .path = "\\boot\\guest.elf", .args = "a=1 b=2" };
	char out[32];
	assert_int_equal(efi_module_cmdline(&m, out, sizeof(out)), 1);
	assert_string_equal(out, "guest.elf a=1 b=2");

	struct efi_module_spec bare = { .path = "guest.elf", .args = "" };
	assert_int_equal(efi_module_cmdline(&bare, out, sizeof(out)), 1);
	assert_string_equal(out, "guest.elf");

	char tight[10];
	assert_int_equal(efi_module_cmdline(&bare, tight, sizeof(tight)), 1);
	assert_int_equal(efi_module_cmdline(&m, tight, sizeof(tight)), 0);
	assert_int_equal(efi_module_cmdline(&bare, tight, 9), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nestbed_args_and_modules),
		cmocka_unit_test(test_no_modules),
		cmocka_unit_test(test_separator_only_as_a_word),
		cmocka_unit_test(test_modules_without_nestbed_args),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_module_cmdline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
