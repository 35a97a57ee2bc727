/* platform/memory-map: the memory map the boot path gave the guest is one a guest can
 * trust: entries have a length, usable ranges do not overlap, the guest's own image is
 * usable. Then what its boot protocol promises:
 * - Multiboot (entry.asm): the map is the loader's (information flags bit 6); 1 MiB,
 *   where the image loads, is usable; the usable memory from 0 and from 1 MiB agrees
 *   with mem_lower and mem_upper (flags bit 0).
 * - UEFI (guests/efi/): there is no mem_lower/mem_upper and no fixed load address, so
 *   neither is checked. The map is the firmware's GetMemoryMap as ExitBootServices took
 *   it (UEFI 2.10, 7.2.3), converted as an OS sees it: the descriptors have version 1
 *   and at least the spec's size, start on a 4 KiB boundary and do not overlap, and
 *   every descriptor an OS may use after ExitBootServices (conventional, loader and
 *   boot services memory) is usable in the converted map. */
#include "boot/efi/efi_memmap.h"
#include "lib/boot_info.h"
#include "lib/layout.h"
#include "lib/memory_map.h"
#include "lib/probe.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define LOW_MEMORY_TOLERANCE (64 * KIB) /* BIOSes keep an EBDA of a few KiB below 640 */
#define UPPER_MEMORY_TOLERANCE MIB     /* firmware keeps tables at the top of RAM */
#define EFI_MEMORY_DESCRIPTOR_VERSION 1 /* UEFI 2.10, 7.2.3 */

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static const struct efi_memory_descriptor *
efi_descriptor(const struct guest_efi_memory_map *map, uint64_t i)
{
	return (const void *)((const char *)map->descriptors + i * map->descriptor_size);
}

static uint64_t efi_descriptor_end(const struct efi_memory_descriptor *d)
{
	struct memory_range r = { d->physical_start, d->number_of_pages * EFI_MEMMAP_PAGE_SIZE,
				  0 };
	return memory_range_end(&r);
}

/* The memory an OS owns once boot services are gone (UEFI 2.10, 7.2.1, "Memory Type
 * Usage after ExitBootServices()"), except specific-purpose memory. */
static bool efi_os_usable(const struct efi_memory_descriptor *d)
{
	if (d->attribute & EFI_MEM_ATTR_SPECIFIC_PURPOSE)
		return false;
	switch (d->type) {
	case EFI_MEM_CONVENTIONAL:
	case EFI_MEM_LOADER_CODE:
	case EFI_MEM_LOADER_DATA:
	case EFI_MEM_BOOT_SERVICES_CODE:
	case EFI_MEM_BOOT_SERVICES_DATA:
		return true;
	default:
		return false;
	}
}

/* The firmware's own descriptors, and the converted map against them. */
static enum probe_status efi_memory_map_checks(struct probe_run *run,
					       const struct guest_boot_info *boot)
{
	const struct guest_efi_memory_map *map = &boot->efi_memory_map;
	uint64_t n = map->size / map->descriptor_size;
	diag("UEFI memory map: %llu descriptors of %llu bytes, version %u; no mem_lower/"
	     "mem_upper and no fixed load address on UEFI: not checked",
	     (unsigned long long)n, (unsigned long long)map->descriptor_size,
	     map->descriptor_version);
	EXPECT_EQ(run, "EFI memory descriptor version", EFI_MEMORY_DESCRIPTOR_VERSION,
		  map->descriptor_version);
	for (uint64_t i = 0; i < n; i++) {
		const struct efi_memory_descriptor *d = efi_descriptor(map, i);
		if (d->physical_start % EFI_MEMMAP_PAGE_SIZE)
			return probe_fail(run, "descriptor %llu: expected PhysicalStart on a 4 KiB "
					  "boundary, observed %#llx", (unsigned long long)i,
					  (unsigned long long)d->physical_start);
		for (uint64_t j = i + 1; j < n; j++) {
			const struct efi_memory_descriptor *e = efi_descriptor(map, j);
			if (d->number_of_pages && e->number_of_pages &&
			    d->physical_start < efi_descriptor_end(e) &&
			    e->physical_start < efi_descriptor_end(d))
				return probe_fail(run, "descriptors %llu (type %u, %#llx+%llu pages) and "
						  "%llu (type %u, %#llx+%llu pages) overlap",
						  (unsigned long long)i, d->type,
						  (unsigned long long)d->physical_start,
						  (unsigned long long)d->number_of_pages,
						  (unsigned long long)j, e->type,
						  (unsigned long long)e->physical_start,
						  (unsigned long long)e->number_of_pages);
		}
		if (efi_os_usable(d) && !boot->memory_map_truncated &&
		    !memory_usable_covers(boot->memory_ranges, boot->nr_memory_ranges,
					  d->physical_start, efi_descriptor_end(d)))
			return probe_fail(run, "descriptor %llu (type %u, %#llx+%llu pages): expected "
					  "usable after ExitBootServices, observed not usable in the "
					  "converted map", (unsigned long long)i, d->type,
					  (unsigned long long)d->physical_start,
					  (unsigned long long)d->number_of_pages);
	}
	return PROBE_PASS;
}

static enum probe_status memory_map_probe(struct probe_run *run)
{
	const struct guest_boot_info *boot = &guest_boot_info;
	const struct memory_range *ranges = boot->memory_ranges;
	unsigned count = boot->nr_memory_ranges;

	if (!boot->has_memory_map && boot->protocol == GUEST_BOOT_UEFI)
		return probe_fail(run, "expected UEFI memory descriptors of at least %u bytes, "
				  "observed DescriptorSize %llu",
				  (unsigned)sizeof(struct efi_memory_descriptor),
				  (unsigned long long)boot->efi_memory_map.descriptor_size);
	if (!boot->has_memory_map)
		return probe_fail(run, "expected a Multiboot memory map (flags bit 6), observed "
				  "flags %#x", boot->multiboot_flags);
	if (count == 0)
		return probe_fail(run, "expected memory map entries, observed none");

	uint64_t usable_total = 0;
	for (unsigned i = 0; i < count; i++) {
		const struct memory_range *r = &ranges[i];
		diag("mmap[%u] %#014llx-%#014llx %s (%u)", i, (unsigned long long)r->base,
		     (unsigned long long)(memory_range_end(r) - (r->length ? 1 : 0)),
		     memory_type_name(r->type), r->type);
		if (r->length == 0)
			return probe_fail(run, "entry %u at %#llx: expected length > 0, observed 0", i,
					  (unsigned long long)r->base);
		if (r->type == MEMORY_USABLE)
			usable_total += r->length;
	}
	if (boot->memory_map_truncated)
		diag("more than %d entries: the rest were not checked", GUEST_MAX_MEMORY_RANGES);
	diag("usable memory in total: %llu KiB", (unsigned long long)(usable_total / KIB));

	unsigned a, b;
	if (memory_usable_overlap(ranges, count, &a, &b))
		return probe_fail(run, "usable entries %u [%#llx+%#llx) and %u [%#llx+%#llx) overlap",
				  a, (unsigned long long)ranges[a].base,
				  (unsigned long long)ranges[a].length, b,
				  (unsigned long long)ranges[b].base,
				  (unsigned long long)ranges[b].length);

	uint64_t image_start = (uint64_t)guest_image_start, image_end = (uint64_t)guest_bss_end;
	diag("guest image %#llx-%#llx", (unsigned long long)image_start,
	     (unsigned long long)(image_end - 1));
	if (boot->protocol == GUEST_BOOT_MULTIBOOT &&
	    !memory_usable_covers(ranges, count, MIB, MIB + 1))
		return probe_fail(run, "expected the memory at 1 MiB to be usable, observed not");
	if (!memory_usable_covers(ranges, count, image_start, image_end))
		return probe_fail(run, "expected the guest image [%#llx, %#llx) to be usable, "
				  "observed only %#llx bytes usable from its start",
				  (unsigned long long)image_start, (unsigned long long)image_end,
				  (unsigned long long)memory_usable_run(ranges, count, image_start));
	if (boot->protocol == GUEST_BOOT_UEFI)
		return efi_memory_map_checks(run, boot);

	/* The header sets MB_MEMORY_INFO, so the loader must give mem_lower/mem_upper
	 * (Multiboot 0.6.96 3.1.2, flags bit 1). */
	if (!boot->has_memory_size)
		return probe_fail(run, "expected mem_lower/mem_upper (info flags bit 0), observed "
				  "flags %#x", boot->multiboot_flags);
	uint64_t low = memory_usable_run(ranges, count, 0);
	uint64_t upper = memory_usable_run(ranges, count, MIB);
	diag("mem_lower %u KiB, usable from 0: %llu KiB; mem_upper %u KiB, usable from 1 MiB: "
	     "%llu KiB", boot->mem_lower_kib, (unsigned long long)(low / KIB), boot->mem_upper_kib,
	     (unsigned long long)(upper / KIB));
	if (distance(low, boot->mem_lower_kib * KIB) > LOW_MEMORY_TOLERANCE)
		return probe_fail(run, "expected usable memory from 0 within %llu KiB of mem_lower "
				  "%u KiB, observed %llu KiB",
				  (unsigned long long)(LOW_MEMORY_TOLERANCE / KIB),
				  boot->mem_lower_kib, (unsigned long long)(low / KIB));
	if (distance(upper, boot->mem_upper_kib * KIB) > UPPER_MEMORY_TOLERANCE)
		return probe_fail(run, "expected usable memory from 1 MiB within %llu KiB of "
				  "mem_upper %u KiB, observed %llu KiB",
				  (unsigned long long)(UPPER_MEMORY_TOLERANCE / KIB),
				  boot->mem_upper_kib, (unsigned long long)(upper / KIB));
	return PROBE_PASS;
}
PROBE("platform/memory-map", memory_map_probe);
