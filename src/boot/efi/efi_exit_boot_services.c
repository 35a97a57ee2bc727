#include "boot/efi/efi_exit_boot_services.h"

#include "boot/efi/efi_memmap.h"

/* The buffer is allocated once, before the first ExitBootServices(): after a failed
 * call only GetMemoryMap() is allowed (UEFI 2.10, 7.4.6), so the retries must fit in it.
 * Room for a few more descriptors covers the pool allocation itself and what the
 * firmware's own events change before the key is used. */
#define MEMORY_MAP_SLACK_DESCRIPTORS 16
/* A map key goes stale when an event or timer handler allocates memory between
 * GetMemoryMap() and ExitBootServices(); a few tries are plenty. */
#define EXIT_ATTEMPTS 8

EFI_STATUS efi_exit_boot_services(struct boot_info *bi, uint32_t *nr_dropped)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	UINTN map_size = 0, map_key, desc_size = 0;
	UINT32 desc_version;
	EFI_MEMORY_DESCRIPTOR *map = NULL;

	EFI_STATUS status = bs->GetMemoryMap(&map_size, NULL, &map_key, &desc_size,
					     &desc_version);
	if (status != EFI_BUFFER_TOO_SMALL)
		return status == EFI_SUCCESS ? EFI_DEVICE_ERROR : status;
	UINTN capacity = map_size + MEMORY_MAP_SLACK_DESCRIPTORS * desc_size;
	status = bs->AllocatePool(EfiLoaderData, capacity, (void **)&map);
	if (status != EFI_SUCCESS)
		return status;

	/* UEFI 2.10, 7.4.6 ExitBootServices(): EFI_INVALID_PARAMETER means the key is not
	 * the current map's; get the map again and retry with the new key. */
	status = EFI_INVALID_PARAMETER;
	for (int attempt = 0; attempt < EXIT_ATTEMPTS && status == EFI_INVALID_PARAMETER;
	     attempt++) {
		map_size = capacity;
		status = bs->GetMemoryMap(&map_size, map, &map_key, &desc_size, &desc_version);
		if (status != EFI_SUCCESS)
			return status; /* the pool stays: FreePool may be gone already */
		status = bs->ExitBootServices(efi_image_handle, map_key);
	}
	if (status != EFI_SUCCESS)
		return status;

	/* The map buffer is now plain memory that the guest will own: read it right away. */
	struct efi_memmap_result r = efi_memmap_convert(map, map_size, desc_size, EFI_VIEW_OS,
							bi->ranges, BOOT_MAX_MEM_RANGES);
	bi->nr_ranges = r.nr_ranges;
	*nr_dropped = r.nr_dropped;
	return r.bad_descriptor_size ? EFI_INCOMPATIBLE_VERSION : EFI_SUCCESS;
}
