/* covers: src/boot/efi/efi_status.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "boot/efi/efi_status.h"

static void test_status_text(void **state)
{
	(void)state;
	assert_string_equal(efi_status_text(0), "success");
	assert_string_equal(efi_status_text(EFI_STATUS_ERROR_BIT | 14), "not found");
	assert_string_equal(efi_status_text(EFI_STATUS_ERROR_BIT | 9), "out of resources");
	assert_string_equal(efi_status_text(EFI_STATUS_ERROR_BIT | 26), "security violation");
	assert_null(efi_status_text(EFI_STATUS_ERROR_BIT | 16));
	assert_null(efi_status_text(EFI_STATUS_ERROR_BIT | 1000));
	assert_null(efi_status_text(4)); /* a warning, not an error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
