/* Names for EFI_STATUS error codes in one-line messages. Pure. */
#ifndef NESTBED_EFI_STATUS_H
#define NESTBED_EFI_STATUS_H

#include <stdint.h>

/* Error codes have the top bit set (UEFI 2.10, Appendix D "Status Codes"). */
#define EFI_STATUS_ERROR_BIT (1ull << 63)

/* "not found", "out of resources", ...; "success" for 0; NULL when unknown. */
const char *efi_status_text(uint64_t status);

#endif
