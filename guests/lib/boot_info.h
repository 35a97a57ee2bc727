/* What the boot loader told the guest, copied out of the Multiboot information at
 * start-up (or, in the UEFI build, out of the firmware: guests/efi/) so that probes need
 * not know either layout. */
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

enum guest_boot_protocol {
	GUEST_BOOT_MULTIBOOT, /* entry.asm: a Multiboot 1 loader (QEMU -kernel, GRUB, nestbed) */
	GUEST_BOOT_UEFI,      /* guests/efi/: a UEFI application, after ExitBootServices */
};

/* UEFI only: the firmware's memory map as GetMemoryMap returned it for the successful
 * ExitBootServices (UEFI 2.10, 7.2.3), kept in the image so that probes can check it. */
struct guest_efi_memory_map {
	const void *descriptors;     /* EFI_MEMORY_DESCRIPTORs, descriptor_size bytes apart */
	uint64_t size;               /* bytes */
	uint64_t descriptor_size;
	uint32_t descriptor_version;
};

struct guest_boot_info {
	enum guest_boot_protocol protocol;

	uint64_t info_phys;        /* where the Multiboot information was */
	uint32_t multiboot_flags;  /* as the loader set them */

	/* UEFI: the source of memory_ranges below (usable: conventional, boot services and
	 * loader memory, as an OS sees it after ExitBootServices). */
	struct guest_efi_memory_map efi_memory_map;

	bool has_memory_size;      /* mem_lower/mem_upper valid (Multiboot only) */
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

	/* UEFI: the ACPI RSDP from the configuration table (UEFI 2.10 4.6; ACPI 6.4
	 * 5.2.5.2), 0 when none. Multiboot 1 gives none: the guest scans the BIOS area. */
	uint64_t acpi_rsdp;
};

/* Filled in once by guest_start(); read-only for probes. */
extern struct guest_boot_info guest_boot_info;

/* Reads the Multiboot information at info_phys (identity-mapped) into *out. */
void multiboot_parse(uint64_t info_phys, struct guest_boot_info *out);

#endif
