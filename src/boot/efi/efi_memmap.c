/* EFI memory map -> E820-style ranges. See efi_memmap.h for the two views.
 *
 * bi->ranges uses EFI_VIEW_OS: the ranges describe the machine as the guest OS will own
 * it, the same mapping Linux's EFI stub uses (drivers/firmware/efi/libstub/x86-stub.c,
 * setup_e820). nestbed's own image and modules sit in Loader* memory and are reserved
 * through boot_info's image_* and modules[] fields, not through the range types.
 * EFI_VIEW_FIRMWARE_ACTIVE is what is actually free while the firmware still runs. */
#include "boot/efi/efi_memmap.h"

uint32_t efi_memory_type_to_e820(uint32_t efi_type, uint64_t attribute,
				 enum efi_memmap_view view)
{
	switch (efi_type) {
	case EFI_MEM_CONVENTIONAL:
		/* Specific-purpose memory (e.g. HBM) is left to drivers: Linux makes it
		 * soft-reserved, which E820 has no type for here. */
		if (attribute & EFI_MEM_ATTR_SPECIFIC_PURPOSE)
			return MEM_RESERVED;
		return MEM_USABLE;
	case EFI_MEM_LOADER_CODE:
	case EFI_MEM_LOADER_DATA:
	case EFI_MEM_BOOT_SERVICES_CODE:
	case EFI_MEM_BOOT_SERVICES_DATA:
		if (view == EFI_VIEW_FIRMWARE_ACTIVE ||
		    (attribute & EFI_MEM_ATTR_SPECIFIC_PURPOSE))
			return MEM_RESERVED;
		return MEM_USABLE;
	case EFI_MEM_ACPI_RECLAIM:
		return MEM_ACPI_RECLAIM;
	case EFI_MEM_ACPI_NVS:
		return MEM_ACPI_NVS;
	case EFI_MEM_UNUSABLE:
		return MEM_BAD;
	/* Runtime services stay in use by the firmware forever; MMIO, port space, PAL code,
	 * persistent memory (no E820 type here), unaccepted memory (needs a TDX/SNP accept
	 * first) and the OEM/OS ranges are not general RAM. */
	default:
		return MEM_RESERVED;
	}
}

static uint64_t range_end(const struct mem_range *r)
{
	return r->base + r->length;
}

static const struct efi_memory_descriptor *descriptor_at(const void *map, size_t desc_size,
							 size_t index)
{
	return (const struct efi_memory_descriptor *)((const unsigned char *)map +
						      index * desc_size);
}

/* The descriptor after (after_base, after_index) in (base, index) order, or count when
 * none is left. Selecting in order, instead of sorting, leaves the firmware's buffer alone
 * and needs no memory; maps have a few hundred entries at most. */
static size_t next_in_base_order(const void *map, size_t desc_size, size_t count,
				 int first, uint64_t after_base, size_t after_index)
{
	size_t best = count;
	for (size_t i = 0; i < count; i++) {
		uint64_t base = descriptor_at(map, desc_size, i)->physical_start;
		int later = first || base > after_base || (base == after_base && i > after_index);
		if (!later)
			continue;
		if (best == count || base < descriptor_at(map, desc_size, best)->physical_start)
			best = i;
	}
	return best;
}

struct efi_memmap_result efi_memmap_convert(const void *map, size_t map_size,
					    size_t desc_size, enum efi_memmap_view view,
					    struct mem_range *out, uint32_t capacity)
{
	struct efi_memmap_result result = { 0, 0, 0 };
	if (desc_size < sizeof(struct efi_memory_descriptor)) {
		result.bad_descriptor_size = 1;
		return result;
	}

	size_t count = map_size / desc_size;
	size_t i = next_in_base_order(map, desc_size, count, 1, 0, 0);
	while (i < count) {
		const struct efi_memory_descriptor *d = descriptor_at(map, desc_size, i);
		uint64_t room_pages = (UINT64_MAX - d->physical_start) / EFI_MEMMAP_PAGE_SIZE;
		uint64_t pages = d->number_of_pages < room_pages ? d->number_of_pages : room_pages;
		struct mem_range r = {
			.base = d->physical_start,
			.length = pages * EFI_MEMMAP_PAGE_SIZE,
			.type = efi_memory_type_to_e820(d->type, d->attribute, view),
		};
		struct mem_range *last = result.nr_ranges ? &out[result.nr_ranges - 1] : NULL;

		if (r.length == 0) {
			/* nothing to describe */
		} else if (last && last->type == r.type && range_end(last) >= r.base) {
			if (range_end(&r) > range_end(last))
				last->length = range_end(&r) - last->base;
		} else if (result.nr_ranges == capacity) {
			result.nr_dropped++;
		} else {
			out[result.nr_ranges++] = r;
		}
		i = next_in_base_order(map, desc_size, count, 0, d->physical_start, i);
	}
	return result;
}
