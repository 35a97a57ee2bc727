/* covers: src/boot/efi/efi_memmap.c src/core/memory.c src/core/memmap.c src/core/frame_alloc.c */
/* The guest's memory map on the UEFI path: the firmware's map as ExitBootServices leaves
 * it (the OS view), with nestbed's image and heap carved out by guest_memmap_build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "boot/efi/efi_memmap.h"
#include "core/memmap.h"
#include "core/memory.h"

#define PAGE 0x1000ull

static struct efi_memory_descriptor map[16];
static size_t map_count;
static struct boot_info bi;
static struct guest_memmap guest;

static void map_add(uint32_t type, uint64_t base, uint64_t end)
{
	map[map_count++] = (struct efi_memory_descriptor){
		.type = type, .physical_start = base, .number_of_pages = (end - base) / PAGE,
	};
}

/* The type of the guest range holding addr, or 0 when none does. */
static uint32_t guest_type_at(uint64_t addr)
{
	for (uint32_t i = 0; i < guest.nr_ranges; i++)
		if (guest.ranges[i].base <= addr && addr - guest.ranges[i].base < guest.ranges[i].length)
			return guest.ranges[i].type;
	return 0;
}

/* OVMF with 256 MiB, as nestbed.efi meets it: the image in LoaderCode, the heap and the
 * modules in LoaderData, the firmware's page tables and stack in BootServicesData. */
static void build_ovmf_like(void)
{
	memset(&bi, 0, sizeof(bi));
	map_count = 0;
	map_add(EFI_MEM_BOOT_SERVICES_DATA, 0x0, 0xa0000);
	map_add(EFI_MEM_CONVENTIONAL, 0x100000, 0x800000);
	map_add(EFI_MEM_ACPI_NVS, 0x800000, 0x808000);
	map_add(EFI_MEM_CONVENTIONAL, 0x808000, 0xd062000);
	map_add(EFI_MEM_LOADER_DATA, 0xd062000, 0xe232000);     /* heap */
	map_add(EFI_MEM_LOADER_DATA, 0xe232000, 0xe2f2000);     /* the guest file */
	map_add(EFI_MEM_LOADER_CODE, 0xe2f2000, 0xe348000);     /* nestbed.efi */
	map_add(EFI_MEM_BOOT_SERVICES_DATA, 0xe348000, 0xeebb000);
	map_add(EFI_MEM_RUNTIME_SERVICES_DATA, 0xeebb000, 0xef7c000);
	map_add(EFI_MEM_BOOT_SERVICES_CODE, 0xef7c000, 0xf8ed000);
	map_add(EFI_MEM_RUNTIME_SERVICES_CODE, 0xf8ed000, 0xfb6d000);
	map_add(EFI_MEM_ACPI_RECLAIM, 0xfb6d000, 0xfb7f000);
	map_add(EFI_MEM_ACPI_NVS, 0xfb7f000, 0xfbff000);
	map_add(EFI_MEM_MMIO, 0xffe00000, 0x100000000);
	struct efi_memmap_result r = efi_memmap_convert(map, map_count * sizeof(map[0]),
							sizeof(map[0]), EFI_VIEW_OS, bi.ranges,
							BOOT_MAX_MEM_RANGES);
	assert_int_equal(r.nr_dropped, 0);
	bi.nr_ranges = r.nr_ranges;
	bi.image_phys = 0xe2f2000;
	bi.image_size = 0xe348000 - 0xe2f2000 - 0x123; /* ImageSize need not be page-sized */
	bi.heap_phys = 0xd062000;
	bi.heap_size = 0xe232000 - 0xd062000;
	assert_int_equal(guest_memmap_build(&bi, &guest), 0);
	/* the bound every guest memory access checks, computed once */
	assert_int_equal(guest.identity_end, memmap_identity_end(guest.ranges, guest.nr_ranges));
	assert_true(guest.identity_end >= 0x100000000ull);
	/* below the heap (the lower of nestbed's two ranges) no range needs looking at */
	assert_int_equal(guest.nestbed_lowest, 0xd062000);
}

static void test_nestbed_memory_is_not_the_guests(void **state)
{
	(void)state;
	build_ovmf_like();
	assert_int_equal(guest_type_at(0xd062000), MEM_NESTBED);
	assert_int_equal(guest_type_at(0xe231fff), MEM_NESTBED);
	assert_int_equal(guest_type_at(0xe2f2000), MEM_NESTBED);
	assert_int_equal(guest_type_at(0xe347fff), MEM_NESTBED);
	assert_false(memmap_is_usable(guest.ranges, guest.nr_ranges, 0xd062000, PAGE));
	assert_false(memmap_is_usable(guest.ranges, guest.nr_ranges, 0xe347000, PAGE));
}

static void test_firmware_runtime_and_acpi_stay_reserved(void **state)
{
	(void)state;
	build_ovmf_like();
	assert_int_equal(guest_type_at(0xeebb000), MEM_RESERVED);
	assert_int_equal(guest_type_at(0xf8ed000), MEM_RESERVED);
	assert_int_equal(guest_type_at(0xfb6d000), MEM_ACPI_RECLAIM);
	assert_int_equal(guest_type_at(0xfb7f000), MEM_ACPI_NVS);
	assert_int_equal(guest_type_at(0x800000), MEM_ACPI_NVS);
	assert_int_equal(guest_type_at(0xffe00000), MEM_RESERVED);
}

static void test_boot_services_and_module_memory_are_the_guests(void **state)
{
	(void)state;
	build_ovmf_like();
	/* The firmware's own memory and the module's file pages (copied into the heap before
	 * the guest loads) are RAM for the guest once boot services are gone. */
	assert_true(memmap_is_usable(guest.ranges, guest.nr_ranges, 0x0, 0xa0000));
	assert_true(memmap_is_usable(guest.ranges, guest.nr_ranges, 0x100000, 0x700000));
	assert_true(memmap_is_usable(guest.ranges, guest.nr_ranges, 0xe232000, 0xc0000));
	assert_true(memmap_is_usable(guest.ranges, guest.nr_ranges, 0xe348000, 0x1000));
	assert_true(memmap_is_usable(guest.ranges, guest.nr_ranges, 0xef7c000, 0x971000));
	assert_int_equal(guest_type_at(0xa0000), 0); /* the legacy hole is not described */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nestbed_memory_is_not_the_guests),
		cmocka_unit_test(test_firmware_runtime_and_acpi_stay_reserved),
		cmocka_unit_test(test_boot_services_and_module_memory_are_the_guests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
