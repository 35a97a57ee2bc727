#include "boot/efi/efi_status.h"

#include <stddef.h>

/* Indexed by the error code without EFI_STATUS_ERROR_BIT (UEFI 2.10, Appendix D). */
static const char *const error_texts[] = {
	[1] = "load error",
	[2] = "invalid parameter",
	[3] = "unsupported",
	[4] = "bad buffer size",
	[5] = "buffer too small",
	[6] = "not ready",
	[7] = "device error",
	[8] = "write protected",
	[9] = "out of resources",
	[10] = "volume corrupted",
	[11] = "volume full",
	[12] = "no media",
	[13] = "media changed",
	[14] = "not found",
	[15] = "access denied",
	[18] = "timeout",
	[21] = "aborted",
	[26] = "security violation",
	[27] = "CRC error",
};

const char *efi_status_text(uint64_t status)
{
	if (status == 0)
		return "success";
	if (!(status & EFI_STATUS_ERROR_BIT))
		return NULL;
	uint64_t code = status & ~EFI_STATUS_ERROR_BIT;
	if (code >= sizeof(error_texts) / sizeof(error_texts[0]))
		return NULL;
	return error_texts[code];
}
