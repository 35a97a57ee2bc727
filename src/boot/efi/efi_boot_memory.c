#include "boot/efi/efi_boot_memory.h"

#include "boot/efi/efi_memmap.h"

#define PAGE_SIZE 4096ull
/* The map can grow between the size query and the real call (our own pool allocation
 * may split a range): leave room for a few more descriptors, and retry a few times. */
#define MEMORY_MAP_SLACK_DESCRIPTORS 8
#define MEMORY_MAP_ATTEMPTS 4

EFI_STATUS efi_allocate_heap(struct boot_info *bi, uint64_t bytes)
{
	UINTN pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	EFI_PHYSICAL_ADDRESS address = 0;
	EFI_STATUS status = efi_system_table->BootServices->AllocatePages(
		AllocateAnyPages, EfiLoaderData, pages, &address);
	if (status != EFI_SUCCESS)
		return status;
	bi->heap_phys = address;
	bi->heap_size = pages * PAGE_SIZE;
	return EFI_SUCCESS;
}

EFI_STATUS efi_fill_memory_map(struct boot_info *bi, uint32_t *nr_dropped)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	EFI_STATUS status = EFI_BUFFER_TOO_SMALL;

	for (int attempt = 0; attempt < MEMORY_MAP_ATTEMPTS && status == EFI_BUFFER_TOO_SMALL;
	     attempt++) {
		UINTN map_size = 0, map_key, desc_size = 0;
		UINT32 desc_version;
		EFI_MEMORY_DESCRIPTOR *map = NULL;

		status = bs->GetMemoryMap(&map_size, NULL, &map_key, &desc_size, &desc_version);
		if (status != EFI_BUFFER_TOO_SMALL)
			return status == EFI_SUCCESS ? EFI_DEVICE_ERROR : status;
		map_size += MEMORY_MAP_SLACK_DESCRIPTORS * desc_size;
		status = bs->AllocatePool(EfiLoaderData, map_size, (void **)&map);
		if (status != EFI_SUCCESS)
			return status;
		status = bs->GetMemoryMap(&map_size, map, &map_key, &desc_size, &desc_version);
		if (status == EFI_SUCCESS) {
			struct efi_memmap_result r = efi_memmap_convert(
				map, map_size, desc_size, EFI_VIEW_OS, bi->ranges,
				BOOT_MAX_MEM_RANGES);
			bi->nr_ranges = r.nr_ranges;
			*nr_dropped = r.nr_dropped;
			if (r.bad_descriptor_size)
				status = EFI_INCOMPATIBLE_VERSION;
		}
		bs->FreePool(map);
	}
	return status;
}
