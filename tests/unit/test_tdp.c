/* covers: src/core/tdp.c src/core/paging.c src/vmx/vmx_ept.c src/core/frame_alloc.c */
/* The paging engine with both entry formats: x86-64 (nestbed's tables, AMD NPT) and EPT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"
#include "core/tdp.h"
#include "vmx/vmx_ept.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define ARENA_FRAMES 128
#define ARENA_PHYS 0x7f000000ull

static uint8_t *arena;
static struct frame_alloc fa;
static struct tdp npt, ept;

static void *arena_ptr(uint64_t phys)
{
	assert_true(phys >= ARENA_PHYS && phys < ARENA_PHYS + ARENA_FRAMES * FRAME_SIZE);
	assert_int_equal(phys & (FRAME_SIZE - 1), 0);
	return arena + (phys - ARENA_PHYS);
}

static uint64_t *tbl(uint64_t phys) { return arena_ptr(phys); }

/* Both tables share one allocator of `frames` frames. */
static int setup_frames(uint64_t frames)
{
	memset(arena, 0xa5, ARENA_FRAMES * FRAME_SIZE);
	if (frame_alloc_init(&fa, ARENA_PHYS, frames * FRAME_SIZE) ||
	    tdp_init(&npt, &tdp_format_x86_64, &fa, arena_ptr) || tdp_init(&ept, &tdp_format_ept, &fa, arena_ptr))
		return -1;
	npt.allow_2m = npt.allow_1g = ept.allow_2m = ept.allow_1g = true;
	return 0;
}

static int setup(void **state) { (void)state; return setup_frames(ARENA_FRAMES); }

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

static struct tdp_walk_result walk_ok(const struct tdp *t, uint64_t gpa)
{
	struct tdp_walk_result r;
	assert_int_equal(tdp_walk(t, gpa, &r), 0);
	return r;
}

static void expect_unmapped(const struct tdp *t, uint64_t gpa)
{
	struct tdp_walk_result r;
	assert_int_equal(tdp_walk(t, gpa, &r), -1);
}

#define EPT_WB ((uint64_t)EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)

/* ---- large pages: the largest the alignment, size and permission allow ---- */

static void test_large_pages_both_formats(void **state)
{
	(void)state;
	const uint64_t gpa = GIB - 2 * MIB, size = GIB + 2 * MIB + 4096;
	assert_int_equal(tdp_map(&npt, gpa, gpa, size, PTE_W | PTE_U), 0);
	assert_int_equal(tdp_map(&ept, gpa, gpa, size, EPT_RWX | EPT_WB), 0);
	const struct tdp *both[2] = { &npt, &ept };
	for (int i = 0; i < 2; i++) {
		struct tdp_walk_result r = walk_ok(both[i], gpa + 0x1234);
		assert_int_equal(r.page_size, 2 * MIB);
		assert_int_equal(r.hpa, gpa + 0x1234);
		assert_int_equal(r.level, 2);
		r = walk_ok(both[i], GIB + 0x4321);
		assert_int_equal(r.page_size, GIB);
		assert_int_equal(r.level, 3);
		r = walk_ok(both[i], 2 * GIB + 0x10);
		assert_int_equal(r.page_size, 4096);
		expect_unmapped(both[i], 2 * GIB + 4096);
	}
	/* the formats differ where they must: P/W/U and PS against R/W/X, memory type and bit 7 */
	assert_int_equal(walk_ok(&npt, GIB).leaf, GIB | PTE_P | PTE_W | PTE_U | PTE_PS);
	assert_int_equal(walk_ok(&ept, GIB).leaf, GIB | EPT_RWX | EPT_WB | EPT_LARGE_PAGE);
	uint64_t npt_pml4e = tbl(npt.root)[0], ept_pml4e = tbl(ept.root)[0];
	assert_int_equal(npt_pml4e & ~TDP_ADDR_MASK, PTE_P | PTE_W | PTE_U);
	assert_int_equal(ept_pml4e & ~TDP_ADDR_MASK, EPT_RWX);
}

static void test_no_large_pages_when_not_allowed(void **state)
{
	(void)state;
	ept.allow_2m = ept.allow_1g = false;
	assert_int_equal(tdp_map(&ept, 0, 0, 4 * MIB, EPT_RWX), 0);
	assert_int_equal(walk_ok(&ept, 3 * MIB).page_size, 4096);
	npt.allow_1g = false;
	assert_int_equal(tdp_map(&npt, 0, 0, GIB, PTE_W), 0);
	assert_int_equal(walk_ok(&npt, GIB - 1).page_size, 2 * MIB);
}

/* ---- splitting ---- */

static void test_split_keeps_mapping_npt(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&npt, GIB, 5 * GIB, GIB, PTE_W | PTE_U | PTE_NX | PTE_PCD), 0);
	const uint64_t page = GIB + 7 * 2 * MIB + 3 * 4096;
	assert_int_equal(tdp_update_4k(&npt, page, PTE_W, 0), 0);
	struct tdp_walk_result r = walk_ok(&npt, page + 5);
	assert_int_equal(r.hpa, 5 * GIB + 7 * 2 * MIB + 3 * 4096 + 5);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.leaf & ~TDP_ADDR_MASK, PTE_P | PTE_U | PTE_NX | PTE_PCD);
	assert_int_equal(r.perms, TDP_R);
	r = walk_ok(&npt, page + 4096);
	assert_int_equal(r.leaf & ~TDP_ADDR_MASK, PTE_P | PTE_W | PTE_U | PTE_NX | PTE_PCD);
	r = walk_ok(&npt, GIB + 9 * 2 * MIB);
	assert_int_equal(r.page_size, 2 * MIB);
	assert_int_equal(r.leaf & ~TDP_ADDR_MASK, PTE_P | PTE_W | PTE_U | PTE_NX | PTE_PCD | PTE_PS);
}

static void test_split_keeps_mapping_ept(void **state)
{
	(void)state;
	const uint64_t uc_ipat = ((uint64_t)EPT_MEMTYPE_UC << EPT_MEMTYPE_SHIFT) | EPT_IGNORE_PAT;
	assert_int_equal(tdp_map(&ept, 0, 0, GIB, EPT_READ | EPT_EXEC | uc_ipat | EPT_ACCESSED), 0);
	assert_int_equal(tdp_update_4k(&ept, 0x3fe00000, EPT_RWX, EPT_READ), 0);
	struct tdp_walk_result r = walk_ok(&ept, 0x3fc00000 + 4096);
	/* pieces keep R/X, memory type and IPAT; A starts over */
	assert_int_equal(r.leaf & ~TDP_ADDR_MASK, EPT_READ | EPT_EXEC | uc_ipat | EPT_LARGE_PAGE);
	assert_int_equal(r.page_size, 2 * MIB);
	r = walk_ok(&ept, 0x3fe00000 + 4096);
	assert_int_equal(r.leaf & ~TDP_ADDR_MASK, EPT_READ | EPT_EXEC | uc_ipat);
	r = walk_ok(&ept, 0x3fe00000);
	assert_int_equal(r.page_size, 4096);
	assert_int_equal(r.perms, TDP_R);
	assert_int_equal(r.memtype, EPT_MEMTYPE_UC);
}

static void test_split_out_of_frames(void **state)
{
	(void)state;
	assert_int_equal(setup_frames(4), 0); /* two roots, then two frames */
	npt.allow_1g = true;
	assert_int_equal(tdp_map(&npt, 0, 0, GIB, PTE_W), 0); /* takes the PDPT */
	/* the split of the 1 GiB page takes the last frame, the 2 MiB split finds none */
	assert_int_equal(tdp_update_4k(&npt, 4096, PTE_W, 0), -1);
	/* what is mapped still maps the same */
	assert_int_equal(walk_ok(&npt, 4096 + 3).hpa, 4096 + 3);
}

/* ---- permissions ---- */

static void test_permissions(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&npt, 0, 0, 4096, 0), 0);
	assert_int_equal(walk_ok(&npt, 0).perms, TDP_R | TDP_X);
	assert_int_equal(tdp_map(&npt, 4096, 4096, 4096, PTE_W | PTE_NX), 0);
	assert_int_equal(walk_ok(&npt, 4096).perms, TDP_R | TDP_W);
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, EPT_READ), 0);
	assert_int_equal(walk_ok(&ept, 0).perms, TDP_R);
	assert_int_equal(tdp_map(&ept, 4096, 4096, 4096, EPT_EXEC), 0); /* execute-only */
	assert_int_equal(walk_ok(&ept, 4096).perms, TDP_X);
	/* a level above takes a right away: the AND over the walk */
	tbl(tbl(tbl(ept.root)[0] & TDP_ADDR_MASK)[0] & TDP_ADDR_MASK)[0] &= ~EPT_EXEC;
	assert_int_equal(tdp_map(&ept, 8192, 8192, 4096, EPT_RWX), 0);
	assert_int_equal(walk_ok(&ept, 8192).perms, TDP_R | TDP_W);
	/* update: clear and set */
	assert_int_equal(tdp_update_4k(&npt, 0, 0, PTE_W), 0);
	assert_int_equal(walk_ok(&npt, 0).perms, TDP_R | TDP_W | TDP_X);
}

/* ---- memory types and reserved bits ---- */

static void test_memory_types(void **state)
{
	(void)state;
	for (unsigned mt = 0; mt < 8; mt++) {
		uint64_t gpa = mt * 4096ull;
		int rc = tdp_map(&ept, gpa, gpa, 4096, EPT_RWX | ((uint64_t)mt << EPT_MEMTYPE_SHIFT));
		bool reserved = mt == 2 || mt == 3 || mt == 7; /* SDM 28.2.3.1 */
		assert_int_equal(rc, reserved ? -1 : 0);
		if (!reserved)
			assert_int_equal(walk_ok(&ept, gpa).memtype, mt);
		else
			expect_unmapped(&ept, gpa);
	}
	/* x86-64: PAT is bit 7 in a PTE, bit 12 in a large leaf; bit 12 of a PTE is address */
	assert_int_equal(tdp_map(&npt, 0, 0, 4096, PTE_PCD | PTE_PWT | PTE_PS), 0);
	assert_int_equal(walk_ok(&npt, 0).leaf, PTE_P | PTE_PCD | PTE_PWT | PTE_PS);
	assert_int_equal(tdp_map(&npt, 2 * MIB, 4 * MIB, 2 * MIB, 1ull << 12), 0);
	assert_int_equal(walk_ok(&npt, 2 * MIB + 4096).hpa, 4 * MIB + 4096);
	assert_int_equal(tdp_map(&npt, 8192, 8192, 4096, 1ull << 12), -1);
}

static void test_reserved_and_bad_arguments(void **state)
{
	(void)state;
	/* EPT: write without read is a misconfiguration, no entry is not present */
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, EPT_WRITE), -1);
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, EPT_WRITE | EPT_EXEC), -1);
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, 0), -1);
	assert_int_equal(tdp_set_4k(&ept, 0, 0, EPT_WRITE), -1);
	/* EPT: bits outside the format's attributes (bit 7 is the engine's, bit 11 and up) */
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, EPT_RWX | EPT_LARGE_PAGE), -1);
	assert_int_equal(tdp_map(&ept, 0, 0, 4096, EPT_RWX | (1ull << 52)), -1);
	/* an address beyond 52 bits, unaligned arguments */
	assert_int_equal(tdp_map(&npt, 0, 1ull << 52, 4096, 0), -1);
	assert_int_equal(tdp_map(&npt, 0, (1ull << 52) - 4096, 8192, 0), -1);
	assert_int_equal(tdp_map(&npt, 0, (1ull << 52) - 4096, 4096, 0), 0);
	assert_int_equal(tdp_map(&npt, 0x800, 0, 4096, 0), -1);
	assert_int_equal(tdp_set_4k(&npt, 4096, 1ull << 52, PTE_W), -1);
	expect_unmapped(&ept, 0);
	expect_unmapped(&npt, 4096);
	/* remapping is refused; set_4k replaces */
	assert_int_equal(tdp_map(&npt, 0, 0x5000, 4096, 0), -1);
	assert_int_equal(tdp_set_4k(&npt, 0, 0x5000, PTE_W), 0);
	assert_int_equal(walk_ok(&npt, 0).hpa, 0x5000);
	/* set_4k under a large page is refused */
	assert_int_equal(tdp_map(&ept, 2 * MIB, 2 * MIB, 2 * MIB, EPT_RWX), 0);
	assert_int_equal(tdp_set_4k(&ept, 2 * MIB + 4096, 0, EPT_READ), -1);
}

/* ---- unmap ---- */

static void test_unmap(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&ept, 0, 0, GIB, EPT_RWX | EPT_WB), 0);
	/* a hole in the middle of a 1 GiB page: split down, the rest stays */
	assert_int_equal(tdp_unmap(&ept, 2 * MIB + 4096, 2 * MIB), 0);
	expect_unmapped(&ept, 2 * MIB + 4096);
	expect_unmapped(&ept, 4 * MIB);
	assert_int_equal(walk_ok(&ept, 2 * MIB).page_size, 4096);
	assert_int_equal(walk_ok(&ept, 4 * MIB + 4096).hpa, 4 * MIB + 4096);
	assert_int_equal(walk_ok(&ept, 0).page_size, 2 * MIB);
	assert_int_equal(walk_ok(&ept, 6 * MIB).page_size, 2 * MIB);
	/* whole large pages go without a split; holes are skipped */
	assert_int_equal(tdp_unmap(&ept, 6 * MIB, 4 * GIB), 0);
	expect_unmapped(&ept, 6 * MIB);
	expect_unmapped(&ept, GIB - 1);
	assert_int_equal(walk_ok(&ept, 5 * MIB).hpa, 5 * MIB);
	assert_int_equal(tdp_unmap(&npt, 0, 8192), 0);
	assert_int_equal(tdp_unmap(&npt, 1, 8192), -1);
	/* a range that wraps past the top of the address space is refused */
	assert_int_equal(tdp_unmap(&npt, 0ull - 4096, 8192), -1);
}

/* ---- walks and free ---- */

static void test_walk_and_free(void **state)
{
	(void)state;
	uint64_t before = fa.nr_free;
	assert_int_equal(tdp_map(&npt, 0xFFFFFFFF80000000ull, 0x7e000000, 0x123000, PTE_W), 0);
	struct tdp_walk_result r = walk_ok(&npt, 0xFFFFFFFF80000000ull + 0x122fff);
	assert_int_equal(r.hpa, 0x7e122fff);
	expect_unmapped(&npt, 0xFFFFFFFF80123000ull);
	assert_true(fa.nr_free < before);
	tdp_free(&npt);
	assert_int_equal(npt.root, 0);
	assert_int_equal(fa.nr_free, before + 1); /* the root went too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_large_pages_both_formats, setup),
		cmocka_unit_test_setup(test_no_large_pages_when_not_allowed, setup),
		cmocka_unit_test_setup(test_split_keeps_mapping_npt, setup),
		cmocka_unit_test_setup(test_split_keeps_mapping_ept, setup),
		cmocka_unit_test(test_split_out_of_frames),
		cmocka_unit_test_setup(test_permissions, setup),
		cmocka_unit_test_setup(test_memory_types, setup),
		cmocka_unit_test_setup(test_reserved_and_bad_arguments, setup),
		cmocka_unit_test_setup(test_unmap, setup),
		cmocka_unit_test_setup(test_walk_and_free, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
