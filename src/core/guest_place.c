#include "core/guest_place.h"

#include <stdbool.h>

#include "core/format.h"
#include "core/memmap.h"

#define PLACE_PAGE 0x1000ull

int guest_page_after(uint64_t base, uint64_t size, uint64_t *out)
{
	uint64_t end;
	if (__builtin_add_overflow(base, size, &end) ||
	    __builtin_add_overflow(end, PLACE_PAGE - 1, &end))
		return -1;
	*out = end & ~(PLACE_PAGE - 1);
	return 0;
}

int guest_image_check_placement(const struct guest_image *img, const struct mem_range *map,
				uint32_t count, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < img->nr_segments; i++) {
		const struct guest_segment *s = &img->segments[i];
		uint64_t end;
		if (__builtin_add_overflow(s->phys, s->mem_size, &end)) {
			format_buf(err, errlen, "segment %u: load range [%#llx, +%#llx) wraps past 2^64", s->phdr,
				   (unsigned long long)s->phys, (unsigned long long)s->mem_size);
			return -1;
		}
		for (uint32_t k = 0; k < count; k++) {
			const struct mem_range *r = &map[k];
			if (r->type == MEM_NESTBED && s->phys < r->base + r->length && r->base < end) {
				format_buf(err, errlen, "segment %u loads at [%#llx-%#llx), over nestbed's memory [%#llx-%#llx)",
					   s->phdr, (unsigned long long)s->phys, (unsigned long long)end,
					   (unsigned long long)r->base, (unsigned long long)(r->base + r->length));
				return -1;
			}
		}
		if (!memmap_is_usable(map, count, s->phys, s->mem_size)) {
			format_buf(err, errlen, "segment %u loads at [%#llx-%#llx), which is not usable guest memory",
				   s->phdr, (unsigned long long)s->phys, (unsigned long long)end);
			return -1;
		}
	}
	return 0;
}

int guest_mb1_module_place(const struct mem_range *map, uint32_t count, uint64_t cursor,
			   uint64_t info, uint64_t info_size, uint64_t size, uint64_t *place)
{
	uint64_t span = size ? size : 1, at, end, info_end;
	if (guest_page_after(cursor, 0, &at) || __builtin_add_overflow(info, info_size, &info_end))
		return -1;
	/* [at, at + span) overlaps the information area: go past it */
	if (!__builtin_add_overflow(at, span, &end) && at < info_end && info < end &&
	    guest_page_after(info, info_size, &at))
		return -1;
	if (__builtin_add_overflow(at, span, &end) || end > GUEST_MB1_MODULE_LIMIT ||
	    !memmap_is_usable(map, count, at, span))
		return -1;
	*place = at;
	return 0;
}

/* Does segment d's load range cover any file byte of segment f, the image at src? */
static bool load_covers_file(const struct guest_segment *d, const struct guest_segment *f,
			     uint64_t src, bool *bad)
{
	uint64_t from, to, dst_end;
	if (!f->file_size)
		return false;
	if (__builtin_add_overflow(src, f->file_offset, &from) ||
	    __builtin_add_overflow(from, f->file_size, &to) ||
	    __builtin_add_overflow(d->phys, d->mem_size, &dst_end)) {
		*bad = true;
		return true;
	}
	return d->phys < to && from < dst_end;
}

int guest_segments_load_order(const struct guest_image *img, uint64_t src,
			      uint32_t order[GUEST_MAX_SEGMENTS])
{
	bool done[GUEST_MAX_SEGMENTS] = { false };
	uint32_t n = img->nr_segments;
	if (n > GUEST_MAX_SEGMENTS)
		return -1;
	for (uint32_t i = 0; i < n; i++) { /* every file range and load range representable */
		uint64_t end;
		const struct guest_segment *s = &img->segments[i];
		if (__builtin_add_overflow(src, s->file_offset, &end) ||
		    __builtin_add_overflow(end, s->file_size, &end) ||
		    __builtin_add_overflow(s->phys, s->mem_size, &end))
			return -1;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t pick = n;
		for (uint32_t i = 0; i < n && pick == n; i++) {
			if (done[i])
				continue;
			bool clear = true, bad = false;
			for (uint32_t j = 0; j < n && clear; j++)
				if (j != i && !done[j] &&
				    load_covers_file(&img->segments[i], &img->segments[j], src, &bad))
					clear = false;
			if (bad)
				return -1;
			if (clear)
				pick = i;
		}
		if (pick == n)
			return -1;
		done[pick] = true;
		order[k] = pick;
	}
	return 0;
}
