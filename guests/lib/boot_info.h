/* What the boot loader told the guest, copied out of the Multiboot information at
 * start-up so that probes need not know the Multiboot layout. */
#ifndef GUEST_BOOT_INFO_H
#define GUEST_BOOT_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/cmdline.h"
#include "lib/memory_map.h"

#define GUEST_MAX_MEMORY_RANGES 64
#define GUEST_MAX_MODULES       8
#define GUEST_MODULE_CMDLINE_MAX 128
#define GUEST_LOADER_NAME_MAX   64

struct guest_module {
	uint64_t start, end; /* physical, end exclusive */
	char cmdline[GUEST_MODULE_CMDLINE_MAX];
};

struct guest_boot_info {
	uint64_t info_phys;        /* where the Multiboot information was */
	uint32_t multiboot_flags;  /* as the loader set them */

	bool has_memory_size;      /* mem_lower/mem_upper valid */
	uint32_t mem_lower_kib;    /* usable KiB from 0 */
	uint32_t mem_upper_kib;    /* usable KiB from 1 MiB up to the first hole */

	bool has_cmdline;
	char cmdline[CMDLINE_MAX];
	bool cmdline_truncated;

	char loader_name[GUEST_LOADER_NAME_MAX]; /* "" when not given */

	bool has_memory_map;
	bool memory_map_truncated; /* more than GUEST_MAX_MEMORY_RANGES entries */
	unsigned nr_memory_ranges;
	struct memory_range memory_ranges[GUEST_MAX_MEMORY_RANGES];

	unsigned nr_modules;
	struct guest_module modules[GUEST_MAX_MODULES];
};

/* Filled in once by guest_start(); read-only for probes. */
extern struct guest_boot_info guest_boot_info;

/* Reads the Multiboot information at info_phys (identity-mapped) into *out. */
void multiboot_parse(uint64_t info_phys, struct guest_boot_info *out);

#endif
