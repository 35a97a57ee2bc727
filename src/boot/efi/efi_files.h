/* Files on the volume nestbed.efi was loaded from (Simple File System, UEFI 2.10, 13.4). */
#ifndef NESTBED_EFI_FILES_H
#define NESTBED_EFI_FILES_H

#include <stdint.h>

#include "boot/efi/efi_firmware.h"

/* The root directory of the file system on device (LoadedImage->DeviceHandle). */
EFI_STATUS efi_volume_open(EFI_HANDLE device, EFI_FILE_HANDLE *root);

/* Reads a whole file ('/' or '\\' separated path) into fresh EfiLoaderData pages (at
 * least one page, so an empty file still has an address). EFI_NOT_FOUND for a missing
 * file, EFI_ACCESS_DENIED for a directory. */
EFI_STATUS efi_file_read_pages(EFI_FILE_HANDLE root, const char *path, uint64_t *phys,
			       uint64_t *size);

/* Reads a whole file into pool memory (free it with FreePool). */
EFI_STATUS efi_file_read_pool(EFI_FILE_HANDLE root, const char *path, void **data,
			      uint64_t *size);

#endif
