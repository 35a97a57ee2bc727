/* Leaving the firmware: the last memory map and ExitBootServices(). */
#ifndef NESTBED_EFI_EXIT_BOOT_SERVICES_H
#define NESTBED_EFI_EXIT_BOOT_SERVICES_H

#include <stdint.h>

#include "boot/efi/efi_firmware.h"
#include "core/boot_info.h"

/* Takes the memory map, exits boot services with its key and fills bi->ranges from that
 * map (the OS view, see efi_memmap.c). Call it last: afterwards no boot service may be
 * called, not even on failure (the firmware may have shut part of itself down); only
 * runtime services remain. *nr_dropped gets the number of firmware descriptors that did
 * not fit into bi->ranges. */
EFI_STATUS efi_exit_boot_services(struct boot_info *bi, uint32_t *nr_dropped);

#endif
