/* The Multiboot 1 path: turn the loader's information into a boot_info, move nestbed
 * to the top of RAM (so low memory is left to the guests), then enter the core. */
#include "boot/multiboot/multiboot_info.h"
#include "core/acpi.h"
#include "core/boot_paging.h"
#include "core/console.h"
#include "core/main.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/paging.h"
#include "core/cpu.h"
#include "core/cpu_caps.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/units.h"

#define KERNEL_VMA 0xFFFFFFFF80000000ull /* nestbed.ld */
#define REGION_ALIGN (2ull << 20)        /* 2 MiB pages map the image */
#define BOOT_IDENTITY_LIMIT (4ull << 30) /* entry.asm identity-maps 4 GiB */
#define PAGE_TABLE_RESERVE (1ull << 20)  /* nestbed's own page tables */
#define LOW_MEMORY_LIMIT 0x100000u

extern char _image_virt_start[], _image_virt_end[];
extern char _mb_load_start[]; /* an absolute symbol: the physical load address */
void multiboot_start(uint32_t magic, uint32_t info_phys);
void relocate_and_switch(uint64_t dst_phys, const void *src_virt, uint64_t bytes, uint64_t cr3);

static struct boot_info boot_info;
static struct paging nestbed_paging;

static const char *phys_string(uint32_t phys)
{
	return phys ? (const char *)phys_to_virt(phys) : "";
}

static void parse_memory_map(const struct mb1_info *mbi, struct boot_info *bi)
{
	if (mbi->flags & MB1_INFO_MMAP) {
		uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p < end && bi->nr_ranges < BOOT_MAX_MEM_RANGES) {
			const struct mb1_mmap_entry *e = phys_to_virt(p);
			bi->ranges[bi->nr_ranges].base = e->base_addr;
			bi->ranges[bi->nr_ranges].length = e->length;
			/* Unknown E820 types are reserved (ACPI 6.4 table 15.374). */
			bi->ranges[bi->nr_ranges].type = e->type >= MEM_USABLE && e->type <= MEM_BAD ?
								 e->type : MEM_RESERVED;
			bi->nr_ranges++;
			p += e->size + sizeof(e->size);
		}
	} else if (mbi->flags & MB1_INFO_MEMORY) {
		bi->ranges[0] = (struct mem_range){ 0, (uint64_t)mbi->mem_lower * 1024, MEM_USABLE };
		bi->ranges[1] = (struct mem_range){ LOW_MEMORY_LIMIT, (uint64_t)mbi->mem_upper * 1024,
						    MEM_USABLE };
		bi->nr_ranges = 2;
	}
	bi->nr_ranges = memmap_sanitize(bi->ranges, bi->nr_ranges, BOOT_MAX_MEM_RANGES);
}

static void parse_info(const struct mb1_info *mbi, struct boot_info *bi)
{
	bi->path = BOOT_PATH_MULTIBOOT;
	strlcpy(bi->loader_name, (mbi->flags & MB1_INFO_LOADER_NAME) ? phys_string(mbi->boot_loader_name) : "unknown",
		sizeof(bi->loader_name));
	if (mbi->flags & MB1_INFO_CMDLINE)
		strlcpy(bi->cmdline, cmdline_skip_image_path(phys_string(mbi->cmdline)),
			sizeof(bi->cmdline));
	if (mbi->flags & MB1_INFO_MODS) {
		const struct mb1_module *mods = phys_to_virt(mbi->mods_addr);
		for (uint32_t i = 0; i < mbi->mods_count && i < BOOT_MAX_MODULES; i++) {
			struct boot_module *m = &bi->modules[bi->nr_modules++];
			m->phys = mods[i].mod_start;
			m->size = mods[i].mod_end > mods[i].mod_start ? mods[i].mod_end - mods[i].mod_start : 0;
			strlcpy(m->cmdline, phys_string(mods[i].string), sizeof(m->cmdline));
		}
		if (mbi->mods_count > BOOT_MAX_MODULES)
			fatal("%u modules given, nestbed takes at most %d", mbi->mods_count, BOOT_MAX_MODULES);
	}
	parse_memory_map(mbi, bi);

	uint64_t ebda = (uint64_t)*(const uint16_t *)phys_to_virt(BDA_EBDA_SEGMENT) << 4;
	if (ebda && ebda < LOW_MEMORY_LIMIT)
		bi->rsdp_phys = acpi_scan_rsdp(phys_to_virt(ebda), ebda, ACPI_EBDA_SCAN_SIZE);
	if (!bi->rsdp_phys)
		bi->rsdp_phys = acpi_scan_rsdp(phys_to_virt(ACPI_BIOS_AREA_BASE), ACPI_BIOS_AREA_BASE,
					       ACPI_BIOS_AREA_SIZE);
}

/* Chooses nestbed's region at the top of RAM below 4 GiB, builds page tables there
 * (identity map of all memory plus the image's high addresses) and moves the image. */
static void relocate_high(struct boot_info *bi)
{
	struct nestbed_options opts;
	char err[8];
	uint64_t heap_mib = options_parse(bi->cmdline, &opts, err, sizeof(err)) ?
				    OPTIONS_DEFAULT_HEAP_MIB : opts.heap_mib;
	uint64_t image_phys = (uint64_t)(uintptr_t)_mb_load_start;
	uint64_t image_bytes = (uint64_t)(_image_virt_end - _image_virt_start);
	uint64_t image_span = (image_bytes + REGION_ALIGN - 1) & ~(REGION_ALIGN - 1);
	uint64_t modules = 0;
	struct mem_range avoid[BOOT_MAX_MODULES + 1];
	uint32_t nr_avoid = 0;
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		modules += (bi->modules[i].size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
		avoid[nr_avoid++] = (struct mem_range){ bi->modules[i].phys, bi->modules[i].size, 0 };
	}
	avoid[nr_avoid++] = (struct mem_range){ image_phys, image_bytes, 0 };
	uint64_t region_size = image_span + heap_mib * MIB + modules + PAGE_TABLE_RESERVE;
	region_size = (region_size + REGION_ALIGN - 1) & ~(REGION_ALIGN - 1);
	uint64_t region;
	if (memmap_find_top(bi->ranges, bi->nr_ranges, region_size, REGION_ALIGN, BOOT_IDENTITY_LIMIT,
			    avoid, nr_avoid, &region))
		fatal("no room for nestbed: %llu MiB of usable memory below 4 GiB needed (heap=%llu MiB, modules %llu KiB)",
		      (unsigned long long)(region_size / MIB), (unsigned long long)heap_mib,
		      (unsigned long long)(modules / 1024));

	bi->image_phys = region;
	bi->image_size = image_bytes;
	bi->image_virt = (uint64_t)(uintptr_t)_image_virt_start;
	bi->heap_phys = region + image_span;
	bi->heap_size = region_size - image_span;
	struct paging *pg = &nestbed_paging;
	boot_identity_paging(bi, pg);
	/* and the image where it is linked, in the top 2 GiB */
	if (paging_map(pg, bi->image_virt, region, (image_bytes + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1), PTE_W))
		fatal("out of memory for page tables");

	relocate_and_switch(region, _image_virt_start, image_bytes, pg->root);
}

void multiboot_start(uint32_t magic, uint32_t info_phys)
{
	struct boot_info *bi = &boot_info;
	console_init();
	if (magic != MB1_BOOTLOADER_MAGIC)
		fatal("not started by a Multiboot 1 loader (eax=%#x, want %#x)", magic, MB1_BOOTLOADER_MAGIC);
	parse_info(phys_to_virt(info_phys), bi);
	relocate_high(bi);
	nestbed_main(bi);
}
