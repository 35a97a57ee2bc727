/* covers: src/core/paging.c src/core/tdp.c src/core/frame_alloc.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* Table frames live in a host arena; the allocator hands out fake physical addresses
 * starting at ARENA_PHYS, and frame_ptr translates them back. */
#define ARENA_FRAMES 256
#define ARENA_PHYS 0x7f000000ull

static uint8_t *arena;
static struct frame_alloc fa;
static struct paging pg;
static unsigned frame_ptr_calls;

static void *arena_ptr(uint64_t phys)
{
	frame_ptr_calls++;
	assert_true(phys >= ARENA_PHYS);
	assert_true(phys < ARENA_PHYS + ARENA_FRAMES * FRAME_SIZE);
	assert_int_equal(phys & (FRAME_SIZE - 1), 0);
	return arena + (phys - ARENA_PHYS);
}

static uint64_t *tbl(uint64_t phys)
{
	return (uint64_t *)arena_ptr(phys);
}

static int setup_frames(uint64_t frames)
{
	memset(arena, 0xa5, ARENA_FRAMES * FRAME_SIZE); /* tables must be zeroed when taken */
	if (frame_alloc_init(&fa, ARENA_PHYS, frames * FRAME_SIZE))
		return -1;
	frame_ptr_calls = 0;
	return paging_init(&pg, &fa, arena_ptr);
}

static int setup(void **state)
{
	(void)state;
	return setup_frames(ARENA_FRAMES);
}

static int group_setup(void **state)
{
	(void)state;
	arena = aligned_alloc(FRAME_SIZE, ARENA_FRAMES * FRAME_SIZE);
	return arena ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

/* Frames the tables took since paging_init (the root included). */
static uint64_t tables_used(void)
{
	return fa.nr_frames - fa.nr_free;
}

static void expect_translation(uint64_t virt, uint64_t phys, uint64_t page_size)
{
	uint64_t got = 0, size = 0;
	assert_int_equal(paging_translate(&pg, virt, &got, &size), 0);
	assert_int_equal(got, phys);
	assert_int_equal(size, page_size);
}

static void expect_unmapped(uint64_t virt)
{
	uint64_t got = 0xdead, size = 0xbeef;
	assert_int_equal(paging_translate(&pg, virt, &got, &size), -1);
}

static unsigned idx(uint64_t virt, int level)
{
	return (virt >> (12 + 9 * (level - 1))) & 511;
}

/* ---- paging_init ---- */

static void test_init(void **state)
{
	(void)state;
	assert_int_equal(pg.root, ARENA_PHYS);
	assert_ptr_equal(pg.fa, &fa);
	assert_false(pg.allow_1g);
	assert_int_equal(tables_used(), 1);
	uint64_t *root = tbl(pg.root);
	for (int i = 0; i < 512; i++)
		assert_int_equal(root[i], 0);
	expect_unmapped(0);
	expect_unmapped(0xFFFFFFFF80000000ull);
}

static void test_init_out_of_frames(void **state)
{
	(void)state;
	assert_int_equal(frame_alloc_init(&fa, ARENA_PHYS, FRAME_SIZE), 0);
	assert_int_equal(frame_alloc_one(&fa), ARENA_PHYS);
	assert_int_equal(paging_init(&pg, &fa, arena_ptr), -1);
	assert_int_equal(pg.root, 0);
}

/* ---- 4 KiB pages ---- */

static void test_map_4k(void **state)
{
	(void)state;
	const uint64_t virt = 0x400000 + 5 * PAGE_4K, phys = 0x12345000;
	assert_int_equal(paging_map(&pg, virt, phys, PAGE_4K, PTE_W), 0);
	assert_int_equal(tables_used(), 4); /* PML4 + PDPT + PD + PT */
	expect_translation(virt, phys, PAGE_4K);
	expect_translation(virt + 0xABC, phys + 0xABC, PAGE_4K);
	expect_translation(virt + 0xFFF, phys + 0xFFF, PAGE_4K);
	expect_unmapped(virt - PAGE_4K);
	expect_unmapped(virt + PAGE_4K);
	expect_unmapped(virt + PAGE_2M);
	expect_unmapped(virt + 512 * GIB); /* same indices below PML4 */

	/* The entries themselves: intermediate ones grant everything, the leaf decides. */
	uint64_t e4 = tbl(pg.root)[idx(virt, 4)];
	assert_int_equal(e4 & ~PTE_ADDR_MASK, PTE_P | PTE_W | PTE_U);
	uint64_t e3 = tbl(e4 & PTE_ADDR_MASK)[idx(virt, 3)];
	assert_int_equal(e3 & ~PTE_ADDR_MASK, PTE_P | PTE_W | PTE_U);
	uint64_t e2 = tbl(e3 & PTE_ADDR_MASK)[idx(virt, 2)];
	assert_int_equal(e2 & ~PTE_ADDR_MASK, PTE_P | PTE_W | PTE_U);
	uint64_t *pt = tbl(e2 & PTE_ADDR_MASK);
	assert_int_equal(pt[idx(virt, 1)], phys | PTE_P | PTE_W);
	/* New tables were zeroed: only the one entry is set. */
	for (int i = 0; i < 512; i++)
		if ((unsigned)i != idx(virt, 1))
			assert_int_equal(pt[i], 0);
}

static void test_map_4k_range_shares_tables(void **state)
{
	(void)state;
	/* 16 pages straddling a 2 MiB boundary: two page tables under one PD. */
	const uint64_t virt = 0x200000 - 8 * PAGE_4K;
	assert_int_equal(paging_map(&pg, virt, 0x9000000 + PAGE_4K, 16 * PAGE_4K, PTE_W), 0);
	assert_int_equal(tables_used(), 5);
	for (uint64_t i = 0; i < 16; i++)
		expect_translation(virt + i * PAGE_4K, 0x9000000 + PAGE_4K + i * PAGE_4K, PAGE_4K);
	expect_unmapped(virt - PAGE_4K);
	expect_unmapped(virt + 16 * PAGE_4K);
	/* A neighbour in the same page table costs nothing. */
	assert_int_equal(paging_map(&pg, virt - PAGE_4K, 0x5000, PAGE_4K, 0), 0);
	assert_int_equal(tables_used(), 5);
	expect_translation(virt - PAGE_4K, 0x5000, PAGE_4K);
}

static void test_map_flags(void **state)
{
	(void)state;
	const uint64_t flags = PTE_U | PTE_PCD | PTE_PWT | PTE_G | PTE_NX;
	assert_int_equal(paging_map(&pg, 0x1000, 0x2000, PAGE_4K, flags), 0);
	uint64_t e4 = tbl(pg.root)[0];
	uint64_t e3 = tbl(e4 & PTE_ADDR_MASK)[0];
	uint64_t e2 = tbl(e3 & PTE_ADDR_MASK)[0];
	assert_int_equal(tbl(e2 & PTE_ADDR_MASK)[1], 0x2000 | flags | PTE_P);
	/* NX and the cache bits do not leak into the translated address. */
	expect_translation(0x1234, 0x2234, PAGE_4K);
	/* Read-only: no PTE_W on the leaf; present anyway. */
	assert_int_equal(paging_map(&pg, 0x3000, 0x3000, PAGE_4K, 0), 0);
	assert_int_equal(tbl(e2 & PTE_ADDR_MASK)[3], 0x3000 | PTE_P);
}

/* ---- large pages ---- */

static void test_map_2m(void **state)
{
	(void)state;
	const uint64_t virt = 3 * PAGE_2M, phys = 5 * GIB + 7 * PAGE_2M;
	assert_int_equal(paging_map(&pg, virt, phys, PAGE_2M, PTE_W), 0);
	assert_int_equal(tables_used(), 3); /* PML4 + PDPT + PD, no PT */
	expect_translation(virt, phys, PAGE_2M);
	expect_translation(virt + 0x1ABCDE, phys + 0x1ABCDE, PAGE_2M);
	expect_unmapped(virt - 1);
	expect_unmapped(virt + PAGE_2M);
	uint64_t e3 = tbl(tbl(pg.root)[0] & PTE_ADDR_MASK)[0];
	uint64_t e2 = tbl(e3 & PTE_ADDR_MASK)[3];
	assert_int_equal(e2, phys | PTE_P | PTE_W | PTE_PS);
}

static void test_map_1g(void **state)
{
	(void)state;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, 1 * GIB, 6 * GIB, PAGE_1G, PTE_W | PTE_NX), 0);
	assert_int_equal(tables_used(), 2); /* PML4 + PDPT */
	expect_translation(1 * GIB, 6 * GIB, PAGE_1G);
	expect_translation(2 * GIB - 1, 7 * GIB - 1, PAGE_1G);
	expect_translation(1 * GIB + 0x12345678, 6 * GIB + 0x12345678, PAGE_1G);
	expect_unmapped(0);
	expect_unmapped(2 * GIB);
	uint64_t e3 = tbl(tbl(pg.root)[0] & PTE_ADDR_MASK)[1];
	assert_int_equal(e3, 6 * GIB | PTE_P | PTE_W | PTE_PS | PTE_NX);
}

static void test_map_1g_needs_allow_1g(void **state)
{
	(void)state;
	/* Without Page1GB the same range becomes 512 2 MiB pages in one PD. */
	assert_int_equal(paging_map(&pg, 1 * GIB, 6 * GIB, PAGE_1G, PTE_W), 0);
	assert_int_equal(tables_used(), 3);
	expect_translation(1 * GIB, 6 * GIB, PAGE_2M);
	expect_translation(2 * GIB - 1, 7 * GIB - 1, PAGE_2M);
	expect_translation(1 * GIB + 0x12345678, 6 * GIB + 0x12345678, PAGE_2M);
}

static void test_map_identity_like_relocate_high(void **state)
{
	(void)state;
	/* What relocate_high() does: identity-map the low 4 GiB, then the image's high
	 * addresses (-2 GiB) onto its physical region. */
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, 0, 0, 4 * GIB, PTE_W), 0);
	assert_int_equal(tables_used(), 2);
	assert_int_equal(paging_map(&pg, 0xFFFFFFFF80000000ull, 0x7e000000, 0x123000, PTE_W), 0);
	assert_int_equal(tables_used(), 2 + 3); /* PDPT, PD, PT for the high half */
	expect_translation(0, 0, PAGE_1G);
	expect_translation(0xFEE00000, 0xFEE00000, PAGE_1G);
	expect_translation(4 * GIB - 1, 4 * GIB - 1, PAGE_1G);
	expect_unmapped(4 * GIB);
	expect_translation(0xFFFFFFFF80000000ull, 0x7e000000, PAGE_4K);
	expect_translation(0xFFFFFFFF80122FFFull, 0x7e122FFF, PAGE_4K);
	expect_unmapped(0xFFFFFFFF80123000ull);
	assert_int_not_equal(tbl(pg.root)[511] & PTE_P, 0);
}

static void test_map_identity_without_1g(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, 0, 0, 4 * GIB, PTE_W), 0);
	assert_int_equal(tables_used(), 1 + 1 + 4);
	for (uint64_t a = 0; a < 4 * GIB; a += 256 * MIB + PAGE_2M + 0x1234)
		expect_translation(a, a, PAGE_2M);
}

static void test_map_mixed_page_sizes(void **state)
{
	(void)state;
	pg.allow_1g = true;
	/* [1 GiB - 8 KiB, 2 GiB + 2 MiB + 4 KiB): two 4K, one 1G, one 2M, one 4K. */
	const uint64_t start = 1 * GIB - 2 * PAGE_4K;
	const uint64_t size = 2 * PAGE_4K + PAGE_1G + PAGE_2M + PAGE_4K;
	assert_int_equal(paging_map(&pg, start, start, size, PTE_W), 0);
	expect_translation(start, start, PAGE_4K);
	expect_translation(start + PAGE_4K, start + PAGE_4K, PAGE_4K);
	expect_translation(1 * GIB, 1 * GIB, PAGE_1G);
	expect_translation(2 * GIB - 1, 2 * GIB - 1, PAGE_1G);
	expect_translation(2 * GIB, 2 * GIB, PAGE_2M);
	expect_translation(2 * GIB + PAGE_2M, 2 * GIB + PAGE_2M, PAGE_4K);
	expect_unmapped(2 * GIB + PAGE_2M + PAGE_4K);
	expect_unmapped(start - PAGE_4K);
}

static void test_map_alignment_decides_page_size(void **state)
{
	(void)state;
	pg.allow_1g = true;
	/* virt 2 MiB aligned, phys only 4 KiB aligned: 4 KiB pages throughout. */
	assert_int_equal(paging_map(&pg, 4 * MIB, 8 * MIB + PAGE_4K, PAGE_2M, 0), 0);
	expect_translation(4 * MIB, 8 * MIB + PAGE_4K, PAGE_4K);
	expect_translation(6 * MIB - 1, 10 * MIB + PAGE_4K - 1, PAGE_4K);
	/* Both 1 GiB aligned but the size is short of 1 GiB: 2 MiB pages. */
	assert_int_equal(paging_map(&pg, 8 * GIB, 8 * GIB, PAGE_1G - PAGE_2M, 0), 0);
	expect_translation(8 * GIB, 8 * GIB, PAGE_2M);
	expect_translation(9 * GIB - PAGE_2M - 1, 9 * GIB - PAGE_2M - 1, PAGE_2M);
	expect_unmapped(9 * GIB - PAGE_2M);
	/* phys 2 MiB but not 1 GiB aligned: 2 MiB pages even for a whole GiB. */
	assert_int_equal(paging_map(&pg, 16 * GIB, 32 * GIB + PAGE_2M, PAGE_1G, 0), 0);
	expect_translation(16 * GIB, 32 * GIB + PAGE_2M, PAGE_2M);
	expect_translation(17 * GIB - 1, 33 * GIB + PAGE_2M - 1, PAGE_2M);
}

/* ---- refusals ---- */

static void test_map_rejects_unaligned(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, 0x1001, 0x2000, PAGE_4K, 0), -1);
	assert_int_equal(paging_map(&pg, 0x1000, 0x2800, PAGE_4K, 0), -1);
	assert_int_equal(paging_map(&pg, 0x1000, 0x2000, 0x1800, 0), -1);
	assert_int_equal(tables_used(), 1);
	expect_unmapped(0x1000);
}

static void test_map_zero_size(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, 0x1000, 0x2000, 0, PTE_W), 0);
	assert_int_equal(tables_used(), 1);
	expect_unmapped(0x1000);
}

static void test_refuses_small_inside_large(void **state)
{
	(void)state;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, 2 * PAGE_2M, 0x40000000, PAGE_2M, PTE_W), 0);
	uint64_t used = tables_used();
	/* A 4 KiB page inside the 2 MiB page needs a PT under a PS entry: refused. */
	assert_int_equal(paging_map(&pg, 2 * PAGE_2M + PAGE_4K, 0x1000, PAGE_4K, 0), -1);
	assert_int_equal(tables_used(), used);
	expect_translation(2 * PAGE_2M + PAGE_4K, 0x40000000 + PAGE_4K, PAGE_2M);

	/* A 1 GiB page, then a 2 MiB and a 4 KiB page inside it. */
	assert_int_equal(paging_map(&pg, 4 * GIB, 4 * GIB, PAGE_1G, PTE_W), 0);
	used = tables_used();
	assert_int_equal(paging_map(&pg, 4 * GIB + PAGE_2M, 0, PAGE_2M, 0), -1);
	assert_int_equal(paging_map(&pg, 5 * GIB - PAGE_4K, 0, PAGE_4K, 0), -1);
	assert_int_equal(tables_used(), used);
	expect_translation(5 * GIB - PAGE_4K, 5 * GIB - PAGE_4K, PAGE_1G);
}

static void test_refuses_large_over_small(void **state)
{
	(void)state;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, PAGE_2M + PAGE_4K, 0x5000, PAGE_4K, 0), 0);
	/* The PD entry for [2 MiB, 4 MiB) points to a page table: no 2 MiB leaf there. */
	assert_int_equal(paging_map(&pg, PAGE_2M, PAGE_2M, PAGE_2M, 0), -1);
	expect_translation(PAGE_2M + PAGE_4K, 0x5000, PAGE_4K);
	expect_unmapped(PAGE_2M);
	/* Nor a 1 GiB leaf over the PD. */
	assert_int_equal(paging_map(&pg, 0, 0, PAGE_1G, 0), -1);
	expect_translation(PAGE_2M + PAGE_4K, 0x5000, PAGE_4K);
}

static void test_refuses_remap(void **state)
{
	(void)state;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, 0x10000, 0x20000, PAGE_4K, PTE_W), 0);
	assert_int_equal(paging_map(&pg, 0x10000, 0x30000, PAGE_4K, PTE_W), -1);
	assert_int_equal(paging_map(&pg, 0x10000, 0x20000, PAGE_4K, PTE_W), -1);
	expect_translation(0x10000, 0x20000, PAGE_4K);
	assert_int_equal(paging_map(&pg, 8 * PAGE_2M, 0, PAGE_2M, 0), 0);
	assert_int_equal(paging_map(&pg, 8 * PAGE_2M, 0, PAGE_2M, 0), -1);
	assert_int_equal(paging_map(&pg, 2 * GIB, 0, PAGE_1G, 0), 0);
	assert_int_equal(paging_map(&pg, 2 * GIB, PAGE_1G, PAGE_1G, 0), -1);
	expect_translation(2 * GIB, 0, PAGE_1G);
}

/* ---- out of frames ---- */

static void test_out_of_frames(void **state)
{
	(void)state;
	/* The root and three more frames: exactly one 4 KiB path. */
	assert_int_equal(setup_frames(4), 0);
	assert_int_equal(paging_map(&pg, 0x1000, 0x1000, PAGE_4K, 0), 0);
	assert_int_equal(fa.nr_free, 0);
	/* The same page table still takes pages for free. */
	assert_int_equal(paging_map(&pg, 0x2000, 0x2000, 510 * PAGE_4K, 0), 0);
	expect_translation(0x1FF000, 0x1FF000, PAGE_4K);
	/* A 2 MiB page under the existing PD needs no frame either. */
	assert_int_equal(paging_map(&pg, PAGE_2M, PAGE_2M, PAGE_2M, 0), 0);
	/* A new page table, a new PD, a new PDPT: all refused. */
	assert_int_equal(paging_map(&pg, 2 * PAGE_2M, 0, PAGE_4K, 0), -1);
	assert_int_equal(paging_map(&pg, 1 * GIB, 0, PAGE_2M, 0), -1);
	assert_int_equal(paging_map(&pg, 512 * GIB, 0, PAGE_2M, 0), -1);
	expect_unmapped(2 * PAGE_2M);
	expect_unmapped(1 * GIB);
	expect_unmapped(512 * GIB);
}

static void test_out_of_frames_midway(void **state)
{
	(void)state;
	/* Root + PDPT + PD + one PT: a 4 KiB range spanning two page tables fails in the
	 * second, after mapping what fit into the first (no rollback is promised). */
	assert_int_equal(setup_frames(4), 0);
	assert_int_equal(paging_map(&pg, PAGE_2M - PAGE_4K, 0x100000, 2 * PAGE_4K, 0), -1);
	assert_int_equal(fa.nr_free, 0);
	expect_translation(PAGE_2M - PAGE_4K, 0x100000, PAGE_4K);
	expect_unmapped(PAGE_2M);
}

static void test_tables_fill_the_arena(void **state)
{
	(void)state;
	/* One page table per 2 MiB: map 4 KiB in as many 2 MiB slots as the arena allows. */
	uint64_t n = 0;
	while (paging_map(&pg, n * PAGE_2M, n * PAGE_4K, PAGE_4K, PTE_W) == 0)
		n++;
	/* Root, PDPT, one PD per GiB (one here) and a PT per slot. */
	assert_int_equal(n, ARENA_FRAMES - 3);
	assert_int_equal(fa.nr_free, 0);
	for (uint64_t i = 0; i < n; i++)
		expect_translation(i * PAGE_2M + 0x10, i * PAGE_4K + 0x10, PAGE_4K);
	expect_unmapped(n * PAGE_2M);
}

/* ---- paging_translate ---- */

static void test_translate_null_page_size(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, PAGE_2M, 0x600000, PAGE_2M, 0), 0);
	uint64_t phys = 0;
	assert_int_equal(paging_translate(&pg, PAGE_2M + 0x42, &phys, NULL), 0);
	assert_int_equal(phys, 0x600042);
}

static void test_translate_ignores_large_page_pat_bit(void **state)
{
	(void)state;
	/* In a 2 MiB or 1 GiB leaf bit 12 is PAT, not part of the address. */
	const uint64_t pat_large = 1ull << 12;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, PAGE_2M, 0x600000, PAGE_2M, pat_large), 0);
	expect_translation(PAGE_2M + 0x1000, 0x601000, PAGE_2M);
	assert_int_equal(paging_map(&pg, 3 * GIB, 3 * GIB, PAGE_1G, pat_large), 0);
	expect_translation(3 * GIB + 0x10, 3 * GIB + 0x10, PAGE_1G);
}

static void test_translate_non_present_intermediate(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, 0x1000, 0x1000, PAGE_4K, 0), 0);
	expect_unmapped(1 * GIB);          /* PDPT entry not present */
	expect_unmapped(PAGE_2M);          /* PD entry not present */
	expect_unmapped(0x2000);           /* PT entry not present */
	expect_unmapped(1ull << 39);       /* PML4 entry not present */
	/* Clearing P in the leaf hides the page. */
	uint64_t e3 = tbl(tbl(pg.root)[0] & PTE_ADDR_MASK)[0];
	uint64_t e2 = tbl(e3 & PTE_ADDR_MASK)[0];
	tbl(e2 & PTE_ADDR_MASK)[1] &= ~PTE_P;
	expect_unmapped(0x1000);
}

/* ---- paging_update_4k ---- */

/* A 1 GiB page is split down to the one 4 KiB page that changes; everything else keeps
 * its mapping and flags (the permission-map write protection of nested/map_track.h). */
static void test_update_4k_splits_1g(void **state)
{
	(void)state;
	pg.allow_1g = true;
	assert_int_equal(paging_map(&pg, GIB, GIB, GIB, PTE_W | PTE_U), 0);
	const uint64_t page = GIB + 3 * PAGE_2M + 5 * PAGE_4K;
	assert_int_equal(paging_update_4k(&pg, page + 0x123, PTE_W, 0), 0);
	expect_translation(page, page, PAGE_4K);
	expect_translation(page + PAGE_4K, page + PAGE_4K, PAGE_4K);
	expect_translation(GIB, GIB, PAGE_2M);
	expect_translation(GIB + 5 * PAGE_2M + 77, GIB + 5 * PAGE_2M + 77, PAGE_2M);
	uint64_t e4 = tbl(pg.root)[0];
	uint64_t e3 = tbl(e4 & PTE_ADDR_MASK)[idx(page, 3)];
	assert_false(e3 & PTE_PS);
	uint64_t e2 = tbl(e3 & PTE_ADDR_MASK)[idx(page, 2)];
	assert_false(e2 & PTE_PS);
	uint64_t *pt = tbl(e2 & PTE_ADDR_MASK);
	assert_int_equal(pt[idx(page, 1)], page | PTE_P | PTE_U);
	assert_int_equal(pt[idx(page, 1) + 1], (page + PAGE_4K) | PTE_P | PTE_W | PTE_U);
	uint64_t other = tbl(e3 & PTE_ADDR_MASK)[idx(page, 2) + 1];
	assert_int_equal(other, (GIB + 4 * PAGE_2M) | PTE_P | PTE_W | PTE_U | PTE_PS);
	/* and back: writable again, no further split */
	uint64_t used = tables_used();
	assert_int_equal(paging_update_4k(&pg, page, 0, PTE_W), 0);
	assert_int_equal(pt[idx(page, 1)], page | PTE_P | PTE_W | PTE_U);
	assert_int_equal(tables_used(), used);
}

static void test_update_4k_unmapped(void **state)
{
	(void)state;
	assert_int_equal(paging_map(&pg, 0, 0, PAGE_2M, PTE_W), 0);
	assert_int_equal(paging_update_4k(&pg, PAGE_2M, PTE_W, 0), -1);
	assert_int_equal(paging_update_4k(&pg, 5 * GIB, PTE_W, 0), -1);
	assert_int_equal(paging_update_4k(&pg, 0x5000, PTE_W, PTE_NX), 0);
	assert_int_equal(tbl(tbl(tbl(tbl(pg.root)[0] & PTE_ADDR_MASK)[0] & PTE_ADDR_MASK)[0] &
			     PTE_ADDR_MASK)[5],
			 0x5000 | PTE_P | PTE_NX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init, setup),
		cmocka_unit_test(test_init_out_of_frames),
		cmocka_unit_test_setup(test_map_4k, setup),
		cmocka_unit_test_setup(test_map_4k_range_shares_tables, setup),
		cmocka_unit_test_setup(test_map_flags, setup),
		cmocka_unit_test_setup(test_map_2m, setup),
		cmocka_unit_test_setup(test_map_1g, setup),
		cmocka_unit_test_setup(test_map_1g_needs_allow_1g, setup),
		cmocka_unit_test_setup(test_map_identity_like_relocate_high, setup),
		cmocka_unit_test_setup(test_map_identity_without_1g, setup),
		cmocka_unit_test_setup(test_map_mixed_page_sizes, setup),
		cmocka_unit_test_setup(test_map_alignment_decides_page_size, setup),
		cmocka_unit_test_setup(test_map_rejects_unaligned, setup),
		cmocka_unit_test_setup(test_map_zero_size, setup),
		cmocka_unit_test_setup(test_refuses_small_inside_large, setup),
		cmocka_unit_test_setup(test_refuses_large_over_small, setup),
		cmocka_unit_test_setup(test_refuses_remap, setup),
		cmocka_unit_test(test_out_of_frames),
		cmocka_unit_test(test_out_of_frames_midway),
		cmocka_unit_test_setup(test_tables_fill_the_arena, setup),
		cmocka_unit_test_setup(test_translate_null_page_size, setup),
		cmocka_unit_test_setup(test_translate_ignores_large_page_pat_bit, setup),
		cmocka_unit_test_setup(test_translate_non_present_intermediate, setup),
		cmocka_unit_test_setup(test_update_4k_splits_1g, setup),
		cmocka_unit_test_setup(test_update_4k_unmapped, setup),
	};
	return cmocka_run_group_tests_name("paging", tests, group_setup, group_teardown);
}
