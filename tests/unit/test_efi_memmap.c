/* covers: src/boot/efi/efi_memmap.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "boot/efi/efi_memmap.h"

/* OVMF hands out 48-byte descriptors (40 in the spec + padding): step by that. */
#define OVMF_DESCRIPTOR_SIZE 48

struct padded_descriptor {
	struct efi_memory_descriptor d;
	uint64_t firmware_extra;
};

static struct padded_descriptor map[32];
static size_t map_count;
static struct mem_range out[BOOT_MAX_MEM_RANGES];

static void map_reset(void)
{
	memset(map, 0xa5, sizeof(map)); /* padding must be ignored */
	map_count = 0;
	memset(out, 0, sizeof(out));
}

static void map_add(uint32_t type, uint64_t base, uint64_t pages, uint64_t attribute)
{
	map[map_count].d = (struct efi_memory_descriptor){
		.type = type, .physical_start = base, .number_of_pages = pages,
		.attribute = attribute,
	};
	map_count++;
}

static struct efi_memmap_result convert(enum efi_memmap_view view, uint32_t capacity)
{
	return efi_memmap_convert(map, map_count * OVMF_DESCRIPTOR_SIZE, OVMF_DESCRIPTOR_SIZE,
				  view, out, capacity);
}

static void expect_range(uint32_t i, uint64_t base, uint64_t length, uint32_t type)
{
	assert_int_equal(out[i].base, base);
	assert_int_equal(out[i].length, length);
	assert_int_equal(out[i].type, type);
}

static void test_padded_descriptor_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct efi_memory_descriptor), 40);
	assert_int_equal(sizeof(struct padded_descriptor), OVMF_DESCRIPTOR_SIZE);
}

static void test_type_table(void **state)
{
	(void)state;
	const enum efi_memmap_view os = EFI_VIEW_OS, fw = EFI_VIEW_FIRMWARE_ACTIVE;
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_CONVENTIONAL, 0, fw), MEM_USABLE);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_CONVENTIONAL, 0, os), MEM_USABLE);
	for (uint32_t t = EFI_MEM_LOADER_CODE; t <= EFI_MEM_BOOT_SERVICES_DATA; t++) {
		assert_int_equal(efi_memory_type_to_e820(t, 0, os), MEM_USABLE);
		assert_int_equal(efi_memory_type_to_e820(t, 0, fw), MEM_RESERVED);
	}
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_RUNTIME_SERVICES_CODE, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_RUNTIME_SERVICES_DATA, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_ACPI_RECLAIM, 0, os), MEM_ACPI_RECLAIM);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_ACPI_NVS, 0, os), MEM_ACPI_NVS);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_UNUSABLE, 0, os), MEM_BAD);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_MMIO, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_MMIO_PORT_SPACE, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_PAL_CODE, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_PERSISTENT, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_UNACCEPTED, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_RESERVED, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(0x80000001u, 0, os), MEM_RESERVED);
	assert_int_equal(efi_memory_type_to_e820(EFI_MEM_CONVENTIONAL,
						 EFI_MEM_ATTR_SPECIFIC_PURPOSE, os), MEM_RESERVED);
}

static void test_sorts_and_merges(void **state)
{
	(void)state;
	map_reset();
	/* Unsorted, as firmware may report it; 0x100000.. is four touching RAM kinds. */
	map_add(EFI_MEM_BOOT_SERVICES_DATA, 0x300000, 0x100, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x0, 0xa0, 0);
	map_add(EFI_MEM_LOADER_CODE, 0x200000, 0x100, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x100000, 0x100, 0);
	map_add(EFI_MEM_ACPI_NVS, 0x800000, 0x8, 0);
	map_add(EFI_MEM_RUNTIME_SERVICES_DATA, 0x400000, 0x10, 0);
	map_add(EFI_MEM_RESERVED, 0x400000 + 0x10000, 0x10, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x900000, 0, 0); /* empty: skipped */

	struct efi_memmap_result r = convert(EFI_VIEW_OS, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_dropped, 0);
	assert_int_equal(r.bad_descriptor_size, 0);
	assert_int_equal(r.nr_ranges, 4);
	expect_range(0, 0x0, 0xa0000, MEM_USABLE);
	expect_range(1, 0x100000, 0x300000, MEM_USABLE);
	expect_range(2, 0x400000, 0x20000, MEM_RESERVED);
	expect_range(3, 0x800000, 0x8000, MEM_ACPI_NVS);
}

static void test_firmware_view_keeps_firmware_memory(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x100000, 0x100, 0);
	map_add(EFI_MEM_LOADER_CODE, 0x200000, 0x100, 0);
	map_add(EFI_MEM_BOOT_SERVICES_DATA, 0x300000, 0x100, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x400000, 0x100, 0);

	struct efi_memmap_result r = convert(EFI_VIEW_FIRMWARE_ACTIVE, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_ranges, 3);
	expect_range(0, 0x100000, 0x100000, MEM_USABLE);
	expect_range(1, 0x200000, 0x200000, MEM_RESERVED);
	expect_range(2, 0x400000, 0x100000, MEM_USABLE);
}

static void test_late_range_bridges_two(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x0, 0x1, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x2000, 0x1, 0);
	map_add(EFI_MEM_BOOT_SERVICES_CODE, 0x1000, 0x1, 0);

	struct efi_memmap_result r = convert(EFI_VIEW_OS, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_ranges, 1);
	expect_range(0, 0x0, 0x3000, MEM_USABLE);
}

static void test_overlap_and_successor_merge(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x10000, 0x10, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x8000, 0x8, 0);   /* ends where the first starts */
	map_add(EFI_MEM_CONVENTIONAL, 0x12000, 0x4, 0);  /* inside the first */

	struct efi_memmap_result r = convert(EFI_VIEW_OS, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_ranges, 1);
	expect_range(0, 0x8000, 0x18000, MEM_USABLE);
}

static void test_full_output_counts_dropped(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x3000, 0x1, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x0, 0x1, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x2000, 0x1, 0);
	map_add(EFI_MEM_RESERVED, 0x1000, 0x1, 0);
	map_add(EFI_MEM_RESERVED, 0x5000, 0x1, 0);

	/* Only the three distinct ranges after merging count against the capacity. */
	struct efi_memmap_result r = convert(EFI_VIEW_OS, 2);
	assert_int_equal(r.nr_ranges, 2);
	assert_int_equal(r.nr_dropped, 3);
	expect_range(0, 0x0, 0x1000, MEM_USABLE);
	expect_range(1, 0x1000, 0x1000, MEM_RESERVED);
}

static void test_duplicate_bases_keep_both(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x1000, 0x1, 0);
	map_add(EFI_MEM_CONVENTIONAL, 0x1000, 0x2, 0);

	struct efi_memmap_result r = convert(EFI_VIEW_OS, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_ranges, 1);
	expect_range(0, 0x1000, 0x2000, MEM_USABLE);
}

static void test_top_of_address_space_does_not_wrap(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_RESERVED, 0xffffffffffff0000ull, 0x20, 0);

	/* Cut to whole pages below 2^64, so base + length never wraps. */
	struct efi_memmap_result r = convert(EFI_VIEW_OS, BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_ranges, 1);
	expect_range(0, 0xffffffffffff0000ull, 0xf000, MEM_RESERVED);
}

static void test_rejects_short_descriptor_size(void **state)
{
	(void)state;
	map_reset();
	map_add(EFI_MEM_CONVENTIONAL, 0x0, 0x1, 0);
	struct efi_memmap_result r =
		efi_memmap_convert(map, sizeof(map[0]), 32, EFI_VIEW_OS, out, 4);
	assert_int_equal(r.bad_descriptor_size, 1);
	assert_int_equal(r.nr_ranges, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padded_descriptor_size),
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_sorts_and_merges),
		cmocka_unit_test(test_firmware_view_keeps_firmware_memory),
		cmocka_unit_test(test_late_range_bridges_two),
		cmocka_unit_test(test_overlap_and_successor_merge),
		cmocka_unit_test(test_full_output_counts_dropped),
		cmocka_unit_test(test_duplicate_bases_keep_both),
		cmocka_unit_test(test_top_of_address_space_does_not_wrap),
		cmocka_unit_test(test_rejects_short_descriptor_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
