#include "boot/efi/efi_boot_memory.h"
#include "core/x86.h"

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
