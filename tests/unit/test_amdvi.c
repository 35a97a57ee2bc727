/* covers: src/iommu/ivrs.c src/iommu/amdvi.c src/core/paging.c src/core/tdp.c src/core/frame_alloc.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"
#include "iommu/amdvi.h"
#include "iommu/ivrs.h"

/* ---- ivrs.c ---- */

static uint8_t table[256];
static size_t used;
static struct ivrs_info info;
static char err[128];

static void start(void)
{
	memset(table, 0, sizeof(table));
	memcpy(table, "IVRS", 4);
	used = IVRS_BLOCKS_OFFSET;
}

static void add_block(uint8_t type, uint16_t len, uint16_t devid, uint64_t base,
		      uint16_t segment)
{
	uint8_t *b = table + used;
	b[0] = type;
	memcpy(b + 2, &len, 2);
	if (len >= IVRS_IVHD_MIN_LENGTH) {
		memcpy(b + IVRS_IVHD_DEVICE_ID, &devid, 2);
		memcpy(b + IVRS_IVHD_BASE, &base, 8);
		memcpy(b + IVRS_IVHD_SEGMENT, &segment, 2);
	}
	used += len;
}

static size_t finish(void)
{
	uint32_t len = (uint32_t)used;
	memcpy(table + 4, &len, 4);
	table[9] = 0;
	uint8_t s = 0;
	for (size_t i = 0; i < used; i++)
		s = (uint8_t)(s + table[i]);
	table[9] = (uint8_t)-s;
	return used;
}

static void expect_error(size_t len, const char *message)
{
	assert_int_equal(ivrs_parse(table, len, &info, err, sizeof(err)), -1);
	assert_string_equal(err, message);
}

/* QEMU's q35 amd-iommu: the same IOMMU as IVHD 10h and 11h, at 0xfed80000. */
static void test_ivrs_qemu(void **state)
{
	(void)state;
	start();
	add_block(IVRS_IVHD_10, 32, 0x0010, 0xfed80000, 0);
	add_block(IVRS_IVHD_11, 40, 0x0010, 0xfed80000, 0);
	add_block(0x20, 32, 0, 0, 0);                       /* an IVMD: skipped */
	size_t len = finish();
	assert_int_equal(ivrs_parse(table, len, &info, err, sizeof(err)), 0);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.units[0].reg_base, 0xfed80000);
	assert_int_equal(info.units[0].device_id, 0x10);
	assert_int_equal(info.units[0].segment, 0);
}

static void test_ivrs_two_units(void **state)
{
	(void)state;
	start();
	add_block(IVRS_IVHD_40, 40, 0x0002, 0xfd200000, 0);
	add_block(IVRS_IVHD_40, 40, 0x4002, 0xfd204000, 1);
	size_t len = finish();
	assert_int_equal(ivrs_parse(table, len, &info, err, sizeof(err)), 0);
	assert_int_equal(info.nr_units, 2);
	assert_int_equal(info.units[1].reg_base, 0xfd204000);
	assert_int_equal(info.units[1].segment, 1);
}

static void test_ivrs_malformed(void **state)
{
	(void)state;
	start();
	add_block(IVRS_IVHD_10, 24, 2, 0xfed80000, 0);
	size_t len = finish();
	expect_error(40, "IVRS is 40 bytes, shorter than its 48-byte header");
	expect_error(len - 1, "IVRS length field 72, given 71 bytes");
	table[30] ^= 1;
	expect_error(len, "IVRS checksum is wrong (bytes sum to 0x1)");

	start();
	len = finish();
	expect_error(len, "IVRS lists no IOMMU (IVHD)");

	start();
	add_block(IVRS_IVHD_10, 24, 2, 0xfed81000, 0);      /* not 16 KiB aligned */
	len = finish();
	expect_error(len, "IVRS: IVHD at offset 48 has IOMMU base 0xfed81000");

	start();
	add_block(IVRS_IVHD_10, 16, 2, 0, 0);
	len = finish();
	expect_error(len, "IVRS: IVHD at offset 48 is 16 bytes, expected at least 24");

	start();
	add_block(IVRS_IVHD_10, 24, 2, 0xfed80000, 0);
	memset(table + 50, 0, 2);                           /* length 0: no progress */
	len = finish();
	expect_error(len, "IVRS: block of type 0x10 at offset 48 has length 0 (24 bytes left)");

	start();
	add_block(IVRS_IVHD_10, 24, 2, 0xfed80000, 0);
	table[used++] = 0x10;
	len = finish();
	expect_error(len, "IVRS: 1 stray bytes at offset 72");

	memcpy(table, "DMAR", 4);
	expect_error(len, "not an IVRS table");
}

/* ---- amdvi.c ---- */

#define ARENA_FRAMES 64
#define ARENA_PHYS 0x7f000000ull
static uint8_t *arena;
static struct frame_alloc fa;

static void *arena_ptr(uint64_t phys)
{
	assert_true(phys >= ARENA_PHYS && phys < ARENA_PHYS + ARENA_FRAMES * FRAME_SIZE);
	return arena + (phys - ARENA_PHYS);
}

static uint64_t *tbl(uint64_t phys) { return arena_ptr(phys); }

static void test_convert_identity_table(void **state)
{
	(void)state;
	arena = calloc(ARENA_FRAMES, FRAME_SIZE);
	assert_int_equal(frame_alloc_init(&fa, ARENA_PHYS, ARENA_FRAMES * FRAME_SIZE), 0);
	struct paging pg;
	assert_int_equal(paging_init(&pg, &fa, arena_ptr), 0);
	pg.allow_1g = true;
	/* [0, 4 KiB + 2 MiB) and [1 GiB, 2 GiB): a 4 KiB page, a 2 MiB page, a 1 GiB page,
	 * with a hole at 2 MiB + 4 KiB (nestbed's, say) */
	assert_int_equal(paging_map(&pg, 0, 0, 0x1000, PTE_W), 0);
	assert_int_equal(paging_map(&pg, 0x200000, 0x200000, 0x200000, PTE_W), 0);
	assert_int_equal(paging_map(&pg, 1ull << 30, 1ull << 30, 1ull << 30, PTE_W), 0);
	amdvi_convert_x86_table(pg.root, arena_ptr);
	const uint64_t rw = AMDVI_IR | AMDVI_IW | AMDVI_PTE_PR;
	uint64_t l4 = tbl(pg.root)[0];
	assert_int_equal(l4 & ~AMDVI_ADDR_MASK, rw | 3ull << 9);    /* next: a level-3 table */
	uint64_t *l3 = tbl(l4 & AMDVI_ADDR_MASK);
	assert_int_equal(l3[1], (1ull << 30) | rw);                /* 1 GiB page: next 0 */
	assert_int_equal(l3[0] & ~AMDVI_ADDR_MASK, rw | 2ull << 9);
	uint64_t *l2 = tbl(l3[0] & AMDVI_ADDR_MASK);
	assert_int_equal(l2[1], 0x200000 | rw);                    /* 2 MiB page */
	assert_int_equal(l2[0] & ~AMDVI_ADDR_MASK, rw | 1ull << 9);
	uint64_t *l1 = tbl(l2[0] & AMDVI_ADDR_MASK);
	assert_int_equal(l1[0], 0 | rw);                           /* 4 KiB page at 0 */
	assert_int_equal(l1[1], 0);                                /* the hole stays a hole */
	assert_int_equal(l2[2], 0);
	assert_int_equal(tbl(pg.root)[1], 0);
	free(arena);
}

static void test_dte(void **state)
{
	(void)state;
	uint64_t d[4];
	amdvi_dte(0x12345000, d);
	/* V, TV, mode 4, root, IR, IW; domain 1; nothing else (QEMU refuses reserved bits) */
	assert_int_equal(d[0], 0x12345000ull | 1 | 2 | 4ull << 9 | 1ull << 61 | 1ull << 62);
	assert_int_equal(d[1], 1);
	assert_int_equal(d[2], 0);
	assert_int_equal(d[3], 0);
	assert_int_equal(AMDVI_DEVTAB_SIZE_FIELD, 0x1ff);           /* 2 MiB */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ivrs_qemu),
		cmocka_unit_test(test_ivrs_two_units),
		cmocka_unit_test(test_ivrs_malformed),
		cmocka_unit_test(test_convert_identity_table),
		cmocka_unit_test(test_dte),
	};
	return cmocka_run_group_tests_name("amdvi", tests, NULL, NULL);
}
