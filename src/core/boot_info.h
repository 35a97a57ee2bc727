/* The neutral description of the machine that every entry path (Multiboot, UEFI) hands
 * to nestbed_main(). Pure data: no pointers into loader memory survive into it, strings
 * are copied, modules are described by physical address and size. */
#ifndef NESTBED_BOOT_INFO_H
#define NESTBED_BOOT_INFO_H

#include <stdbool.h>
#include <stdint.h>

/* Memory types use the ACPI/E820 numbering (ACPI 6.4, 15.1 "INT 15H E820H"). */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
	MEM_NESTBED = 0x4e42, /* nestbed's own region, reported reserved to guests */
};

#define BOOT_MAX_MEM_RANGES 128
#define BOOT_MAX_MODULES 8
#define BOOT_CMDLINE_MAX 512

struct mem_range {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum mem_type */
};

struct boot_module {
	uint64_t phys;   /* where the loader left it (or where nestbed copied it) */
	uint64_t size;
	char cmdline[BOOT_CMDLINE_MAX]; /* first word is the file name by convention */
	bool in_place; /* the guest kernel, loaded from where the loader left it (main.c) */
};

enum boot_path {
	BOOT_PATH_MULTIBOOT = 1,
	BOOT_PATH_UEFI = 2,
};

struct boot_info {
	enum boot_path path;
	char loader_name[64];
	char cmdline[BOOT_CMDLINE_MAX];  /* nestbed's own arguments, without the image name */
	uint32_t nr_ranges;
	struct mem_range ranges[BOOT_MAX_MEM_RANGES];
	uint32_t nr_modules;
	struct boot_module modules[BOOT_MAX_MODULES];
	uint64_t rsdp_phys;               /* 0 when not found */
	/* Physical extent of nestbed's loaded image, for reservation. */
	uint64_t image_phys;
	uint64_t image_size;
	uint64_t image_virt;               /* the image's first byte as nestbed addresses it */
	/* Memory nestbed may allocate from (frames for its heap, tables, module copies).
	 * Multiboot: the part of the relocated region after the image. UEFI: pages the
	 * entry path allocated from the firmware. Reserved in the guest's memory map. */
	uint64_t heap_phys;
	uint64_t heap_size;
	/* Boot services are still active; nestbed must not take over the IDT or paging
	 * that the firmware relies on. No path sets it today (nestbed.efi exits boot
	 * services first): it is for the UEFI blue pill (DESIGN.md). */
	bool firmware_active;
};

#endif
