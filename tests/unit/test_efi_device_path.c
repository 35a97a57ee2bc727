/* covers: src/boot/efi/efi_device_path.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "boot/efi/efi_device_path.h"

/* Builds device paths node by node into a byte buffer, as the firmware lays them out. */
struct path_builder {
	uint8_t bytes[512];
	size_t used;
};

static void add_node(struct path_builder *b, uint8_t type, uint8_t subtype,
		     const void *data, size_t data_len)
{
	size_t len = 4 + data_len;
	b->bytes[b->used] = type;
	b->bytes[b->used + 1] = subtype;
	b->bytes[b->used + 2] = (uint8_t)len;
	b->bytes[b->used + 3] = (uint8_t)(len >> 8);
	if (data_len)
		memcpy(b->bytes + b->used + 4, data, data_len);
	b->used += len;
}

static void add_file_node(struct path_builder *b, const char *name)
{
	uint8_t units[128];
	size_t n = strlen(name);
	for (size_t i = 0; i <= n; i++) {
		units[2 * i] = (uint8_t)name[i];
		units[2 * i + 1] = 0;
	}
	add_node(b, 0x04, 0x04, units, 2 * (n + 1));
}

static void add_end(struct path_builder *b)
{
	add_node(b, 0x7f, 0xff, NULL, 0);
}

static void test_serial_terminal_has_uart(void **state)
{
	(void)state;
	/* PciRoot(0)/Pci(1,0)/Serial(0)/Uart(115200,8,N,1)/VenVt100: OVMF's COM1 console. */
	struct path_builder b = { .used = 1 }; /* odd offset: nodes need not be aligned */
	uint8_t acpi[8] = { 0xd0, 0x41, 0x03, 0x0a, 0, 0, 0, 0 };
	uint8_t pci[2] = { 0, 1 };
	uint8_t uart[15] = { 0 };
	uint8_t vendor[16] = { 0 };
	add_node(&b, 0x02, 0x01, acpi, sizeof(acpi));
	add_node(&b, 0x01, 0x01, pci, sizeof(pci));
	add_node(&b, 0x03, 0x0e, uart, sizeof(uart));
	add_node(&b, 0x03, 0x0a, vendor, sizeof(vendor));
	add_end(&b);
	assert_int_equal(efi_device_path_has_uart(b.bytes + 1), 1);
}

static void test_screen_has_no_uart(void **state)
{
	(void)state;
	/* PciRoot(0)/Pci(2,0)/AcpiAdr(...): a GOP console. */
	struct path_builder b = { .used = 0 };
	uint8_t acpi[8] = { 0xd0, 0x41, 0x03, 0x0a, 0, 0, 0, 0 };
	uint8_t pci[2] = { 0, 2 };
	uint8_t adr[4] = { 0 };
	add_node(&b, 0x02, 0x01, acpi, sizeof(acpi));
	add_node(&b, 0x01, 0x01, pci, sizeof(pci));
	add_node(&b, 0x02, 0x03, adr, sizeof(adr));
	add_end(&b);
	assert_int_equal(efi_device_path_has_uart(b.bytes), 0);
	assert_int_equal(efi_device_path_has_uart(NULL), 0);
}

static void test_malformed_path_stops(void **state)
{
	(void)state;
	/* A zero-length node would loop forever: the walk must stop there. */
	uint8_t bad[8] = { 0x01, 0x01, 0x00, 0x00, 0x03, 0x0e, 0x04, 0x00 };
	assert_int_equal(efi_device_path_has_uart(bad), 0);
}

static void test_file_name(void **state)
{
	(void)state;
	struct path_builder b = { .used = 0 };
	add_file_node(&b, "\\EFI\\BOOT\\BOOTX64.EFI");
	add_end(&b);
	char out[64];
	efi_device_path_file_name(b.bytes, out, sizeof(out));
	assert_string_equal(out, "\\EFI\\BOOT\\BOOTX64.EFI");

	/* Split over two nodes, as the spec allows. */
	struct path_builder split = { .used = 0 };
	add_file_node(&split, "\\EFI");
	add_file_node(&split, "nestbed.efi");
	add_end(&split);
	efi_device_path_file_name(split.bytes, out, sizeof(out));
	assert_string_equal(out, "\\EFI\\nestbed.efi");

	char small[6];
	efi_device_path_file_name(b.bytes, small, sizeof(small));
	assert_string_equal(small, "\\EFI\\");

	struct path_builder none = { .used = 0 };
	add_end(&none);
	efi_device_path_file_name(none.bytes, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_terminal_has_uart),
		cmocka_unit_test(test_screen_has_no_uart),
		cmocka_unit_test(test_malformed_path_stops),
		cmocka_unit_test(test_file_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
