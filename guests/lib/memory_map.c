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

unsigned memory_map_normalize(struct memory_range *ranges, unsigned count)
{
	unsigned n = 0;
	for (unsigned i = 0; i < count; i++)
		if (ranges[i].length)
			ranges[n++] = ranges[i];
	for (unsigned i = 1; i < n; i++) {
		struct memory_range key = ranges[i];
		unsigned j = i;
		while (j > 0 && ranges[j - 1].base > key.base) {
			ranges[j] = ranges[j - 1];
			j--;
		}
		ranges[j] = key;
	}
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++) {
		struct memory_range *last = out ? &ranges[out - 1] : 0;
		if (last && last->type == ranges[i].type &&
		    memory_range_end(last) == ranges[i].base) {
			last->length += ranges[i].length;
			continue;
		}
		ranges[out++] = ranges[i];
	}
	return out;
}

unsigned memory_map_first_difference(const struct memory_range *a, unsigned a_count,
				     const struct memory_range *b, unsigned b_count)
{
	unsigned n = a_count < b_count ? a_count : b_count;
	for (unsigned i = 0; i < n; i++)
		if (a[i].base != b[i].base || a[i].length != b[i].length || a[i].type != b[i].type)
			return i;
	return n;
}
