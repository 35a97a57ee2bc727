/* nestbed's memory under UEFI: its heap, taken from the firmware while boot services
 * run (the memory map comes with ExitBootServices, efi_exit_boot_services.h). */
#ifndef NESTBED_EFI_BOOT_MEMORY_H
#define NESTBED_EFI_BOOT_MEMORY_H

#include <stdint.h>

#include "boot/efi/efi_firmware.h"
#include "core/boot_info.h"

/* Allocates bytes (rounded up to pages) as EfiLoaderData into bi->heap_phys/heap_size:
 * while boot services run, only the firmware may hand out memory. */
EFI_STATUS efi_allocate_heap(struct boot_info *bi, uint64_t bytes);

#endif
