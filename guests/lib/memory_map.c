#include "lib/memory_map.h"

uint64_t memory_range_end(const struct memory_range *range)
{
	uint64_t end = range->base + range->length;
	return end < range->base ? UINT64_MAX : end;
}

const char *memory_type_name(uint32_t type)
{
	switch (type) {
	case MEMORY_USABLE: return "usable";
	case MEMORY_RESERVED: return "reserved";
	case MEMORY_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MEMORY_ACPI_NVS: return "ACPI NVS";
	case MEMORY_BAD: return "bad";
	default: return "other";
	}
}

static bool usable(const struct memory_range *range)
{
	return range->type == MEMORY_USABLE && range->length > 0;
}

bool memory_usable_overlap(const struct memory_range *ranges, unsigned count,
			   unsigned *first, unsigned *second)
{
	for (unsigned i = 0; i < count; i++) {
		if (!usable(&ranges[i]))
			continue;
		for (unsigned j = i + 1; j < count; j++) {
			if (!usable(&ranges[j]))
				continue;
			if (ranges[i].base < memory_range_end(&ranges[j]) &&
			    ranges[j].base < memory_range_end(&ranges[i])) {
				*first = i;
				*second = j;
				return true;
			}
		}
	}
	return false;
}

uint64_t memory_usable_run(const struct memory_range *ranges, unsigned count, uint64_t start)
{
	uint64_t reached = start;
	/* Each pass extends the run by one range that contains its current end; at most
	 * count passes. */
	for (unsigned pass = 0; pass < count; pass++) {
		bool extended = false;
		for (unsigned i = 0; i < count; i++) {
			uint64_t end = memory_range_end(&ranges[i]);
			if (usable(&ranges[i]) && ranges[i].base <= reached && end > reached) {
				reached = end;
				extended = true;
			}
		}
		if (!extended)
			break;
	}
	return reached - start;
}

bool memory_usable_covers(const struct memory_range *ranges, unsigned count, uint64_t start,
			  uint64_t end)
{
	return end <= start || memory_usable_run(ranges, count, start) >= end - start;
}
