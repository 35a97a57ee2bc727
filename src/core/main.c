#include "core/main.h"

#include "core/bios_int15_hook.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/exception.h"
#include "core/format.h"
#include "core/fw_cfg.h"
#include "core/guest_image.h"
#include "core/guest_place.h"
#include "core/gdt.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/smram_lock.h"
#include "core/string.h"

#ifndef NESTBED_VERSION
#define NESTBED_VERSION "unknown"
#endif

struct machine machine;
/* The boot CPU's tables until its struct pcpu exists (run.c moves it there). */
static struct cpu_tables early_cpu_tables;

void print_memory_map(const char *title, const struct mem_range *ranges, uint32_t count)
{
	kprintf("nestbed: %s (%u ranges)\n", title, count);
	for (uint32_t i = 0; i < count; i++)
		kprintf("nestbed:   [%#018llx-%#018llx] %s\n", (unsigned long long)ranges[i].base,
			(unsigned long long)(ranges[i].base + ranges[i].length - 1),
			mem_type_name(ranges[i].type));
}

/* Can the guest kernel (module 0) be loaded from where the loader put it, without a copy
 * into the heap first? When it lies above the first MiB (nestbed borrows low memory for
 * the AP trampoline and the BIOS hook before the guest is loaded) and its segments have
 * an order that never loads over file bytes still to be copied. Linux's vmlinux (65 MB,
 * right after nestbed's image, its segments at 16 MiB over it) can: that is one 65 MB
 * copy and 65 MB of fresh heap pages less per boot. */
static bool loads_in_place(const struct boot_module *m)
{
	struct guest_image img;
	char err[8];
	uint32_t order[GUEST_MAX_SEGMENTS];
	return m->phys >= LOW_1M &&
	       !guest_image_parse(phys_to_virt(m->phys), m->size, &img, err, sizeof(err)) &&
	       img.kind != GUEST_LINUX_BZIMAGE && !guest_segments_load_order(&img, m->phys, order);
}

/* Moves the loader's module images into nestbed's heap so low memory is the guest's;
 * the guest kernel stays where it is when it can be loaded from there. */
static void copy_modules_high(struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		struct boot_module *m = &bi->modules[i];
		if (i == 0 && loads_in_place(m)) {
			m->in_place = true;
			kprintf("nestbed: module 0 loads in place at %#llx (no copy)\n",
				(unsigned long long)m->phys);
			continue;
		}
		uint64_t frames = (m->size + FRAME_SIZE - 1) / FRAME_SIZE;
		uint64_t dst = frames ? frame_alloc_range(&nestbed_frames, frames, FRAME_SIZE) : 0;
		if (frames && !dst)
			fatal("module %s: %llu KiB do not fit in nestbed's heap", m->cmdline,
			      (unsigned long long)(m->size / 1024));
		if (frames)
			memmove(phys_to_virt(dst), phys_to_virt(m->phys), m->size);
		m->phys = dst;
	}
}

_Noreturn void nestbed_main(struct boot_info *bi)
{
	struct machine *m = &machine;
	m->bi = bi;
	console_init();
	kprintf("nestbed %s (%s boot, loader \"%s\")\n", NESTBED_VERSION,
		bi->path == BOOT_PATH_UEFI ? "uefi" : "multiboot", bi->loader_name);

	char err[160];
	if (options_parse(bi->cmdline, &m->options, err, sizeof(err)))
		fatal("bad command line: %s", err);
	kprintf("nestbed: command line \"%s\"\n", bi->cmdline);

	if (!bi->firmware_active) {
		gdt_load(&early_cpu_tables);
		idt_init();
		idt_load();
	}
	if (bi->firmware_active &&
	    frame_alloc_init(&nestbed_frames, bi->heap_phys, bi->heap_size))
		fatal("heap [%#llx, +%#llx) unusable", (unsigned long long)bi->heap_phys,
		      (unsigned long long)bi->heap_size);

	print_memory_map("memory map", bi->ranges, bi->nr_ranges);
	kprintf("nestbed: own memory image=[%#llx-%#llx) heap=[%#llx-%#llx) free=%llu KiB rsdp=%#llx\n",
		(unsigned long long)bi->image_phys, (unsigned long long)(bi->image_phys + bi->image_size),
		(unsigned long long)bi->heap_phys, (unsigned long long)(bi->heap_phys + bi->heap_size),
		(unsigned long long)(nestbed_frames.nr_free * FRAME_SIZE / 1024),
		(unsigned long long)bi->rsdp_phys);
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		kprintf("nestbed: module %u at %#llx, %llu bytes: \"%s\"\n", i,
			(unsigned long long)bi->modules[i].phys, (unsigned long long)bi->modules[i].size,
			bi->modules[i].cmdline);

	cpu_caps_detect(&m->caps);
	cpu_caps_print(&m->caps);
	/* XSETBV exits (always on VT-x) are executed by nestbed itself, which needs
	 * CR4.OSXSAVE (SDM vol.3 2.6); the guest's XCR0 is then the CPU's, as passthrough. */
	if (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);

	if (!bi->firmware_active)
		copy_modules_high(bi);
	if (guest_memmap_build(bi, &m->guest_map))
		fatal("memory map has too many ranges to reserve nestbed's memory");
	iommu_init(m);
	/* The doors to nestbed's memory that are not the guest's CPUs: device DMA nestbed
	 * mediates, and SMM. */
	fwcfg_detect(m);
	smram_lock_at_boot(m);

	if (m->options.selftest)
		selftest_run(m);
	bios_int15_install(m);
	run_primary_guest(m);
}
