#include "boot/efi/efi_load_options.h"

#include "boot/efi/efi_args.h"
#include "boot/efi/efi_text.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Compares a[0..a_len) with the terminated b, ignoring ASCII case. */
static int equal_nocase(const char *a, size_t a_len, const char *b)
{
	size_t i = 0;
	for (; i < a_len; i++)
		if (b[i] == '\0' || ascii_lower(a[i]) != ascii_lower(b[i]))
			return 0;
	return b[i] == '\0';
}

static int is_image_word(const char *word, size_t len, const char *image_name)
{
	static const char efi_suffix[] = ".efi";
	const size_t suffix_len = sizeof(efi_suffix) - 1;
	size_t start = 0;
	for (size_t i = 0; i < len; i++)
		if (word[i] == '\\' || word[i] == '/' || word[i] == ':')
			start = i + 1;
	const char *base = word + start;
	size_t base_len = len - start;

	if (base_len > suffix_len &&
	    equal_nocase(base + base_len - suffix_len, suffix_len, efi_suffix))
		return 1;
	return image_name != NULL && base_len > 0 &&
	       equal_nocase(base, base_len, efi_path_basename(image_name));
}

/* Moves the trimmed text of s (without its first word when skip_first) to its start. */
static void trim_in_place(char *s, int skip_first, const char *image_name)
{
	size_t start = 0, end = 0;
	while (s[end] != '\0')
		end++;
	while (start < end && is_blank(s[start]))
		start++;
	if (skip_first) {
		size_t word_end = start;
		while (word_end < end && !is_blank(s[word_end]))
			word_end++;
		if (word_end > start && is_image_word(s + start, word_end - start, image_name)) {
			start = word_end;
			while (start < end && is_blank(s[start]))
				start++;
		}
	}
	while (end > start && is_blank(s[end - 1]))
		end--;
	size_t n = 0;
	for (size_t i = start; i < end; i++)
		s[n++] = s[i];
	s[n] = '\0';
}

/* Text means printable ASCII and blanks up to the first NUL: nestbed's arguments are
 * ASCII, and anything else is more likely binary OptionalData than a command line. */
static int is_ucs2_text(const uint16_t *units, size_t count)
{
	for (size_t i = 0; i < count && units[i] != 0; i++) {
		uint16_t u = units[i];
		if (!(u >= 0x20 && u <= 0x7e) && u != '\t' && u != '\r' && u != '\n')
			return 0;
	}
	return 1;
}

enum efi_load_options_kind efi_load_options_to_cmdline(const void *options, uint32_t size,
						       const char *image_name,
						       char *out, size_t out_size)
{
	const uint16_t *units = options;
	size_t count = size / sizeof(uint16_t);

	if (out_size > 0)
		out[0] = '\0';
	if (options == NULL || count == 0 || out_size == 0)
		return EFI_LOAD_OPTIONS_EMPTY;
	if (!is_ucs2_text(units, count))
		return EFI_LOAD_OPTIONS_NOT_TEXT;
	size_t text_units = 0;
	while (text_units < count && units[text_units] != 0)
		text_units++;
	if (efi_ucs2_to_ascii(out, out_size, units, count) < text_units)
		return EFI_LOAD_OPTIONS_TOO_LONG;
	trim_in_place(out, 1, image_name);
	return out[0] == '\0' ? EFI_LOAD_OPTIONS_EMPTY : EFI_LOAD_OPTIONS_TEXT;
}

int efi_config_first_line(const char *text, size_t len, char *out, size_t out_size)
{
	static const char utf8_bom[] = "\xef\xbb\xbf";
	size_t i = 0, n = 0;
	if (out_size == 0)
		return 0;
	if (len >= 3 && text[0] == utf8_bom[0] && text[1] == utf8_bom[1] &&
	    text[2] == utf8_bom[2])
		i = 3;
	for (; i < len && text[i] != '\n' && text[i] != '\0' && n + 1 < out_size; i++)
		out[n++] = text[i];
	out[n] = '\0';
	int complete = i == len || text[i] == '\n' || text[i] == '\0';
	trim_in_place(out, 0, NULL);
	return complete;
}
