/* The ACPI RSDP from the UEFI configuration table. */
#ifndef NESTBED_EFI_RSDP_H
#define NESTBED_EFI_RSDP_H

#include <stdint.h>

/* The ACPI 2.0+ RSDP if the firmware lists one, else the ACPI 1.0 RSDP, else 0. */
uint64_t efi_find_rsdp(void);

#endif
