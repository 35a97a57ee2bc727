/* Where the UEFI command line comes from: the image's LoadOptions (UCS-2, as the UEFI
 * shell or a Boot#### option passes them) or the first line of \nestbed.cfg. Pure. */
#ifndef NESTBED_EFI_LOAD_OPTIONS_H
#define NESTBED_EFI_LOAD_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

enum efi_load_options_kind {
	EFI_LOAD_OPTIONS_EMPTY,    /* none, blank, or only the image's own name */
	EFI_LOAD_OPTIONS_TEXT,     /* a command line, now in out */
	EFI_LOAD_OPTIONS_NOT_TEXT, /* binary OptionalData (EDK II's auto-created boot
				    * options carry a GUID there) */
	EFI_LOAD_OPTIONS_TOO_LONG, /* text that does not fit into out */
};

/* Decodes EFI_LOADED_IMAGE_PROTOCOL.LoadOptions (size in bytes). A first word that names
 * an .efi file or the image itself (image_name, may be NULL; any path prefix is ignored,
 * case does not matter) is dropped: the UEFI shell passes the command as typed, starting
 * with the image's path. Leading and trailing blanks are trimmed. out is always
 * terminated. */
enum efi_load_options_kind efi_load_options_to_cmdline(const void *options, uint32_t size,
						       const char *image_name,
						       char *out, size_t out_size);

/* Copies the first line of a config file (len bytes, not terminated) into out, without
 * a UTF-8 byte order mark, the line end and leading or trailing blanks. Returns 0 when
 * the line does not fit (out then holds a terminated but cut line), 1 otherwise. */
int efi_config_first_line(const char *text, size_t len, char *out, size_t out_size);

#endif
