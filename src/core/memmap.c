#include "core/memmap.h"

/* Room for a full table plus the pieces one carve can add (a range split in three). */
#define MEMMAP_WORK_MAX (BOOT_MAX_MEM_RANGES + 2)

const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI_RECLAIM: return "acpi-reclaim";
	case MEM_ACPI_NVS: return "acpi-nvs";
	case MEM_BAD: return "bad";
	case MEM_NESTBED: return "nestbed";
	default: return "unknown";
	}
}

static uint64_t range_end(const struct mem_range *r)
{
	return r->base + r->length;
}

/* Usable loses to every other type; among the others the higher number wins, which
 * keeps MEM_NESTBED above all firmware types. */
static uint32_t stronger_type(uint32_t a, uint32_t b)
{
	if (a == MEM_USABLE)
		return b;
	if (b == MEM_USABLE)
		return a;
	return a > b ? a : b;
}

static void sort_by_base(struct mem_range *r, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct mem_range key = r[i];
		uint32_t j = i;
		while (j > 0 && (r[j - 1].base > key.base ||
				 (r[j - 1].base == key.base && r[j - 1].length > key.length))) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = key;
	}
}

/* Boundary sweep: every start and end is a boundary; the type of each elementary
 * interval is the strongest of the ranges covering it. O(n^2), n <= 128. */
uint32_t memmap_sanitize(struct mem_range *ranges, uint32_t count, uint32_t max)
{
	uint64_t bounds[2 * MEMMAP_WORK_MAX];
	struct mem_range out[MEMMAP_WORK_MAX];
	uint32_t nb = 0, no = 0;

	if (count > MEMMAP_WORK_MAX)
		count = MEMMAP_WORK_MAX;
	for (uint32_t i = 0; i < count; i++) {
		if (ranges[i].length == 0 || range_end(&ranges[i]) < ranges[i].base)
			continue;
		bounds[nb++] = ranges[i].base;
		bounds[nb++] = range_end(&ranges[i]);
	}
	/* sort and dedupe bounds */
	for (uint32_t i = 1; i < nb; i++) {
		uint64_t key = bounds[i];
		uint32_t j = i;
		while (j > 0 && bounds[j - 1] > key) {
			bounds[j] = bounds[j - 1];
			j--;
		}
		bounds[j] = key;
	}
	uint32_t nu = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (nu == 0 || bounds[nu - 1] != bounds[i])
			bounds[nu++] = bounds[i];

	for (uint32_t i = 0; i + 1 < nu; i++) {
		uint64_t lo = bounds[i], hi = bounds[i + 1];
		uint32_t type = 0;
		for (uint32_t k = 0; k < count; k++) {
			if (ranges[k].length == 0)
				continue;
			if (ranges[k].base <= lo && range_end(&ranges[k]) >= hi)
				type = type ? stronger_type(type, ranges[k].type) : ranges[k].type;
		}
		if (!type)
			continue;
		if (no && out[no - 1].type == type && range_end(&out[no - 1]) == lo) {
			out[no - 1].length += hi - lo;
		} else if (no < MEMMAP_WORK_MAX) {
			out[no].base = lo;
			out[no].length = hi - lo;
			out[no].type = type;
			no++;
		}
	}
	if (no > max)
		no = max;
	for (uint32_t i = 0; i < no; i++)
		ranges[i] = out[i];
	sort_by_base(ranges, no);
	return no;
}

int memmap_carve(struct mem_range *ranges, uint32_t count, uint32_t max, uint64_t base,
		 uint64_t size, uint32_t type)
{
	struct mem_range work[MEMMAP_WORK_MAX];
	if (count + 1 > MEMMAP_WORK_MAX)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		work[i] = ranges[i];
	work[count].base = base;
	work[count].length = size;
	work[count].type = type;
	/* The carved type must win even over firmware types; MEM_NESTBED is the largest. */
	uint32_t n = memmap_sanitize(work, count + 1, MEMMAP_WORK_MAX);
	if (n > max || n > BOOT_MAX_MEM_RANGES)
		return -1; /* splitting would lose a range: leave the map as it was */
	for (uint32_t i = 0; i < n; i++)
		ranges[i] = work[i];
	return (int)n;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen; /* empty ranges overlap nothing */
}

int memmap_find_top(const struct mem_range *ranges, uint32_t count, uint64_t size,
		    uint64_t align, uint64_t limit, const struct mem_range *avoid,
		    uint32_t nr_avoid, uint64_t *base_out)
{
	if (size == 0 || align == 0 || (align & (align - 1)))
		return -1;
	for (uint32_t i = count; i-- > 0;) {
		const struct mem_range *r = &ranges[i];
		if (r->type != MEM_USABLE)
			continue;
		uint64_t end = range_end(r) < limit ? range_end(r) : limit;
		while (end > r->base && end - r->base >= size) {
			uint64_t base = (end - size) & ~(align - 1);
			if (base < r->base)
				break;
			uint64_t lowest_conflict = UINT64_MAX;
			for (uint32_t k = 0; k < nr_avoid; k++)
				if (overlaps(base, size, avoid[k].base, avoid[k].length) &&
				    avoid[k].base < lowest_conflict)
					lowest_conflict = avoid[k].base;
			if (lowest_conflict == UINT64_MAX) {
				*base_out = base;
				return 0;
			}
			end = lowest_conflict;
		}
	}
	return -1;
}

bool memmap_is_usable(const struct mem_range *ranges, uint32_t count, uint64_t base,
		      uint64_t size)
{
	uint64_t cursor = base, end = base + size;
	if (end < base)
		return false; /* wraps around: not memory */
	/* ranges are sanitized: sorted and merged, so walk forward once */
	for (uint32_t i = 0; i < count && cursor < end; i++) {
		const struct mem_range *r = &ranges[i];
		if (r->type != MEM_USABLE)
			continue;
		if (r->base <= cursor && range_end(r) > cursor)
			cursor = range_end(r);
	}
	return cursor >= end;
}

uint64_t memmap_top(const struct mem_range *ranges, uint32_t count, uint32_t type)
{
	uint64_t top = 0;
	for (uint32_t i = 0; i < count; i++)
		if (ranges[i].type == type && range_end(&ranges[i]) > top)
			top = range_end(&ranges[i]);
	return top;
}

uint64_t memmap_identity_end(const struct mem_range *ranges, uint32_t count)
{
	uint64_t end = MEMMAP_IDENTITY_MIN;
	for (uint32_t i = 0; i < count; i++)
		if (range_end(&ranges[i]) > end)
			end = range_end(&ranges[i]);
	return (end + MEMMAP_IDENTITY_ALIGN - 1) & ~(MEMMAP_IDENTITY_ALIGN - 1);
}
