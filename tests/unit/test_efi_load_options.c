/* covers: src/boot/efi/efi_load_options.c src/boot/efi/efi_text.c src/boot/efi/efi_args.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "boot/efi/efi_load_options.h"
#include "boot/efi/efi_text.h"

/* Builds UCS-2 load options from ASCII, with the terminating NUL as the shell does. */
static uint32_t ucs2(uint16_t *dst, const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		dst[i] = (uint8_t)s[i];
	dst[i] = 0;
	return (uint32_t)((i + 1) * sizeof(uint16_t));
}

static enum efi_load_options_kind decode(const char *text, const char *image, char *out,
					 size_t out_size)
{
	uint16_t units[256];
	uint32_t size = ucs2(units, text);
	return efi_load_options_to_cmdline(units, size, image, out, out_size);
}

static void test_shell_command_line_drops_image_path(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(decode("fs0:\\EFI\\nestbed.efi selftest --- \\guest.elf a=1", NULL,
				out, sizeof(out)), EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "selftest --- \\guest.elf a=1");
	assert_int_equal(decode("  NESTBED.EFI\tverbose  ", NULL, out, sizeof(out)),
			 EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "verbose");
	/* Without the suffix, the image's own name (from its device path) identifies it. */
	assert_int_equal(decode("BOOTX64 verbose", "\\EFI\\BOOT\\BOOTX64", out, sizeof(out)),
			 EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "verbose");
}

static void test_plain_options_are_kept(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(decode("selftest --- guest.elf", "\\EFI\\BOOT\\BOOTX64.EFI", out,
				sizeof(out)), EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "selftest --- guest.elf");
}

static void test_only_image_name_is_empty(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(decode("fs0:\\nestbed.efi", NULL, out, sizeof(out)),
			 EFI_LOAD_OPTIONS_EMPTY);
	assert_string_equal(out, "");
	assert_int_equal(decode("   ", NULL, out, sizeof(out)), EFI_LOAD_OPTIONS_EMPTY);
	assert_int_equal(efi_load_options_to_cmdline(NULL, 0, NULL, out, sizeof(out)),
			 EFI_LOAD_OPTIONS_EMPTY);
}

static void test_binary_optional_data_is_not_text(void **state)
{
	(void)state;
	/* EDK II marks its auto-created boot options with this GUID as OptionalData. */
	static const uint8_t auto_created_guid[16] = {
		0x4e, 0xac, 0x08, 0x81, 0x11, 0x9f, 0x59, 0x4d,
		0x85, 0x0e, 0xe2, 0x1a, 0x52, 0x2c, 0x59, 0xb2,
	};
	uint16_t units[8];
	memcpy(units, auto_created_guid, sizeof(units));
	char out[64];
	assert_int_equal(efi_load_options_to_cmdline(units, sizeof(units), NULL, out,
						     sizeof(out)), EFI_LOAD_OPTIONS_NOT_TEXT);
	assert_string_equal(out, "");
}

static void test_options_without_nul_and_odd_size(void **state)
{
	(void)state;
	uint16_t units[4] = { 'a', 'b', 'c', 'd' };
	char out[64];
	/* 7 bytes: the half unit at the end is ignored. */
	assert_int_equal(efi_load_options_to_cmdline(units, 7, NULL, out, sizeof(out)),
			 EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "abc");
}

static void test_too_long_options(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(decode("selftest verbose", NULL, out, sizeof(out)),
			 EFI_LOAD_OPTIONS_TOO_LONG);
	assert_int_equal(decode("1234567", NULL, out, sizeof(out)), EFI_LOAD_OPTIONS_TEXT);
	assert_string_equal(out, "1234567");
}

static void test_config_first_line(void **state)
{
	(void)state;
	char out[64];
	const char crlf[] = "\xef\xbb\xbf  selftest --- \\guest.elf a=1 \r\nsecond line\n";
	assert_int_equal(efi_config_first_line(crlf, sizeof(crlf) - 1, out, sizeof(out)), 1);
	assert_string_equal(out, "selftest --- \\guest.elf a=1");

	const char no_newline[] = "verbose";
	assert_int_equal(efi_config_first_line(no_newline, 7, out, sizeof(out)), 1);
	assert_string_equal(out, "verbose");

	assert_int_equal(efi_config_first_line("", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "");

	char small[4];
	assert_int_equal(efi_config_first_line("abcdef\n", 7, small, sizeof(small)), 0);
	assert_int_equal(efi_config_first_line("abc\n", 4, small, sizeof(small)), 1);
	assert_string_equal(small, "abc");
}

static void test_ucs2_to_ascii(void **state)
{
	(void)state;
	const uint16_t text[] = { 'E', 'D', 'K', 0x00e9, ' ', 'I', 'I', 0, 'x' };
	char out[16];
	assert_int_equal(efi_ucs2_to_ascii(out, sizeof(out), text, 9), 7);
	assert_string_equal(out, "EDK? II");
	assert_int_equal(efi_ucs2_to_ascii(out, 3, text, 9), 2);
	assert_string_equal(out, "ED");
}

static void test_path_to_ucs2(void **state)
{
	(void)state;
	uint16_t out[16];
	assert_int_equal(efi_path_to_ucs2(out, 16, "/boot/guest.elf"), 1);
	const uint16_t expect[] = { '\\', 'b', 'o', 'o', 't', '\\', 'g', 'u', 'e', 's', 't',
				    '.', 'e', 'l', 'f', 0 };
	assert_memory_equal(out, expect, sizeof(expect));
	assert_int_equal(efi_path_to_ucs2(out, 15, "/boot/guest.elf"), 0);
}

static void test_console_chunk(void **state)
{
	(void)state;
	uint16_t out[8];
	const char text[] = "ab\ncd\xff";
	size_t used = efi_console_chunk(out, 8, text, 6);
	const uint16_t expect[] = { 'a', 'b', '\r', '\n', 'c', 'd', '?', 0 };
	assert_int_equal(used, 6);
	assert_memory_equal(out, expect, sizeof(expect));

	/* "\r\n" never splits: with room for one more unit the newline waits. */
	used = efi_console_chunk(out, 4, text, 6);
	assert_int_equal(used, 2);
	used = efi_console_chunk(out, 3, "\n", 1);
	assert_int_equal(used, 1);
	assert_int_equal(out[0], '\r');
	assert_int_equal(out[1], '\n');
	assert_int_equal(out[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_command_line_drops_image_path),
		cmocka_unit_test(test_plain_options_are_kept),
		cmocka_unit_test(test_only_image_name_is_empty),
		cmocka_unit_test(test_binary_optional_data_is_not_text),
		cmocka_unit_test(test_options_without_nul_and_odd_size),
		cmocka_unit_test(test_too_long_options),
		cmocka_unit_test(test_config_first_line),
		cmocka_unit_test(test_ucs2_to_ascii),
		cmocka_unit_test(test_path_to_ucs2),
		cmocka_unit_test(test_console_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
