/* The UEFI command line syntax, shared by LoadOptions and \nestbed.cfg:
 *
 *     <nestbed args> --- <path> <module args> [--- <path> <module args>]...
 *
 * "---" separates only as a word of its own; words are split at spaces and tabs, with no
 * quoting. Pure: compiled for the host unit tests too. */
#ifndef NESTBED_EFI_ARGS_H
#define NESTBED_EFI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "core/boot_info.h"

#define EFI_MODULE_PATH_MAX 256

struct efi_module_spec {
	char path[EFI_MODULE_PATH_MAX];  /* as written: '/' or '\\' separators */
	char args[BOOT_CMDLINE_MAX];     /* trimmed, inner blanks kept */
};

struct efi_boot_args {
	char nestbed_args[BOOT_CMDLINE_MAX];  /* trimmed, inner blanks kept */
	uint32_t nr_modules;
	struct efi_module_spec modules[BOOT_MAX_MODULES];
};

enum efi_args_error {
	EFI_ARGS_OK,
	EFI_ARGS_TOO_MANY_MODULES,  /* more than BOOT_MAX_MODULES */
	EFI_ARGS_MISSING_PATH,      /* a "---" with no path after it */
	EFI_ARGS_TOO_LONG,          /* a field does not fit its buffer */
};

enum efi_args_error efi_args_parse(const char *line, struct efi_boot_args *out);
const char *efi_args_error_text(enum efi_args_error error);

/* The last component of a path ('\\', '/' or ':' separate components). */
const char *efi_path_basename(const char *path);

/* The module's command line for boot_info: "<basename> <module args>", or only the
 * basename when there are no args. Returns 0 when it does not fit into out_size. */
int efi_module_cmdline(const struct efi_module_spec *module, char *out, size_t out_size);

#endif
