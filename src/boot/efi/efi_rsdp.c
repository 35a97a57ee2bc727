#include "boot/efi/efi_rsdp.h"

#include "boot/efi/efi_firmware.h"
#include "core/string.h"

/* EFI_CONFIGURATION_TABLE entries (UEFI 2.10, 4.6 "EFI Configuration Table"). */
static uint64_t find_table(const EFI_GUID *guid)
{
	const EFI_CONFIGURATION_TABLE *tables = efi_system_table->ConfigurationTable;
	for (UINTN i = 0; i < efi_system_table->NumberOfTableEntries; i++)
		if (memcmp(&tables[i].VendorGuid, guid, sizeof(*guid)) == 0)
			return (uint64_t)(uintptr_t)tables[i].VendorTable;
	return 0;
}

uint64_t efi_find_rsdp(void)
{
	/* 4.6.1 "Industry Standard Configuration Tables": EFI_ACPI_20_TABLE_GUID points at
	 * an RSDP with an XSDT; ACPI_TABLE_GUID at an ACPI 1.0 RSDP (RSDT only). */
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	EFI_GUID acpi10 = ACPI_TABLE_GUID;
	uint64_t rsdp = find_table(&acpi20);
	return rsdp ? rsdp : find_table(&acpi10);
}
