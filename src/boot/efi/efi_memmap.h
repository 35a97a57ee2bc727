/* Turns the firmware's memory map (GetMemoryMap descriptors) into nestbed's E820-style
 * ranges. Pure: no gnu-efi headers, so the host unit tests compile it. */
#ifndef NESTBED_EFI_MEMMAP_H
#define NESTBED_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/boot_info.h"

/* EFI_MEMORY_TYPE (UEFI 2.10, 7.2.1 EFI_BOOT_SERVICES.AllocatePages(), with the tables
 * "Memory Type Usage before/after ExitBootServices()"). */
#define EFI_MEM_RESERVED              0
#define EFI_MEM_LOADER_CODE           1
#define EFI_MEM_LOADER_DATA           2
#define EFI_MEM_BOOT_SERVICES_CODE    3
#define EFI_MEM_BOOT_SERVICES_DATA    4
#define EFI_MEM_RUNTIME_SERVICES_CODE 5
#define EFI_MEM_RUNTIME_SERVICES_DATA 6
#define EFI_MEM_CONVENTIONAL          7
#define EFI_MEM_UNUSABLE              8
#define EFI_MEM_ACPI_RECLAIM          9
#define EFI_MEM_ACPI_NVS              10
#define EFI_MEM_MMIO                  11
#define EFI_MEM_MMIO_PORT_SPACE       12
#define EFI_MEM_PAL_CODE              13
#define EFI_MEM_PERSISTENT            14
#define EFI_MEM_UNACCEPTED            15 /* UEFI 2.9+: must be accepted before use */

/* EFI_MEMORY_DESCRIPTOR.Attribute bits (UEFI 2.10, 7.2.3 GetMemoryMap). */
#define EFI_MEM_ATTR_SPECIFIC_PURPOSE (1ull << 18) /* EFI_MEMORY_SP: not general RAM */

/* Pages in a descriptor are always 4 KiB, whatever the CPU's page size (7.2.3). */
#define EFI_MEMMAP_PAGE_SIZE 4096ull

/* EFI_MEMORY_DESCRIPTOR (UEFI 2.10, 7.2.3). The firmware's descriptors may be larger
 * than this (DescriptorSize): always step through the map by that size. */
struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};

/* Which memory counts as free. */
enum efi_memmap_view {
	/* While boot services run, the firmware owns its code, data, page tables, IDT and
	 * stacks (BootServices*) and loaded images (Loader*): only Conventional is free. */
	EFI_VIEW_FIRMWARE_ACTIVE,
	/* What an OS may use once boot services are gone (like Linux's EFI stub builds its
	 * E820 table): Conventional, Loader* and BootServices* are usable RAM. */
	EFI_VIEW_OS,
};

/* The E820 type for one descriptor in the given view. */
uint32_t efi_memory_type_to_e820(uint32_t efi_type, uint64_t attribute,
				 enum efi_memmap_view view);

struct efi_memmap_result {
	uint32_t nr_ranges;
	uint32_t nr_dropped;  /* descriptors that did not fit into the output array */
	int bad_descriptor_size;  /* desc_size smaller than the spec's descriptor */
};

/* Converts map_size bytes of descriptors (each desc_size bytes apart) into at most
 * capacity ranges, sorted by base, with touching or overlapping ranges of the same type
 * merged. Zero-length descriptors are skipped. */
struct efi_memmap_result efi_memmap_convert(const void *map, size_t map_size,
					    size_t desc_size, enum efi_memmap_view view,
					    struct mem_range *out, uint32_t capacity);

#endif
