#include "boot/efi/efi_device_path.h"

#include <stdint.h>

/* EFI_DEVICE_PATH_PROTOCOL node header: Type, SubType, 16-bit Length (UEFI 2.10, 10.2). */
#define DP_HEADER_SIZE 4
#define DP_TYPE_MESSAGING 0x03
#define DP_TYPE_MEDIA 0x04
#define DP_TYPE_END 0x7f
#define DP_SUBTYPE_END_ENTIRE 0xff
#define DP_MESSAGING_UART 0x0e   /* 10.3.4.17 UART Device Path */
#define DP_MEDIA_FILE_PATH 0x04  /* 10.3.5.4 File Path Media Device Path */
/* A malformed path must not keep us walking forever. */
#define DP_MAX_NODES 256

struct dp_cursor {
	const uint8_t *node;
	unsigned visited;
};

static unsigned node_length(const uint8_t *node)
{
	return (unsigned)node[2] | (unsigned)node[3] << 8;
}

/* The current node, or NULL at the end of the path (or at a malformed node). */
static const uint8_t *dp_current(const struct dp_cursor *c)
{
	if (c->node == NULL || c->visited >= DP_MAX_NODES)
		return NULL;
	if (c->node[0] == DP_TYPE_END && c->node[1] == DP_SUBTYPE_END_ENTIRE)
		return NULL;
	if (node_length(c->node) < DP_HEADER_SIZE)
		return NULL;
	return c->node;
}

static void dp_next(struct dp_cursor *c)
{
	c->node += node_length(c->node);
	c->visited++;
}

int efi_device_path_has_uart(const void *path)
{
	struct dp_cursor c = { path, 0 };
	for (const uint8_t *n; (n = dp_current(&c)) != NULL; dp_next(&c))
		if (n[0] == DP_TYPE_MESSAGING && n[1] == DP_MESSAGING_UART)
			return 1;
	return 0;
}

void efi_device_path_file_name(const void *path, char *out, size_t out_size)
{
	size_t n = 0;
	if (out_size == 0)
		return;
	struct dp_cursor c = { path, 0 };
	for (const uint8_t *node; (node = dp_current(&c)) != NULL; dp_next(&c)) {
		if (node[0] != DP_TYPE_MEDIA || node[1] != DP_MEDIA_FILE_PATH)
			continue;
		unsigned units = (node_length(node) - DP_HEADER_SIZE) / 2;
		const uint8_t *text = node + DP_HEADER_SIZE;
		/* A path split over several nodes is joined with the UEFI separator. */
		if (n > 0 && out[n - 1] != '\\' && units > 0 && text[0] != '\\' && n + 1 < out_size)
			out[n++] = '\\';
		for (unsigned i = 0; i < units && n + 1 < out_size; i++) {
			unsigned unit = (unsigned)text[2 * i] | (unsigned)text[2 * i + 1] << 8;
			if (unit == 0)
				break;
			out[n++] = unit <= 0x7e ? (char)unit : '?';
		}
	}
	out[n] = '\0';
}
