/* Reading EFI device paths (UEFI 2.10, 10.2 and 10.3). Pure: a device path is read byte
 * by byte, since its nodes need not be aligned. */
#ifndef NESTBED_EFI_DEVICE_PATH_H
#define NESTBED_EFI_DEVICE_PATH_H

#include <stddef.h>

/* Does the path go through a UART (a serial terminal)? NULL has none. */
int efi_device_path_has_uart(const void *path);

/* The text of the path's file path media nodes, e.g. "\EFI\BOOT\BOOTX64.EFI" for an
 * image's LoadedImage->FilePath, as ASCII; "" when there is none. */
void efi_device_path_file_name(const void *path, char *out, size_t out_size);

#endif
