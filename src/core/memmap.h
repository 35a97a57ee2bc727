/* Memory-map logic: pure, host-tested. */
#ifndef NESTBED_MEMMAP_H
#define NESTBED_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/boot_info.h"

const char *mem_type_name(uint32_t type);

/* Sorts by base, drops empty ranges, resolves overlaps (the more restrictive type wins:
 * anything not usable beats usable) and merges adjacent ranges of equal type. Returns the
 * new count (never more than max). */
uint32_t memmap_sanitize(struct mem_range *ranges, uint32_t count, uint32_t max);

/* Marks [base, base+size) as `type`, splitting ranges as needed; returns the new count or
 * -1 when it would exceed max. The result is sanitized. */
int memmap_carve(struct mem_range *ranges, uint32_t count, uint32_t max, uint64_t base,
		 uint64_t size, uint32_t type);

/* Chooses the highest `align`-aligned block of `size` bytes inside one usable range,
 * entirely below `limit` and overlapping none of `avoid`. Returns 0 on success. */
int memmap_find_top(const struct mem_range *ranges, uint32_t count, uint64_t size,
		    uint64_t align, uint64_t limit, const struct mem_range *avoid,
		    uint32_t nr_avoid, uint64_t *base_out);

/* True when [base, base+size) lies entirely in usable memory. */
bool memmap_is_usable(const struct mem_range *ranges, uint32_t count, uint64_t base,
		      uint64_t size);

/* Highest end address of any range of the given type (0 if none). */
uint64_t memmap_top(const struct mem_range *ranges, uint32_t count, uint32_t type);

/* The end of nestbed's identity map of physical memory, as both boot paths build it: the
 * highest end of any range, at least 4 GiB, rounded up to 1 GiB. Physical addresses at or
 * above it are no memory, and nestbed cannot touch them. */
#define MEMMAP_IDENTITY_MIN (4ull << 30)
#define MEMMAP_IDENTITY_ALIGN (1ull << 30)
uint64_t memmap_identity_end(const struct mem_range *ranges, uint32_t count);

#endif
