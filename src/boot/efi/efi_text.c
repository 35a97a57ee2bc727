#include "boot/efi/efi_text.h"

#define ASCII_LAST_PRINTABLE 0x7e
#define REPLACEMENT_CHAR '?'

size_t efi_ucs2_to_ascii(char *dst, size_t dst_size, const uint16_t *src, size_t src_units)
{
	size_t n = 0;
	if (dst_size == 0)
		return 0;
	for (size_t i = 0; i < src_units && src[i] != 0 && n + 1 < dst_size; i++)
		dst[n++] = src[i] <= ASCII_LAST_PRINTABLE ? (char)src[i] : REPLACEMENT_CHAR;
	dst[n] = '\0';
	return n;
}

int efi_path_to_ucs2(uint16_t *dst, size_t dst_units, const char *path)
{
	size_t i = 0;
	for (; path[i] != '\0'; i++) {
		if (i + 1 >= dst_units)
			return 0;
		dst[i] = path[i] == '/' ? '\\' : (uint8_t)path[i];
	}
	if (dst_units == 0)
		return 0;
	dst[i] = 0;
	return 1;
}

size_t efi_console_chunk(uint16_t *dst, size_t dst_units, const char *src, size_t len)
{
	size_t used = 0, n = 0;
	if (dst_units == 0)
		return 0;
	while (used < len) {
		unsigned char c = (unsigned char)src[used];
		size_t need = c == '\n' ? 2 : 1;
		if (n + need + 1 > dst_units)
			break;
		if (c == '\n')
			dst[n++] = '\r';
		/* A NUL would end the CHAR16 string early. */
		dst[n++] = c != 0 && c <= ASCII_LAST_PRINTABLE ? c : REPLACEMENT_CHAR;
		used++;
	}
	dst[n] = 0;
	return used;
}
