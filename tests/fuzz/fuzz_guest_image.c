/* covers: src/core/guest_image.c src/core/guest_place.c src/core/memmap.c src/core/format.c */
/* libFuzzer target for the guest image parser (src/core/guest_image.c) and the placement
 * check against a guest memory map with nestbed's memory in it. Built with clang
 * -fsanitize=fuzzer,address,undefined (tests/fuzz/fuzz.mk); run by tests/run_all.py.
 *
 * Besides "no crash, no sanitizer report" it checks what the loader relies on, and aborts
 * with a message naming the broken invariant:
 *  - a refused image has a non-empty one-line reason, NUL-terminated in its buffer, and a
 *    short buffer gives the same verdict with a truncated copy of the same reason;
 *  - an accepted image: every segment's file range lies inside the input, mem_size > 0 and
 *    >= file_size, the load range does not wrap (nor pass 4 GiB for the 32-bit formats),
 *    no two segments overlap, the extent is the segments' min and max, the entry lies in a
 *    segment (below 4 GiB for PVH); every byte the loader would copy is read here, so
 *    AddressSanitizer sees a file range the parser got wrong;
 *  - placement accepted: every segment lies entirely in usable ranges of the map and
 *    touches none of its reserved or nestbed ranges (computed here independently);
 *  - a Multiboot module placed after the kernel (a size taken from the input) is page
 *    aligned, ends below 4 GiB, lies in usable memory, over no segment and not over the
 *    boot information area. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_image.h"
#include "core/guest_place.h"

#define FOUR_GIB (1ull << 32)

/* Two maps: QEMU -m 256 with nestbed high (the emulator scenarios' layout), and one with
 * nestbed low, inside the range kernels like to load at, and memory above 4 GiB. */
static const struct mem_range map_high[] = {
	{ 0x0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0xe900000, MEM_USABLE },
	{ 0xea00000, 0x1400000, MEM_NESTBED },
	{ 0xfe00000, 0x1e0000, MEM_USABLE },
	{ 0xffe0000, 0x20000, MEM_RESERVED },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
};
static const struct mem_range map_low[] = {
	{ 0x0, 0x9f000, MEM_USABLE },
	{ 0x100000, 0xf00000, MEM_USABLE },
	{ 0x1000000, 0x200000, MEM_NESTBED },
	{ 0x1200000, 0x7ee00000, MEM_USABLE },
	{ 0x80000000, 0x80000000, MEM_RESERVED },
	{ 0x100000000ull, 0x100000000ull, MEM_USABLE },
};

#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

static void broken(const char *what, const struct guest_image *g, uint32_t i)
{
	fprintf(stderr, "fuzz_guest_image: invariant broken: %s (kind %d, segment %u of %u",
		what, (int)g->kind, i, g->nr_segments);
	if (i < g->nr_segments)
		fprintf(stderr, ": file [%#llx, +%#llx) phys [%#llx, +%#llx)",
			(unsigned long long)g->segments[i].file_offset,
			(unsigned long long)g->segments[i].file_size,
			(unsigned long long)g->segments[i].phys,
			(unsigned long long)g->segments[i].mem_size);
	fprintf(stderr, ", entry %#llx)\n", (unsigned long long)g->entry);
	abort();
}

static void check_reason(const char *err, size_t len)
{
	struct guest_image none = { 0 };
	if (!memchr(err, 0, len))
		broken("reason not NUL-terminated", &none, 0);
	if (!err[0])
		broken("empty reason", &none, 0);
	if (strchr(err, '\n'))
		broken("reason spans lines", &none, 0);
}

/* Bytes of [base, base+size) covered by ranges of `type`, the ranges being disjoint. */
static uint64_t covered(const struct mem_range *map, uint32_t n, uint32_t type, uint64_t base,
			uint64_t size)
{
	uint64_t sum = 0, end = base + size;
	for (uint32_t k = 0; k < n; k++) {
		if (map[k].type != type)
			continue;
		uint64_t lo = map[k].base > base ? map[k].base : base;
		uint64_t rend = map[k].base + map[k].length;
		uint64_t hi = rend < end ? rend : end;
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}

static void check_placement(const struct guest_image *g, const struct mem_range *map, uint32_t n)
{
	char err[160];
	memset(err, 0x7f, sizeof(err));
	if (guest_image_check_placement(g, map, n, err, sizeof(err))) {
		check_reason(err, sizeof(err));
		return;
	}
	for (uint32_t i = 0; i < g->nr_segments; i++) {
		const struct guest_segment *s = &g->segments[i];
		if (covered(map, n, MEM_USABLE, s->phys, s->mem_size) != s->mem_size)
			broken("placed segment not entirely in usable memory", g, i);
		for (uint32_t k = 0; k < n; k++)
			if (map[k].type != MEM_USABLE && s->phys < map[k].base + map[k].length &&
			    map[k].base < s->phys + s->mem_size)
				broken("placed segment touches a reserved or nestbed range", g, i);
	}
}

/* A Multiboot module after the kernel: where guest_load would copy it. */
static void check_module(const struct guest_image *g, const struct mem_range *map, uint32_t n,
			 uint64_t size)
{
	const uint64_t info = 0x8000, info_size = 0x2000;
	uint64_t at, span = size ? size : 1;
	if (guest_mb1_module_place(map, n, g->phys_highest, info, info_size, size, &at))
		return;
	if (at & 0xFFF || at < g->phys_highest || at + span < at ||
	    at + span > GUEST_MB1_MODULE_LIMIT)
		broken("module placed unaligned, below the kernel's end or past 4 GiB", g, 0);
	if (at < info + info_size && info < at + span)
		broken("module placed over the boot information", g, 0);
	if (covered(map, n, MEM_USABLE, at, span) != span)
		broken("module placed outside usable memory", g, 0);
	for (uint32_t i = 0; i < g->nr_segments; i++)
		if (at < g->segments[i].phys + g->segments[i].mem_size &&
		    g->segments[i].phys < at + span)
			broken("module placed over a segment", g, i);
}

static volatile uint8_t sink;

static uint64_t module_size(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 4 && i < size; i++)
		v = v << 8 | data[size - 1 - i];
	return v >> (data[0] & 15); /* any size up to 4 GiB, small ones often */
}

static void check_accepted(const struct guest_image *g, const uint8_t *data, size_t size)
{
	if (g->kind == GUEST_LINUX_BZIMAGE) {
		if (g->nr_segments)
			broken("bzImage with segments", g, 0);
		return;
	}
	if (g->kind != GUEST_MULTIBOOT_AOUT && g->kind != GUEST_MULTIBOOT_ELF32 &&
	    g->kind != GUEST_PVH_ELF64)
		broken("unknown kind", g, 0);
	if (g->nr_segments == 0 || g->nr_segments > GUEST_MAX_SEGMENTS)
		broken("segment count", g, 0);
	uint64_t lowest = UINT64_MAX, highest = 0;
	int entry_inside = 0;
	for (uint32_t i = 0; i < g->nr_segments; i++) {
		const struct guest_segment *s = &g->segments[i];
		uint64_t fend, mend;
		if (__builtin_add_overflow(s->file_offset, s->file_size, &fend) || fend > size)
			broken("file range outside the input", g, i);
		if (s->mem_size == 0 || s->file_size > s->mem_size)
			broken("sizes", g, i);
		if (__builtin_add_overflow(s->phys, s->mem_size, &mend))
			broken("load range wraps past 2^64", g, i);
		if (g->kind != GUEST_PVH_ELF64 && mend > FOUR_GIB)
			broken("32-bit load range past 4 GiB", g, i);
		for (uint32_t k = 0; k < i; k++) {
			const struct guest_segment *o = &g->segments[k];
			if (s->phys < o->phys + o->mem_size && o->phys < mend)
				broken("overlapping segments", g, i);
		}
		if (s->phys < lowest)
			lowest = s->phys;
		if (mend > highest)
			highest = mend;
		if (g->entry >= s->phys && g->entry < mend)
			entry_inside = 1;
		/* What load_segments copies: ASan checks each byte is inside the input. */
		uint8_t x = 0;
		for (uint64_t b = 0; b < s->file_size; b++)
			x ^= data[s->file_offset + b];
		sink = x;
	}
	if (g->phys_lowest != lowest || g->phys_highest != highest)
		broken("extent is not the segments' min and max", g, 0);
	if (!entry_inside)
		broken("entry in no segment", g, 0);
	if (g->kind == GUEST_PVH_ELF64 && g->entry >= FOUR_GIB)
		broken("PVH entry above 4 GiB", g, 0);
	check_placement(g, map_high, N(map_high));
	check_placement(g, map_low, N(map_low));
	if (g->kind != GUEST_PVH_ELF64) {
		check_module(g, map_high, N(map_high), module_size(data, size));
		check_module(g, map_low, N(map_low), module_size(data, size));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes: a read past the end is an ASan report. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	struct guest_image g, g_short;
	char err[256], err_short[12];
	memset(err, 0x7f, sizeof(err));
	memset(err_short, 0x7f, sizeof(err_short));
	int rc = guest_image_parse(copy, size, &g, err, sizeof(err));
	int rc_short = guest_image_parse(copy, size, &g_short, err_short, sizeof(err_short));
	if (rc != rc_short)
		broken("verdict depends on the reason buffer's size", &g, 0);
	if (rc) {
		check_reason(err, sizeof(err));
		check_reason(err_short, sizeof(err_short));
		if (strncmp(err, err_short, sizeof(err_short) - 1))
			broken("short reason is not a prefix of the reason", &g, 0);
	} else {
		check_accepted(&g, copy, size);
	}
	free(copy);
	return 0;
}
