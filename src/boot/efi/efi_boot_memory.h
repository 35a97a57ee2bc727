/* nestbed's memory under UEFI: its heap, taken from the firmware, and the memory map
 * handed to the core. */
#ifndef NESTBED_EFI_BOOT_MEMORY_H
#define NESTBED_EFI_BOOT_MEMORY_H

#include <stdint.h>

#include "boot/efi/efi_firmware.h"
#include "core/boot_info.h"

/* Allocates bytes (rounded up to pages) as EfiLoaderData into bi->heap_phys/heap_size:
 * while boot services run, only the firmware may hand out memory. */
EFI_STATUS efi_allocate_heap(struct boot_info *bi, uint64_t bytes);

/* Fills bi->ranges from GetMemoryMap (the OS view, see efi_memmap.c). Call it last, so
 * that the map shows the module and heap allocations. *nr_dropped gets the number of
 * firmware descriptors that did not fit into bi->ranges. */
EFI_STATUS efi_fill_memory_map(struct boot_info *bi, uint32_t *nr_dropped);

#endif
