/* Text between the firmware (UCS-2, CHAR16) and nestbed (ASCII). Pure: uint16_t stands
 * for CHAR16 so the host unit tests need neither gnu-efi nor -fshort-wchar. */
#ifndef NESTBED_EFI_TEXT_H
#define NESTBED_EFI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Copies at most src_units code units of src, stopping at a NUL, into dst as ASCII:
 * anything outside 7-bit ASCII becomes '?'. Always terminates when dst_size > 0.
 * Returns the number of characters written (without the NUL). */
size_t efi_ucs2_to_ascii(char *dst, size_t dst_size, const uint16_t *src, size_t src_units);

/* Converts an ASCII file path for EFI_FILE_PROTOCOL.Open(): '/' becomes '\\' (the UEFI
 * separator, UEFI 2.10 13.5). Returns 0 when it does not fit into dst_units (with the NUL). */
int efi_path_to_ucs2(uint16_t *dst, size_t dst_units, const char *path);

/* Converts ASCII text for SIMPLE_TEXT_OUTPUT.OutputString(): "\n" becomes "\r\n" (the
 * firmware console does not add the carriage return); NUL and bytes above 0x7e become
 * '?'. Consumes as much of src[0..len) as fits into dst_units-1 units, terminates dst,
 * and returns how many bytes of src it consumed: with dst_units >= 3 that is at least one. */
size_t efi_console_chunk(uint16_t *dst, size_t dst_units, const char *src, size_t len);

#endif
