/* Questions about a physical memory map (the Multiboot/E820 one): overlaps, how much
 * usable memory runs on from an address. Pure: also compiled for the host tests. */
#ifndef GUEST_MEMORY_MAP_H
#define GUEST_MEMORY_MAP_H

#include <stdbool.h>
#include <stdint.h>

/* Types as in Multiboot 0.6.96 3.3 and ACPI 6.4 15.1 (E820). */
enum memory_type {
	MEMORY_USABLE = 1,
	MEMORY_RESERVED = 2,
	MEMORY_ACPI_RECLAIMABLE = 3,
	MEMORY_ACPI_NVS = 4,
	MEMORY_BAD = 5,
};

struct memory_range {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/* End of a range, saturated at 2^64 - 1 instead of wrapping. */
uint64_t memory_range_end(const struct memory_range *range);

const char *memory_type_name(uint32_t type);

/* Finds two usable ranges that share a byte: returns true with their indices. */
bool memory_usable_overlap(const struct memory_range *ranges, unsigned count,
			   unsigned *first, unsigned *second);

/* How many bytes from start on are usable without a gap, merging usable ranges that
 * touch or overlap; 0 when start itself is not usable. */
uint64_t memory_usable_run(const struct memory_range *ranges, unsigned count, uint64_t start);

/* Is every byte of [start, end) usable? */
bool memory_usable_covers(const struct memory_range *ranges, unsigned count, uint64_t start,
			  uint64_t end);

/* Sorts ranges by base and merges neighbours of the same type that touch, in place, so
 * that two descriptions of one map (a BIOS's E820 list, a loader's copy of it) compare
 * entry by entry; drops empty ranges. Returns the new count. */
unsigned memory_map_normalize(struct memory_range *ranges, unsigned count);

/* The index of the first entry where two maps differ (count when they are equal), or
 * the shorter count when one is a prefix of the other. */
unsigned memory_map_first_difference(const struct memory_range *a, unsigned a_count,
				     const struct memory_range *b, unsigned b_count);

#endif
