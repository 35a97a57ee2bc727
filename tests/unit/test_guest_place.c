/* covers: src/core/guest_place.c src/core/memmap.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/guest_place.h"

/* ---- placement against the guest's memory map ---- */

/* A 256 MiB QEMU-like map with nestbed at [0xea00000, 0xfe00000). */
static const struct mem_range test_map[] = {
	{ 0x0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0xe900000, MEM_USABLE },
	{ 0xea00000, 0x1400000, MEM_NESTBED },
	{ 0xfe00000, 0x1e0000, MEM_USABLE },
	{ 0xffe0000, 0x20000, MEM_RESERVED },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
};
#define TEST_MAP_COUNT (sizeof(test_map) / sizeof(test_map[0]))

static struct guest_image g;
static char err[256];

static int place(uint64_t phys, uint64_t size)
{
	memset(&g, 0, sizeof(g));
	memset(err, 0, sizeof(err));
	g.nr_segments = 2;
	g.segments[0] = (struct guest_segment){ 0, 0x10, 0x100000, 0x1000, 0 };
	g.segments[1] = (struct guest_segment){ 0, 0x10, phys, size, 3 };
	return guest_image_check_placement(&g, test_map, TEST_MAP_COUNT, err, sizeof(err));
}

static void test_placement(void **state)
{
	(void)state;
	assert_int_equal(place(0x1000000, 0x1000), 0);
	assert_int_equal(place(0xfe00000, 0x1e0000), 0);  /* usable above nestbed */
	assert_int_equal(place(0x0, 0x9fc00), 0);         /* all of low memory */
	/* Over nestbed: the start, the end, around it, its last byte. */
	assert_int_equal(place(0xe9ff000, 0x1001), -1);
	assert_string_equal(err, "segment 3 loads at [0xe9ff000-0xea00001), over nestbed's memory [0xea00000-0xfe00000)");
	assert_int_equal(place(0xfdfffff, 1), -1);
	assert_string_equal(err, "segment 3 loads at [0xfdfffff-0xfe00000), over nestbed's memory [0xea00000-0xfe00000)");
	assert_int_equal(place(0x1000000, 0xf000000), -1);
	assert_string_equal(err, "segment 3 loads at [0x1000000-0x10000000), over nestbed's memory [0xea00000-0xfe00000)");
	assert_int_equal(place(0xe9ff000, 0x1000), 0);    /* ends where nestbed starts */
	/* Firmware-reserved, past the end of memory, across a hole. */
	assert_int_equal(place(0x9f000, 0x1000), -1);
	assert_string_equal(err, "segment 3 loads at [0x9f000-0xa0000), which is not usable guest memory");
	assert_int_equal(place(0x10000000, 0x1000), -1);
	assert_string_equal(err, "segment 3 loads at [0x10000000-0x10001000), which is not usable guest memory");
	assert_int_equal(place(0xfffff000, 0x1000), -1);
	assert_int_equal(place(0xFFFFFFFFFFFFF000ull, 0xFFF), -1);
	assert_string_equal(err, "segment 3 loads at [0xfffffffffffff000-0xffffffffffffffff), which is not usable guest memory");
	/* A wrapping segment (not from the parser, which refuses it) is refused too. */
	assert_int_equal(place(0xFFFFFFFFFFFFF000ull, 0x1000000 + 0x1000), -1);
	assert_string_equal(err, "segment 3: load range [0xfffffffffffff000, +0x1001000) wraps past 2^64");
	/* Segments on both sides of a reserved hole: each checked alone, the hole is fine. */
	memset(&g, 0, sizeof(g));
	g.nr_segments = 2;
	g.segments[0] = (struct guest_segment){ 0, 0x10, 0x90000, 0x1000, 0 };
	g.segments[1] = (struct guest_segment){ 0, 0x10, 0x100000, 0x1000, 1 };
	assert_int_equal(guest_image_check_placement(&g, test_map, TEST_MAP_COUNT, err, sizeof(err)), 0);
	/* No segments, an empty map. */
	g.nr_segments = 0;
	assert_int_equal(guest_image_check_placement(&g, test_map, 0, err, sizeof(err)), 0);
	g.nr_segments = 1;
	assert_int_equal(guest_image_check_placement(&g, test_map, 0, err, sizeof(err)), -1);
}


static void test_page_after(void **state)
{
	(void)state;
	uint64_t a = 0x5a;
	assert_int_equal(guest_page_after(0x100000, 0x1, &a), 0);
	assert_int_equal(a, 0x101000);
	assert_int_equal(guest_page_after(0x100000, 0, &a), 0);
	assert_int_equal(a, 0x100000);
	assert_int_equal(guest_page_after(0x100001, 0xFFF, &a), 0);
	assert_int_equal(a, 0x101000);
	assert_int_equal(guest_page_after(0xFFFFFFFFFFFFE000ull, 0x1000, &a), 0);
	assert_int_equal(a, 0xFFFFFFFFFFFFF000ull);
	/* Rounding up past 2^64, and the sum itself past it. */
	a = 0x5a;
	assert_int_equal(guest_page_after(0xFFFFFFFFFFFFF000ull, 1, &a), -1);
	assert_int_equal(guest_page_after(0xFFFFFFFFFFFFF000ull, 0x1000, &a), -1);
	assert_int_equal(guest_page_after(1, UINT64_MAX, &a), -1);
	assert_int_equal(a, 0x5a);
}

/* Multiboot modules after the kernel: low memory, 1 MiB up to nestbed, above nestbed. */
#define INFO 0x8000ull
#define INFO_SIZE 0x2000ull

static int mod_place(uint64_t cursor, uint64_t size, uint64_t *at)
{
	*at = 0x5a;
	return guest_mb1_module_place(test_map, TEST_MAP_COUNT, cursor, INFO, INFO_SIZE, size, at);
}

static void test_mb1_module_place(void **state)
{
	(void)state;
	uint64_t at;
	/* Right after the kernel, page aligned. */
	assert_int_equal(mod_place(0x105123, 0x3000, &at), 0);
	assert_int_equal(at, 0x106000);
	assert_int_equal(mod_place(0x106000, 0x3000, &at), 0);
	assert_int_equal(at, 0x106000);
	/* An empty module still needs a usable byte. */
	assert_int_equal(mod_place(0x200000, 0, &at), 0);
	assert_int_equal(at, 0x200000);
	/* A kernel below the information area: the module goes past the area. */
	assert_int_equal(mod_place(0x5000, 0x4000, &at), 0);
	assert_int_equal(at, INFO + INFO_SIZE);
	assert_int_equal(mod_place(0x9000, 0x10, &at), 0);
	assert_int_equal(at, INFO + INFO_SIZE);
	assert_int_equal(mod_place(0x4000, 0x4000, &at), 0); /* ends where the area starts */
	assert_int_equal(at, 0x4000);
	/* Not over nestbed, the EBDA or past the end of memory. */
	assert_int_equal(mod_place(0xe9ff000, 0x1000, &at), 0);
	assert_int_equal(mod_place(0xe9ff000, 0x1001, &at), -1);
	assert_int_equal(at, 0x5a);
	assert_int_equal(mod_place(0x90000, 0x10000, &at), -1);
	assert_int_equal(mod_place(0xffd0000, 0x20000, &at), -1);
	/* Sizes and cursors that wrap, or pass 4 GiB. */
	assert_int_equal(mod_place(0x100000, UINT64_MAX, &at), -1);
	assert_int_equal(mod_place(0xFFFFFFFFFFFFF001ull, 0x10, &at), -1);
	assert_int_equal(mod_place(0x100000, 0x100000000ull, &at), -1);
	assert_int_equal(at, 0x5a);
}

static void test_mb1_module_below_4g(void **state)
{
	(void)state;
	/* Usable memory right up to 4 GiB: a module may end at 0xFFFFFFFF, not at 4 GiB,
	 * where its 32-bit mod_end would read 0. */
	static const struct mem_range all[] = { { 0x100000, 0x200000000ull, MEM_USABLE } };
	uint64_t at = 0;
	assert_int_equal(guest_mb1_module_place(all, 1, 0xFFFFF000, INFO, INFO_SIZE, 0xFFF, &at), 0);
	assert_int_equal(at, 0xFFFFF000);
	assert_int_equal(guest_mb1_module_place(all, 1, 0xFFFFF000, INFO, INFO_SIZE, 0x1000, &at), -1);
	assert_int_equal(guest_mb1_module_place(all, 1, 0x100000000ull, INFO, INFO_SIZE, 1, &at), -1);
	/* An information area whose end wraps (not nestbed's, but the function is total). */
	assert_int_equal(guest_mb1_module_place(all, 1, 0x100000, UINT64_MAX, 2, 1, &at), -1);
}

/* ---- copying segments out of an image that lies in the memory they load into ---- */

static void seg(uint32_t i, uint64_t off, uint64_t fsz, uint64_t phys, uint64_t msz)
{
	g.segments[i] = (struct guest_segment){ off, fsz, phys, msz, i };
	if (g.nr_segments <= i)
		g.nr_segments = i + 1;
}

/* Copies every segment in the order given out of a simulated memory holding the image at
 * src and checks each byte arrived: the order is really safe. */
static void check_order_copies(uint64_t src, uint64_t image_size, const uint32_t *order)
{
	static uint8_t mem[0x10000], image[0x10000];
	for (uint64_t i = 0; i < image_size; i++)
		image[i] = (uint8_t)(i * 7 + 1);
	memset(mem, 0xcc, sizeof(mem));
	memcpy(mem + src, image, image_size);
	for (uint32_t k = 0; k < g.nr_segments; k++) {
		const struct guest_segment *s = &g.segments[order[k]];
		memmove(mem + s->phys, mem + src + s->file_offset, s->file_size);
		memset(mem + s->phys + s->file_size, 0, s->mem_size - s->file_size);
	}
	for (uint32_t i = 0; i < g.nr_segments; i++) {
		const struct guest_segment *s = &g.segments[i];
		assert_memory_equal(mem + s->phys, image + s->file_offset, s->file_size);
		for (uint64_t b = s->file_size; b < s->mem_size; b++)
			assert_int_equal(mem[s->phys + b], 0);
	}
}

static void test_load_order(void **state)
{
	(void)state;
	uint32_t order[GUEST_MAX_SEGMENTS];
	/* Linux's vmlinux in miniature: the image low, its segments higher and overlapping
	 * it, each displaced by the same amount: the highest segment first. */
	memset(&g, 0, sizeof(g));
	seg(0, 0x1000, 0x2000, 0x3000, 0x2000);
	seg(1, 0x3000, 0x1000, 0x5000, 0x1000);
	seg(2, 0x4000, 0x800, 0x6000, 0x1800); /* bss after its file bytes */
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	check_order_copies(0x1000, 0x4800, order);
	/* The image above its segments: the lowest first. */
	assert_int_equal(guest_segments_load_order(&g, 0x8000, order), 0);
	assert_int_equal(order[0], 0);
	check_order_copies(0x8000, 0x4800, order);
	/* Out of the way: the file's order. */
	assert_int_equal(guest_segments_load_order(&g, 0xa000, order), 0);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	check_order_copies(0xa000, 0x4800, order);
	/* A segment over its own file bytes only: memmove handles it. */
	memset(&g, 0, sizeof(g));
	seg(0, 0, 0x1000, 0x1800, 0x1000);
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), 0);
	check_order_copies(0x1000, 0x1000, order);
	/* Two segments each loading over the other's file bytes: no order. */
	memset(&g, 0, sizeof(g));
	seg(0, 0, 0x1000, 0x2000, 0x1000);
	seg(1, 0x1000, 0x1000, 0x1000, 0x1000);
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), -1);
	/* A bss (mem_size past file_size) over the next segment's file bytes counts too. */
	memset(&g, 0, sizeof(g));
	seg(0, 0, 0x800, 0x2000, 0x1800);
	seg(1, 0x1800, 0x800, 0x4000, 0x800);
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), 0);
	assert_int_equal(order[0], 1);
	check_order_copies(0x1000, 0x2000, order);
	/* A segment with no file bytes covers nothing it must wait for. */
	memset(&g, 0, sizeof(g));
	seg(0, 0, 0, 0x1000, 0x1000);
	seg(1, 0, 0x1000, 0x3000, 0x1000);
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), 0);
	check_order_copies(0x1000, 0x1000, order);
	/* src + file offset wraps: refused, not ordered. */
	memset(&g, 0, sizeof(g));
	seg(0, 0x2000, 0x1000, 0x1000, 0x1000);
	seg(1, 0, 0x1000, 0x5000, 0x1000);
	assert_int_equal(guest_segments_load_order(&g, UINT64_MAX - 0x1000, order), -1);
	/* No segments: nothing to order. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(guest_segments_load_order(&g, 0x1000, order), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_page_after),
		cmocka_unit_test(test_mb1_module_place),
		cmocka_unit_test(test_mb1_module_below_4g),
		cmocka_unit_test(test_load_order),
	};
	return cmocka_run_group_tests_name("guest_place", tests, NULL, NULL);
}
