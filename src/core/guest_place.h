/* Where the loader puts what it derives from a guest image, checked against the guest's
 * memory map (nestbed's own memory carved out as MEM_NESTBED): the image's segments and
 * the Multiboot modules. Pure, host-tested; all arithmetic overflow-checked. */
#ifndef NESTBED_GUEST_PLACE_H
#define NESTBED_GUEST_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/boot_info.h"
#include "core/guest_image.h"

/* Multiboot 1 addresses (module start and end, spec 0.6.96 3.3) are 32-bit: a module
 * must end at or below 0xFFFFFFFF so that mod_end does not wrap to 0. */
#define GUEST_MB1_MODULE_LIMIT 0xFFFFFFFFull

/* Segment by segment (not the [lowest, highest) extent, which a wrapped segment makes
 * look small): each load range must lie entirely in usable memory. Returns 0, or -1 with
 * a one-line reason in err naming the segment's program header and, when it touches
 * nestbed's memory, that range. */
int guest_image_check_placement(const struct guest_image *img, const struct mem_range *map,
				uint32_t count, char *err, size_t errlen);

/* Where a Multiboot loader puts the next module of `size` bytes: the first page at or
 * above `cursor`, moved past the boot information area [info, +info_size) if it would
 * overlap it, entirely in usable memory and below GUEST_MB1_MODULE_LIMIT. Returns 0 and
 * *place, or -1 (no such place). A module of 0 bytes still needs one usable byte. */
int guest_mb1_module_place(const struct mem_range *map, uint32_t count, uint64_t cursor,
			   uint64_t info, uint64_t info_size, uint64_t size, uint64_t *place);

/* The page-aligned address after [base, +size), or -1 when it would pass 2^64. */
int guest_page_after(uint64_t base, uint64_t size, uint64_t *out);

#endif
