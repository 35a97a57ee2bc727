/* The Multiboot 1 information structure (spec 0.6.96, 3.3) and its memory map. */
#ifndef NESTBED_MULTIBOOT_INFO_H
#define NESTBED_MULTIBOOT_INFO_H

#include <stdint.h>

#include "core/multiboot1.h"

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

struct mb1_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

/* `size` does not count itself: the next entry is at (entry + size + 4). */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));

#endif
