#include "boot/efi/efi_files.h"

#include <stddef.h>

#include "boot/efi/efi_args.h"
#include "boot/efi/efi_text.h"
#include "core/x86.h"

#define EFI_FILE_NAME_MAX_UNITS EFI_MODULE_PATH_MAX

EFI_STATUS efi_volume_open(EFI_HANDLE device, EFI_FILE_HANDLE *root)
{
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_STATUS status = efi_system_table->BootServices->HandleProtocol(device, &fs_guid,
									   (void **)&fs);
	if (status != EFI_SUCCESS)
		return status;
	return fs->OpenVolume(fs, root);
}

/* Opens path for reading and returns its size; directories are refused. */
static EFI_STATUS open_regular_file(EFI_FILE_HANDLE root, const char *path,
				   EFI_FILE_HANDLE *file, uint64_t *size)
{
	uint16_t name[EFI_FILE_NAME_MAX_UNITS];
	/* EFI_FILE_INFO ends in the file's name; room for the longest name we open. */
	static UINT64 info_buffer[(offsetof(EFI_FILE_INFO, FileName) + sizeof(name)) /
				  sizeof(UINT64) + 1];
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	UINTN info_size = sizeof(info_buffer);

	if (!efi_path_to_ucs2(name, EFI_FILE_NAME_MAX_UNITS, path))
		return EFI_INVALID_PARAMETER;
	EFI_STATUS status = root->Open(root, file, (CHAR16 *)name, EFI_FILE_MODE_READ, 0);
	if (status != EFI_SUCCESS)
		return status;
	status = (*file)->GetInfo(*file, &info_guid, &info_size, info_buffer);
	const EFI_FILE_INFO *info = (const EFI_FILE_INFO *)info_buffer;
	if (status == EFI_SUCCESS && (info->Attribute & EFI_FILE_DIRECTORY))
		status = EFI_ACCESS_DENIED;
	if (status != EFI_SUCCESS) {
		(*file)->Close(*file);
		return status;
	}
	*size = info->FileSize;
	return EFI_SUCCESS;
}

/* Reads exactly size bytes: Read() may return fewer than asked for. */
static EFI_STATUS read_all(EFI_FILE_HANDLE file, void *buffer, uint64_t size)
{
	uint8_t *at = buffer;
	while (size > 0) {
		UINTN chunk = size;
		EFI_STATUS status = file->Read(file, &chunk, at);
		if (status != EFI_SUCCESS)
			return status;
		if (chunk == 0)
			return EFI_END_OF_FILE; /* the file shrank under us */
		at += chunk;
		size -= chunk;
	}
	return EFI_SUCCESS;
}

EFI_STATUS efi_file_read_pages(EFI_FILE_HANDLE root, const char *path, uint64_t *phys,
			       uint64_t *size)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	EFI_FILE_HANDLE file;
	EFI_STATUS status = open_regular_file(root, path, &file, size);
	if (status != EFI_SUCCESS)
		return status;

	UINTN pages = *size == 0 ? 1 : (*size + PAGE_SIZE - 1) / PAGE_SIZE;
	EFI_PHYSICAL_ADDRESS address = 0;
	status = bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &address);
	if (status == EFI_SUCCESS) {
		status = read_all(file, (void *)(uintptr_t)address, *size);
		if (status != EFI_SUCCESS)
			bs->FreePages(address, pages);
	}
	file->Close(file);
	*phys = address;
	return status;
}

EFI_STATUS efi_file_read_pool(EFI_FILE_HANDLE root, const char *path, void **data,
			      uint64_t *size)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	EFI_FILE_HANDLE file;
	EFI_STATUS status = open_regular_file(root, path, &file, size);
	if (status != EFI_SUCCESS)
		return status;

	status = bs->AllocatePool(EfiLoaderData, *size + 1, data);
	if (status == EFI_SUCCESS) {
		status = read_all(file, *data, *size);
		if (status != EFI_SUCCESS)
			bs->FreePool(*data);
	}
	file->Close(file);
	return status;
}
