/* platform/memory-map: the Multiboot memory map is one a guest can trust: entries
 * have a length, usable ranges do not overlap, the guest's own image and 1 MiB are
 * usable, and the usable memory from 0 and from 1 MiB agrees with mem_lower and
 * mem_upper. */
#include "lib/boot_info.h"
#include "lib/layout.h"
#include "lib/memory_map.h"
#include "lib/probe.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define LOW_MEMORY_TOLERANCE (64 * KIB) /* BIOSes keep an EBDA of a few KiB below 640 */
#define UPPER_MEMORY_TOLERANCE MIB     /* firmware keeps tables at the top of RAM */

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static enum probe_status memory_map_probe(struct probe_run *run)
{
	const struct guest_boot_info *boot = &guest_boot_info;
	const struct memory_range *ranges = boot->memory_ranges;
	unsigned count = boot->nr_memory_ranges;

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
	if (!memory_usable_covers(ranges, count, MIB, MIB + 1))
		return probe_fail(run, "expected the memory at 1 MiB to be usable, observed not");
	if (!memory_usable_covers(ranges, count, image_start, image_end))
		return probe_fail(run, "expected the guest image [%#llx, %#llx) to be usable, "
				  "observed only %#llx bytes usable from its start",
				  (unsigned long long)image_start, (unsigned long long)image_end,
				  (unsigned long long)memory_usable_run(ranges, count, image_start));

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
