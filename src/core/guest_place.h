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

/* An order in which img's segments can be copied (memmove, then the rest zeroed) out of
 * an image that lies at physical address `src` in the memory they load into: no segment's
 * load range [phys, +mem_size) may cover the file bytes of a segment copied after it (its
 * own may overlap: memmove). So a loader moves Linux's 65 MB vmlinux into place without a
 * first copy out of the way. Returns 0 with order[0..nr_segments) (segment indexes), or
 * -1 when there is no such order or src + a file offset passes 2^64. */
int guest_segments_load_order(const struct guest_image *img, uint64_t src,
			      uint32_t order[GUEST_MAX_SEGMENTS]);

/* The page-aligned address after [base, +size), or -1 when it would pass 2^64. */
int guest_page_after(uint64_t base, uint64_t size, uint64_t *out);

#endif
