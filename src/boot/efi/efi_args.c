#include "boot/efi/efi_args.h"

static const char separator[] = "---";

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static const char *word_end(const char *s)
{
	while (*s != '\0' && !is_blank(*s))
		s++;
	return s;
}

static int is_separator(const char *word, const char *end)
{
	return end - word == (ptrdiff_t)(sizeof(separator) - 1) && word[0] == '-' &&
	       word[1] == '-' && word[2] == '-';
}

/* Start of the next separator word at or after s, or the terminating NUL. */
static const char *find_separator(const char *s)
{
	for (s = skip_blanks(s); *s != '\0'; s = skip_blanks(word_end(s)))
		if (is_separator(s, word_end(s)))
			return s;
	return s;
}

/* Copies [start, end) without its trailing blanks; 0 when it does not fit. */
static int copy_field(char *dst, size_t dst_size, const char *start, const char *end)
{
	while (end > start && is_blank(end[-1]))
		end--;
	size_t len = (size_t)(end - start);
	if (len + 1 > dst_size)
		return 0;
	for (size_t i = 0; i < len; i++)
		dst[i] = start[i];
	dst[len] = '\0';
	return 1;
}

enum efi_args_error efi_args_parse(const char *line, struct efi_boot_args *out)
{
	out->nr_modules = 0;
	out->nestbed_args[0] = '\0';

	const char *start = skip_blanks(line);
	const char *sep = find_separator(start);
	if (!copy_field(out->nestbed_args, sizeof(out->nestbed_args), start, sep))
		return EFI_ARGS_TOO_LONG;

	while (*sep != '\0') {
		const char *path = skip_blanks(sep + sizeof(separator) - 1);
		const char *path_end = word_end(path);
		if (path == path_end || is_separator(path, path_end))
			return EFI_ARGS_MISSING_PATH;
		if (out->nr_modules == BOOT_MAX_MODULES)
			return EFI_ARGS_TOO_MANY_MODULES;

		struct efi_module_spec *module = &out->modules[out->nr_modules];
		const char *args = skip_blanks(path_end);
		sep = find_separator(args);
		if (!copy_field(module->path, sizeof(module->path), path, path_end) ||
		    !copy_field(module->args, sizeof(module->args), args, sep))
			return EFI_ARGS_TOO_LONG;
		out->nr_modules++;
	}
	return EFI_ARGS_OK;
}

const char *efi_args_error_text(enum efi_args_error error)
{
	switch (error) {
	case EFI_ARGS_OK:
		return "ok";
	case EFI_ARGS_TOO_MANY_MODULES:
		return "too many modules";
	case EFI_ARGS_MISSING_PATH:
		return "'---' without a module path";
	case EFI_ARGS_TOO_LONG:
		return "argument too long";
	}
	return "unknown error";
}

const char *efi_path_basename(const char *path)
{
	const char *base = path;
	for (const char *p = path; *p != '\0'; p++)
		if (*p == '\\' || *p == '/' || *p == ':')
			base = p + 1;
	return base;
}

int efi_module_cmdline(const struct efi_module_spec *module, char *out, size_t out_size)
{
	const char *parts[3] = { efi_path_basename(module->path), " ", module->args };
	size_t nr_parts = module->args[0] != '\0' ? 3 : 1;
	size_t n = 0;
	for (size_t p = 0; p < nr_parts; p++) {
		for (const char *c = parts[p]; *c != '\0'; c++) {
			if (n + 1 >= out_size)
				return 0;
			out[n++] = *c;
		}
	}
	if (out_size == 0)
		return 0;
	out[n] = '\0';
	return 1;
}
