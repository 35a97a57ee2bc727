/* covers: src/vmx/vmx_ept.c src/core/tdp.c src/core/frame_alloc.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/vmx_ept.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* Table frames live in a host arena at fake physical addresses, as in test_paging.c. */
#define ARENA_FRAMES 64
#define ARENA_PHYS 0x7f000000ull

static uint8_t *arena;
static struct frame_alloc fa;
static struct ept ept;

static void *arena_ptr(uint64_t phys)
{
	assert_true(phys >= ARENA_PHYS && phys < ARENA_PHYS + ARENA_FRAMES * FRAME_SIZE);
	assert_int_equal(phys & (FRAME_SIZE - 1), 0);
	return arena + (phys - ARENA_PHYS);
}

static int setup_frames(uint64_t frames, bool allow_2m, bool allow_1g)
{
	memset(arena, 0xa5, ARENA_FRAMES * FRAME_SIZE);
	if (frame_alloc_init(&fa, ARENA_PHYS, frames * FRAME_SIZE) || ept_init(&ept, &fa, arena_ptr))
		return -1;
	ept.allow_2m = allow_2m;
	ept.allow_1g = allow_1g;
	return 0;
}

static int setup_all(void **state) { (void)state; return setup_frames(ARENA_FRAMES, true, true); }
static int setup_2m(void **state) { (void)state; return setup_frames(ARENA_FRAMES, true, false); }
static int setup_4k(void **state) { (void)state; return setup_frames(ARENA_FRAMES, false, false); }

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

static uint64_t tables_used(void)
{
	return fa.nr_frames - fa.nr_free;
}

static void expect_map(uint64_t gpa, uint64_t hpa, uint64_t page, unsigned memtype)
{
	uint64_t got = 0, size = 0, leaf = 0;
	assert_int_equal(ept_translate(&ept, gpa, &got, &size, &leaf), 0);
	assert_int_equal(got, hpa);
	assert_int_equal(size, page);
	assert_int_equal((leaf & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT, memtype);
	assert_int_equal(leaf & EPT_RWX, EPT_RWX);
	assert_int_equal(!!(leaf & EPT_LARGE_PAGE), page != EPT_PAGE_4K);
	assert_false(leaf & EPT_IGNORE_PAT);
}

static void expect_unmapped(uint64_t gpa)
{
	assert_int_equal(ept_translate(&ept, gpa, NULL, NULL, NULL), -1);
}

/* ---- entries ---- */

static void test_entries(void **state)
{
	(void)state;
	assert_int_equal(ept_leaf_entry(0x12345000, EPT_PAGE_4K, EPT_MEMTYPE_WB), 0x12345000 | 0x7 | 0x30);
	assert_int_equal(ept_leaf_entry(0x40000000, EPT_PAGE_2M, EPT_MEMTYPE_WB), 0x40000000 | 0x7 | 0x30 | 0x80);
	assert_int_equal(ept_leaf_entry(0xc0000000, EPT_PAGE_1G, EPT_MEMTYPE_UC), 0xc0000000 | 0x7 | 0x80);
	/* Address bits beyond 51 and below 12 never leak into the entry. */
	assert_int_equal(ept_leaf_entry(0xfff0000000000fffull, EPT_PAGE_4K, EPT_MEMTYPE_UC), 0x7);
	uint64_t t = ept_table_entry(0xabcd000);
	assert_int_equal(t, 0xabcd000 | EPT_RWX);
	assert_int_equal(t & EPT_TABLE_RESERVED, 0);
	/* EPTP: WB (6), 4-level walk (3 << 3), no A/D */
	assert_int_equal(ept_pointer(0xec6000, EPT_MEMTYPE_WB), 0xec601e);
	assert_int_equal(ept_pointer(0xec6000, EPT_MEMTYPE_UC), 0xec6018);
	assert_false(ept_pointer(0xec6000, EPT_MEMTYPE_WB) & EPTP_AD_ENABLE);
}

/* ---- the builder ---- */

static void test_init(void **state)
{
	(void)state;
	assert_int_equal(ept.root, ARENA_PHYS);
	assert_int_equal(tables_used(), 1);
	const uint64_t *root = arena_ptr(ept.root);
	for (int i = 0; i < 512; i++)
		assert_int_equal(root[i], 0);
	expect_unmapped(0);
}

static void test_map_1g(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&ept, 0, 0, 4 * GIB, EPT_MEMTYPE_UC), 0);
	assert_int_equal(tables_used(), 2); /* PML4 + PDPT */
	expect_map(0, 0, EPT_PAGE_1G, EPT_MEMTYPE_UC);
	expect_map(3 * GIB + 0x1234, 3 * GIB + 0x1234, EPT_PAGE_1G, EPT_MEMTYPE_UC);
	expect_unmapped(4 * GIB);
	/* non-leaf entries: RWX and nothing reserved */
	uint64_t pml4e = ((const uint64_t *)arena_ptr(ept.root))[0];
	assert_int_equal(pml4e & ~EPT_ADDR_MASK, EPT_RWX);
}

/* The xAPIC page read-only inside a 1 GiB page: split 1G -> 2M -> 4K, every other
 * page as it was (memory type, RWX), the page itself without write. */
static void test_protect_4k_in_1g(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&ept, 0, 0, 4 * GIB, EPT_MEMTYPE_UC), 0);
	const uint64_t apic = 0xfee00000ull;
	assert_int_equal(ept_set_4k_permissions(&ept, apic, EPT_READ), 0);
	uint64_t hpa, size, leaf;
	assert_int_equal(ept_translate(&ept, apic + 0x300, &hpa, &size, &leaf), 0);
	assert_int_equal(hpa, apic + 0x300);
	assert_int_equal(size, EPT_PAGE_4K);
	assert_int_equal(leaf & EPT_RWX, EPT_READ);
	assert_int_equal((leaf & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT, EPT_MEMTYPE_UC);
	assert_int_equal(ept_translate(&ept, apic + EPT_PAGE_4K, &hpa, &size, &leaf), 0);
	assert_int_equal(size, EPT_PAGE_4K);
	assert_int_equal(leaf & EPT_RWX, EPT_RWX);
	assert_int_equal(ept_translate(&ept, apic - EPT_PAGE_2M, &hpa, &size, &leaf), 0);
	assert_int_equal(hpa, apic - EPT_PAGE_2M);
	assert_int_equal(size, EPT_PAGE_2M);
	assert_int_equal(leaf & EPT_RWX, EPT_RWX);
	expect_map(GIB, GIB, EPT_PAGE_1G, EPT_MEMTYPE_UC);
	assert_int_equal(ept_set_4k_permissions(&ept, 5 * GIB, EPT_READ), -1); /* unmapped */
}

static void test_map_2m_only(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&ept, 0, 0, 1 * GIB, EPT_MEMTYPE_WB), 0);
	assert_int_equal(tables_used(), 3); /* PML4 + PDPT + PD */
	expect_map(0, 0, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_map(GIB - 1, GIB - 1, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_unmapped(GIB);
}

static void test_map_4k_only(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&ept, 2 * MIB, 2 * MIB, 2 * MIB, EPT_MEMTYPE_WB), 0);
	assert_int_equal(tables_used(), 4);
	expect_map(2 * MIB, 2 * MIB, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_map(4 * MIB - 1, 4 * MIB - 1, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_unmapped(4 * MIB);
}

static void test_map_mixed_sizes(void **state)
{
	(void)state;
	/* [1 MiB, 2 GiB + 4 MiB + 8 KiB): 4K up to 2M, 2M up to 1G, one 1G, 2M, then 4K */
	uint64_t end = 2 * GIB + 4 * MIB + 8 * KIB;
	assert_int_equal(ept_map(&ept, MIB, MIB, end - MIB, EPT_MEMTYPE_WB), 0);
	expect_map(MIB, MIB, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_map(2 * MIB, 2 * MIB, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_map(GIB - 1, GIB - 1, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_map(GIB, GIB, EPT_PAGE_1G, EPT_MEMTYPE_WB);
	expect_map(2 * GIB, 2 * GIB, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_map(2 * GIB + 4 * MIB, 2 * GIB + 4 * MIB, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_map(end - 1, end - 1, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_unmapped(end);
	expect_unmapped(MIB - 1);
}

static void test_map_non_identity(void **state)
{
	(void)state;
	/* gpa and hpa aligned differently: the coarser alignment of both decides */
	assert_int_equal(ept_map(&ept, 2 * MIB, 2 * MIB + 4 * KIB, 2 * MIB, EPT_MEMTYPE_WB), 0);
	expect_map(2 * MIB, 2 * MIB + 4 * KIB, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_map(4 * MIB - 1, 4 * MIB + 4 * KIB - 1, EPT_PAGE_4K, EPT_MEMTYPE_WB);
}

static void test_map_refusals(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&ept, 0x800, 0x800, 4 * KIB, EPT_MEMTYPE_WB), -1);
	assert_int_equal(ept_map(&ept, 0, 0, 4 * KIB + 1, EPT_MEMTYPE_WB), -1);
	assert_int_equal(ept_map(&ept, 0, 0, 2 * MIB, EPT_MEMTYPE_WB), 0);
	assert_int_equal(ept_map(&ept, 4 * KIB, 4 * KIB, 4 * KIB, EPT_MEMTYPE_WB), -1); /* inside a 2M page */
	assert_int_equal(ept_map(&ept, 0, 0, 2 * MIB, EPT_MEMTYPE_WB), -1);             /* remap */
	assert_int_equal(ept_map(&ept, 0, 0, 0, EPT_MEMTYPE_WB), 0);                    /* nothing */
}

static void test_out_of_frames(void **state)
{
	(void)state;
	assert_int_equal(setup_frames(3, false, false), 0); /* PML4 + PDPT + PD, no PT */
	assert_int_equal(ept_map(&ept, 0, 0, 4 * KIB, EPT_MEMTYPE_WB), -1);
	assert_int_equal(setup_frames(1, true, true), 0);
	assert_int_equal(ept_map(&ept, 0, 0, GIB, EPT_MEMTYPE_WB), -1);
	assert_int_equal(frame_alloc_init(&fa, ARENA_PHYS, FRAME_SIZE), 0);
	assert_int_equal(frame_alloc_one(&fa), ARENA_PHYS);
	assert_int_equal(ept_init(&ept, &fa, arena_ptr), -1);
}

/* ---- the identity plan ---- */

static void expect_region(const struct ept_region *r, uint64_t base, uint64_t size, unsigned memtype)
{
	assert_int_equal(r->base, base);
	assert_int_equal(r->size, size);
	assert_int_equal(r->memtype, memtype);
}

static void test_plan_bochs_map(void **state)
{
	(void)state;
	/* The guest map nestbed builds on Bochs with 256 MiB (image and heap are nestbed's). */
	const struct mem_range map[] = {
		{ 0x0, 0x9f000, MEM_USABLE },
		{ 0x9f000, 0x1000, MEM_RESERVED },
		{ 0xe8000, 0x18000, MEM_RESERVED },
		{ 0x100000, 0xe900000, MEM_USABLE },
		{ 0xea00000, 0x43000, MEM_NESTBED },
		{ 0xea43000, 0x1bd000, MEM_USABLE },
		{ 0xec00000, 0x1200000, MEM_NESTBED },
		{ 0xfe00000, 0x1f0000, MEM_USABLE },
		{ 0xfff0000, 0x10000, MEM_ACPI_RECLAIM },
		{ 0xfffc0000, 0x40000, MEM_RESERVED },
	};
	struct ept_region plan[EPT_PLAN_MAX];
	int n = ept_identity_plan(map, sizeof(map) / sizeof(map[0]), 4 * GIB, plan, EPT_PLAN_MAX);
	assert_int_equal(n, 6);
	expect_region(&plan[0], 0, 0x9f000, EPT_MEMTYPE_WB);
	expect_region(&plan[1], 0x9f000, 0x100000 - 0x9f000, EPT_MEMTYPE_UC); /* EBDA, VGA, BIOS */
	expect_region(&plan[2], 0x100000, 0xe900000, EPT_MEMTYPE_WB);
	expect_region(&plan[3], 0xea43000, 0x1bd000, EPT_MEMTYPE_WB);
	expect_region(&plan[4], 0xfe00000, 0x200000, EPT_MEMTYPE_WB);          /* usable + ACPI */
	expect_region(&plan[5], 0x10000000, 4 * GIB - 0x10000000, EPT_MEMTYPE_UC); /* MMIO, firmware */

	/* and the tables built from it never reach nestbed */
	assert_int_equal(setup_frames(ARENA_FRAMES, true, true), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(ept_map(&ept, plan[i].base, plan[i].base, plan[i].size, plan[i].memtype), 0);
	expect_unmapped(0xea00000);
	expect_unmapped(0xea42fff);
	expect_unmapped(0xec00000);
	expect_unmapped(0xfdfffff);
	expect_map(0xea43000, 0xea43000, EPT_PAGE_4K, EPT_MEMTYPE_WB);
	expect_map(0xfe00000, 0xfe00000, EPT_PAGE_2M, EPT_MEMTYPE_WB);
	expect_map(0xfee00000, 0xfee00000, EPT_PAGE_1G, EPT_MEMTYPE_UC); /* local APIC */
	expect_map(0x10000000, 0x10000000, EPT_PAGE_2M, EPT_MEMTYPE_UC);
	expect_map(0x40000000, 0x40000000, EPT_PAGE_1G, EPT_MEMTYPE_UC);
	expect_map(0xb8000, 0xb8000, EPT_PAGE_4K, EPT_MEMTYPE_UC);
	expect_map(0x7000, 0x7000, EPT_PAGE_4K, EPT_MEMTYPE_WB);
}

static void test_plan_unaligned_ram_widens(void **state)
{
	(void)state;
	/* QEMU: usable up to 0x9fc00; the page holding the EBDA's start counts as RAM. */
	const struct mem_range map[] = {
		{ 0x0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0x100000, 0x100, MEM_ACPI_NVS },
	};
	struct ept_region plan[8];
	int n = ept_identity_plan(map, 3, 0, plan, 8);
	assert_int_equal(n, 4);
	expect_region(&plan[0], 0, 0xa0000, EPT_MEMTYPE_WB);
	expect_region(&plan[1], 0xa0000, 0x60000, EPT_MEMTYPE_UC);
	expect_region(&plan[2], 0x100000, 0x1000, EPT_MEMTYPE_WB);
	expect_region(&plan[3], 0x101000, GIB - 0x101000, EPT_MEMTYPE_UC); /* top rounded to 1 GiB */
}

static void test_plan_nestbed_wins(void **state)
{
	(void)state;
	/* nestbed's range is widened to pages and beats the RAM around it */
	const struct mem_range map[] = {
		{ 0x0, 0x10000000, MEM_USABLE },
		{ 0x4000800, 0x800, MEM_NESTBED },
		{ 0x5000000, 0x1000000, MEM_NESTBED },
	};
	struct ept_region plan[8];
	int n = ept_identity_plan(map, 3, 4 * GIB, plan, 8);
	assert_int_equal(n, 4);
	expect_region(&plan[0], 0, 0x4000000, EPT_MEMTYPE_WB);
	expect_region(&plan[1], 0x4001000, 0x5000000 - 0x4001000, EPT_MEMTYPE_WB);
	expect_region(&plan[2], 0x6000000, 0x10000000 - 0x6000000, EPT_MEMTYPE_WB);
	expect_region(&plan[3], 0x10000000, 4 * GIB - 0x10000000, EPT_MEMTYPE_UC);
}

static void test_plan_high_memory_and_limits(void **state)
{
	(void)state;
	const struct mem_range map[] = {
		{ 0x0, 0x80000000, MEM_USABLE },
		{ 0x100000000ull, 0x40001000ull, MEM_USABLE }, /* RAM above 4 GiB, 4K past 1G */
		{ 0x0, 0, MEM_NESTBED },                      /* empty ranges are ignored */
	};
	struct ept_region plan[8];
	int n = ept_identity_plan(map, 3, 4 * GIB, plan, 8);
	assert_int_equal(n, 4);
	expect_region(&plan[0], 0, 2 * GIB, EPT_MEMTYPE_WB);
	expect_region(&plan[1], 2 * GIB, 2 * GIB, EPT_MEMTYPE_UC);
	expect_region(&plan[2], 4 * GIB, 0x40001000ull, EPT_MEMTYPE_WB);
	expect_region(&plan[3], 0x140001000ull, 6 * GIB - 0x140001000ull, EPT_MEMTYPE_UC);
	/* too small an output */
	assert_int_equal(ept_identity_plan(map, 3, 4 * GIB, plan, 3), -1);
	/* nothing at all: UC up to min_top */
	n = ept_identity_plan(map, 0, 4 * GIB, plan, 8);
	assert_int_equal(n, 1);
	expect_region(&plan[0], 0, 4 * GIB, EPT_MEMTYPE_UC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test_setup(test_init, setup_all),
		cmocka_unit_test_setup(test_map_1g, setup_all),
		cmocka_unit_test_setup(test_protect_4k_in_1g, setup_all),
		cmocka_unit_test_setup(test_map_2m_only, setup_2m),
		cmocka_unit_test_setup(test_map_4k_only, setup_4k),
		cmocka_unit_test_setup(test_map_mixed_sizes, setup_all),
		cmocka_unit_test_setup(test_map_non_identity, setup_all),
		cmocka_unit_test_setup(test_map_refusals, setup_all),
		cmocka_unit_test(test_out_of_frames),
		cmocka_unit_test(test_plan_bochs_map),
		cmocka_unit_test(test_plan_unaligned_ram_widens),
		cmocka_unit_test(test_plan_nestbed_wins),
		cmocka_unit_test(test_plan_high_memory_and_limits),
	};
	return cmocka_run_group_tests_name("vmx_ept", tests, group_setup, group_teardown);
}
