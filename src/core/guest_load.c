#include "core/guest_load.h"

#include "core/format.h"
#include "core/guest_image.h"
#include "core/guest_place.h"
#include "core/memmap.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/console.h"
#include "core/multiboot1.h"
#include "core/x86.h"

#define E820_RESERVED 2

/* Where the information structure goes: conventional memory above the real-mode IVT,
 * BDA and boot sector (0x7C00), below the EBDA. */
#define INFO_SEARCH_START 0x8000ull
#define INFO_SEARCH_END 0x9F000ull
#define INFO_AREA_SIZE 0x2000ull
#define GUEST_MODULE_LIMIT (4ull << 30) /* Multiboot 1 addresses are 32-bit */

struct mb1_guest_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

struct mb1_guest_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

struct mb1_guest_mmap {
	uint32_t size;
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));

/* PVH start_info (xen/include/public/arch-x86/hvm/start_info.h), version 1. */
#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_VERSION 1

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
} __attribute__((packed));

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
} __attribute__((packed));

static bool overlaps_image(const struct guest_image *img, uint64_t base, uint64_t size)
{
	for (uint32_t i = 0; i < img->nr_segments; i++) {
		const struct guest_segment *s = &img->segments[i];
		if (base < s->phys + s->mem_size && s->phys < base + size)
			return true;
	}
	return false;
}

static uint64_t usable_kib_from(const struct guest_memmap *g, uint64_t start, uint64_t limit)
{
	uint64_t end = start;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		const struct mem_range *r = &g->ranges[i];
		if (r->type == MEM_USABLE && r->base <= end && r->base + r->length > end)
			end = r->base + r->length;
	}
	if (end > limit)
		end = limit;
	return (end - start) / 1024;
}

/* The image at file_phys may lie in the memory its segments load into (copy_modules_high
 * leaves a guest kernel where the loader put it when it can be loaded in place): copied in
 * an order that never covers file bytes still to be copied (guest_segments_load_order),
 * each by memmove, which copies 8 bytes a move. */
static void load_segments(uint64_t file_phys, const struct guest_image *img, const char *name)
{
	uint32_t order[GUEST_MAX_SEGMENTS];
	if (guest_segments_load_order(img, file_phys, order))
		fatal("guest image %s: its segments load over its own file bytes in every order", name);
	const uint8_t *file = phys_to_virt(file_phys);
	for (uint32_t k = 0; k < img->nr_segments; k++) {
		const struct guest_segment *s = &img->segments[order[k]];
		uint8_t *dst = phys_to_virt(s->phys);
		memmove(dst, file + s->file_offset, s->file_size);
		memset(dst + s->file_size, 0, s->mem_size - s->file_size);
	}
}

static uint64_t find_info_area(const struct guest_memmap *g, const struct guest_image *img,
			       const char *name)
{
	for (uint64_t a = INFO_SEARCH_START; a + INFO_AREA_SIZE <= INFO_SEARCH_END; a += 0x1000)
		if (memmap_is_usable(g->ranges, g->nr_ranges, a, INFO_AREA_SIZE) &&
		    !overlaps_image(img, a, INFO_AREA_SIZE))
			return a;
	fatal("guest image %s: no room below 640 KiB for the boot information", name);
}

static void load_multiboot(struct machine *m, const struct guest_image *img, const char *name,
			   struct guest_start *start)
{
	struct boot_info *bi = m->bi;
	const struct guest_memmap *g = &m->guest_map;

	uint64_t info = find_info_area(g, img, name);
	load_segments(bi->modules[0].phys, img, name);

	uint8_t *area = phys_to_virt(info);
	memset(area, 0, INFO_AREA_SIZE);
	struct mb1_guest_info *mbi = (void *)area;
	uint64_t cursor = info + sizeof(*mbi);

	mbi->flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
		     MB1_INFO_LOADER_NAME;
	mbi->mem_lower = (uint32_t)usable_kib_from(g, 0, 640 * 1024);
	mbi->mem_upper = (uint32_t)usable_kib_from(g, LOW_1M, GUEST_MODULE_LIMIT);

	mbi->mmap_addr = (uint32_t)cursor;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		struct mb1_guest_mmap *e = phys_to_virt(cursor);
		e->size = sizeof(*e) - sizeof(e->size);
		e->base_addr = g->ranges[i].base;
		e->length = g->ranges[i].length;
		e->type = g->ranges[i].type == MEM_NESTBED ? E820_RESERVED : g->ranges[i].type;
		cursor += sizeof(*e);
	}
	mbi->mmap_length = (uint32_t)(cursor - mbi->mmap_addr);

	/* strings and the module list share the rest of the area */
	uint64_t strings_end = info + INFO_AREA_SIZE;
	uint32_t nr_guest_modules = bi->nr_modules - 1;
	mbi->mods_addr = (uint32_t)cursor;
	mbi->mods_count = nr_guest_modules;
	struct mb1_guest_module *mods = phys_to_virt(cursor);
	cursor += sizeof(*mods) * nr_guest_modules;

	size_t need = strlen(bi->modules[0].cmdline) + 1 + 64;
	for (uint32_t i = 1; i < bi->nr_modules; i++)
		need += strlen(bi->modules[i].cmdline) + 1;
	if (cursor + need > strings_end)
		fatal("guest image %s: command lines do not fit the Multiboot information area", name);
	mbi->cmdline = (uint32_t)cursor;
	cursor += strlcpy(phys_to_virt(cursor), bi->modules[0].cmdline, BOOT_CMDLINE_MAX) + 1;
	mbi->boot_loader_name = (uint32_t)cursor;
	cursor += (uint64_t)format_buf(phys_to_virt(cursor), 64, "nestbed %s", NESTBED_VERSION) + 1;

	/* Modules go after the kernel, page aligned, as a Multiboot loader places them, never
	 * over the information area, and end below 4 GiB (their addresses are 32-bit). */
	uint64_t cursor_mod = img->phys_highest, place = 0;
	for (uint32_t i = 1; i < bi->nr_modules; i++) {
		const struct boot_module *src = &bi->modules[i];
		if (guest_mb1_module_place(g->ranges, g->nr_ranges, cursor_mod, info, INFO_AREA_SIZE,
					   src->size, &place))
			fatal("guest module %u (%s): no usable guest memory below 4 GiB at or after %#llx for %llu bytes",
			      i, src->cmdline, (unsigned long long)cursor_mod, (unsigned long long)src->size);
		memcpy(phys_to_virt(place), phys_to_virt(src->phys), src->size);
		mods[i - 1].mod_start = (uint32_t)place;
		mods[i - 1].mod_end = (uint32_t)(place + src->size);
		mods[i - 1].string = (uint32_t)cursor;
		cursor += strlcpy(phys_to_virt(cursor), src->cmdline, BOOT_CMDLINE_MAX) + 1;
		cursor_mod = place + src->size; /* <= GUEST_MB1_MODULE_LIMIT: no wrap */
	}

	memset(start, 0, sizeof(*start));
	start->mode = GUEST_START_PROTECTED32;
	start->rip = img->entry;
	start->gpr.rax = MB1_BOOTLOADER_MAGIC;
	start->gpr.rbx = info;
	kprintf("nestbed: guest %s loaded: entry %#llx, Multiboot information at %#llx, %u module(s)\n",
		name, (unsigned long long)img->entry, (unsigned long long)info, nr_guest_modules);
}

/* PVH (Linux's vmlinux, Xen): start_info with the memory map, the command line (the
 * module's, without its first word), the further modules (Linux: the initrd), RSDP.
 * Modules go high, below 4 GiB, away from the kernel, as QEMU places an initrd. */
static void load_pvh(struct machine *m, const struct guest_image *img, const char *name,
		     struct guest_start *start)
{
	struct boot_info *bi = m->bi;
	const struct guest_memmap *g = &m->guest_map;
	uint64_t info = find_info_area(g, img, name);
	load_segments(bi->modules[0].phys, img, name);

	uint8_t *area = phys_to_virt(info);
	memset(area, 0, INFO_AREA_SIZE);
	struct pvh_start_info *si = (void *)area;
	uint64_t cursor = info + sizeof(*si);
	si->magic = PVH_START_MAGIC;
	si->version = PVH_START_VERSION;
	si->rsdp_paddr = bi->rsdp_phys;

	si->memmap_paddr = cursor;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		struct pvh_memmap_entry *e = phys_to_virt(cursor);
		e->addr = g->ranges[i].base;
		e->size = g->ranges[i].length;
		e->type = g->ranges[i].type == MEM_NESTBED ? E820_RESERVED : g->ranges[i].type;
		cursor += sizeof(*e);
	}
	si->memmap_entries = g->nr_ranges;

	uint32_t nr_modules = bi->nr_modules - 1;
	si->nr_modules = nr_modules;
	si->modlist_paddr = nr_modules ? cursor : 0;
	struct pvh_module *mods = phys_to_virt(cursor);
	cursor += sizeof(*mods) * nr_modules;

	size_t need = strlen(bi->modules[0].cmdline) + 1;
	for (uint32_t i = 1; i < bi->nr_modules; i++)
		need += strlen(bi->modules[i].cmdline) + 1;
	if (cursor + need > info + INFO_AREA_SIZE)
		fatal("guest image %s: command lines do not fit the boot information area", name);
	si->cmdline_paddr = cursor;
	cursor += strlcpy(phys_to_virt(cursor), cmdline_split_first(bi->modules[0].cmdline, NULL, 0),
			  BOOT_CMDLINE_MAX) + 1;

	struct mem_range avoid[GUEST_MAX_SEGMENTS + BOOT_MAX_MODULES + 1];
	uint32_t nr_avoid = 0;
	for (uint32_t i = 0; i < img->nr_segments; i++)
		avoid[nr_avoid++] = (struct mem_range){ img->segments[i].phys, img->segments[i].mem_size, 0 };
	avoid[nr_avoid++] = (struct mem_range){ info, INFO_AREA_SIZE, 0 };
	for (uint32_t i = 1; i < bi->nr_modules; i++) {
		const struct boot_module *src = &bi->modules[i];
		uint64_t place;
		if (memmap_find_top(g->ranges, g->nr_ranges, src->size ? src->size : 1, 0x1000,
				    GUEST_MODULE_LIMIT, avoid, nr_avoid, &place))
			fatal("guest module %u (%s): no usable guest memory below 4 GiB for %llu bytes", i,
			      src->cmdline, (unsigned long long)src->size);
		memcpy(phys_to_virt(place), phys_to_virt(src->phys), src->size);
		avoid[nr_avoid++] = (struct mem_range){ place, src->size, 0 };
		mods[i - 1].paddr = place;
		mods[i - 1].size = src->size;
		mods[i - 1].cmdline_paddr = cursor;
		cursor += strlcpy(phys_to_virt(cursor), src->cmdline, BOOT_CMDLINE_MAX) + 1;
	}

	memset(start, 0, sizeof(*start));
	start->mode = GUEST_START_PROTECTED32;
	start->rip = img->entry;
	start->gpr.rbx = info;
	kprintf("nestbed: guest %s loaded: PVH entry %#llx, start_info at %#llx, %u module(s)\n", name,
		(unsigned long long)img->entry, (unsigned long long)info, nr_modules);
}

void guest_load(struct machine *m, struct guest_start *start)
{
	struct boot_info *bi = m->bi;
	if (bi->nr_modules == 0 && bi->path == BOOT_PATH_UEFI)
		fatal("no guest: name it after nestbed's arguments in the load options or \\nestbed.cfg: "
		      "'<nestbed args> --- <path> <guest args>'");
	if (bi->nr_modules == 0)
		fatal("no guest: give the guest kernel as a Multiboot module (QEMU: -initrd 'guest.elf args', GRUB: module)");
	struct boot_module *mod = &bi->modules[0];
	char name[64];
	cmdline_split_first(mod->cmdline, name, sizeof(name));
	struct guest_image img;
	char err[160];
	if (guest_image_parse(phys_to_virt(mod->phys), mod->size, &img, err, sizeof(err)))
		fatal("guest image %s: %s", name, err);
	kprintf("nestbed: guest %s: %s, %llu bytes, entry %#llx, loads at [%#llx-%#llx)\n", name,
		guest_kind_name(img.kind), (unsigned long long)mod->size,
		(unsigned long long)img.entry, (unsigned long long)img.phys_lowest,
		(unsigned long long)img.phys_highest);
	if (img.kind == GUEST_LINUX_BZIMAGE)
		fatal("guest image %s: Linux bzImage loading is not implemented yet", name);
	/* Segment by segment, not the extent: a segment whose end wrapped would make the
	 * extent look small and harmless. */
	if (guest_image_check_placement(&img, m->guest_map.ranges, m->guest_map.nr_ranges, err,
					sizeof(err)))
		fatal("guest image %s: %s", name, err);
	if (img.kind == GUEST_PVH_ELF64)
		load_pvh(m, &img, name, start);
	else
		load_multiboot(m, &img, name, start);
}
