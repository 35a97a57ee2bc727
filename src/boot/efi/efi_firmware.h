/* The firmware handles that efi_main() receives, for the rest of the UEFI entry path.
 * Firmware functions are called directly: with GNU_EFI_USE_MS_ABI, gnu-efi declares
 * them __attribute__((ms_abi)), so no uefi_call_wrapper is needed. */
#ifndef NESTBED_EFI_FIRMWARE_H
#define NESTBED_EFI_FIRMWARE_H

#include <efi.h>

extern EFI_SYSTEM_TABLE *efi_system_table;
extern EFI_HANDLE efi_image_handle;

_Static_assert(sizeof(CHAR16) == 2, "gnu-efi needs -fshort-wchar");

#endif
