#include "boot/efi/efi_poweroff.h"

#include "boot/efi/efi_firmware.h"

void nestbed_uefi_poweroff(int code)
{
	/* The status is what the firmware may log as the reason (UEFI 2.10, 8.5.1). */
	EFI_STATUS reason = code == 0 ? EFI_SUCCESS : EFI_ABORTED;
	efi_system_table->RuntimeServices->ResetSystem(EfiResetShutdown, reason, 0, NULL);
}
