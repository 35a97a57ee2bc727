#include "lib/boot_info.h"

#include "core/string.h"
#include "lib/layout.h"

/* Multiboot 0.6.96, 3.3 "Boot information format". */
#define MB_INFO_MEMORY      (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODULES     (1u << 3)
#define MB_INFO_MEMORY_MAP  (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct multiboot_info {
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
} __attribute__((packed));

struct multiboot_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

/* An mmap entry; `size` counts the bytes after itself, which may exceed 20. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));

struct guest_boot_info guest_boot_info;

/* The loader's pointers are physical; page 0 and everything above 4 GiB are unmapped. */
static bool readable(uint64_t address, uint64_t size)
{
	return address >= NULL_GUARD_SIZE && address + size <= IDENTITY_MAP_END;
}

/* Copies a loader string; returns true if it had to be cut. */
static bool copy_string(char *dst, size_t size, uint32_t phys)
{
	dst[0] = '\0';
	if (!readable(phys, 1))
		return false;
	const char *src = (const char *)(uintptr_t)phys;
	size_t len = strnlen(src, size);
	strlcpy(dst, src, size);
	return len == size;
}

static void parse_memory_map(const struct multiboot_info *info, struct guest_boot_info *out)
{
	if (!(info->flags & MB_INFO_MEMORY_MAP) || !readable(info->mmap_addr, info->mmap_length))
		return;
	out->has_memory_map = true;
	uint64_t at = info->mmap_addr, end = (uint64_t)info->mmap_addr + info->mmap_length;
	while (at + sizeof(struct multiboot_mmap_entry) <= end) {
		const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)at;
		if (out->nr_memory_ranges == GUEST_MAX_MEMORY_RANGES) {
			out->memory_map_truncated = true;
			break;
		}
		out->memory_ranges[out->nr_memory_ranges++] = (struct memory_range){
			.base = e->base_addr, .length = e->length, .type = e->type
		};
		at += (uint64_t)e->size + sizeof(e->size);
	}
}

static void parse_modules(const struct multiboot_info *info, struct guest_boot_info *out)
{
	if (!(info->flags & MB_INFO_MODULES) ||
	    !readable(info->mods_addr, (uint64_t)info->mods_count * sizeof(struct multiboot_module)))
		return;
	const struct multiboot_module *mods = (const void *)(uintptr_t)info->mods_addr;
	for (uint32_t i = 0; i < info->mods_count && i < GUEST_MAX_MODULES; i++) {
		struct guest_module *m = &out->modules[out->nr_modules++];
		m->start = mods[i].mod_start;
		m->end = mods[i].mod_end;
		copy_string(m->cmdline, sizeof(m->cmdline), mods[i].string);
	}
}

void multiboot_parse(uint64_t info_phys, struct guest_boot_info *out)
{
	memset(out, 0, sizeof(*out));
	out->info_phys = info_phys;
	if (!readable(info_phys, sizeof(struct multiboot_info)))
		return;
	const struct multiboot_info *info = (const void *)(uintptr_t)info_phys;
	out->multiboot_flags = info->flags;

	if (info->flags & MB_INFO_MEMORY) {
		out->has_memory_size = true;
		out->mem_lower_kib = info->mem_lower;
		out->mem_upper_kib = info->mem_upper;
	}
	if (info->flags & MB_INFO_CMDLINE) {
		out->has_cmdline = true;
		out->cmdline_truncated = copy_string(out->cmdline, sizeof(out->cmdline), info->cmdline);
	}
	if (info->flags & MB_INFO_LOADER_NAME)
		copy_string(out->loader_name, sizeof(out->loader_name), info->boot_loader_name);
	parse_memory_map(info, out);
	parse_modules(info, out);
}
