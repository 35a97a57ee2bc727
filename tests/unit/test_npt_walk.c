/* covers: src/nested/npt_walk.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/npt_walk.h"

/* A fake L1-physical memory: four tables (PML4, PDPT, PD, PT) at L1_BASE mapping the gpa
 * GPA with 4 KiB pages, every entry P | W | U. */
#define L1_BASE 0x200000ull
#define PAGE 0x1000ull
#define ENTRIES 512
#define TABLE(n) (L1_BASE + (n) * PAGE)
#define P (1ull << 0)
#define W (1ull << 1)
#define U (1ull << 2)
#define PS (1ull << 7)
#define G (1ull << 8)
#define NX (1ull << 63)
#define PWU (P | W | U)
#define I4 1u
#define I3 2u
#define I2 3u
#define I1 4u
#define GPA (((uint64_t)I4 << 39) | ((uint64_t)I3 << 30) | ((uint64_t)I2 << 21) | \
	     ((uint64_t)I1 << 12) | 0x128)
#define TARGET 0x7000000ull
#define PHYS_ABOVE_46 (~((1ull << 46) - 1))

static uint64_t mem[4 * ENTRIES];
static struct npt_walk_ctx ctx;

static int read_phys(void *c, uint64_t pa, uint64_t *value)
{
	(void)c;
	if (pa < L1_BASE || pa >= L1_BASE + sizeof(mem))
		return -1;
	*value = mem[(pa - L1_BASE) / 8];
	return 0;
}

static uint64_t *entry(int level)
{
	static const unsigned index[] = { 0, I1, I2, I3, I4 };
	return &mem[(4 - level) * ENTRIES + index[level]];
}

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	*entry(4) = TABLE(1) | PWU;
	*entry(3) = TABLE(2) | PWU;
	*entry(2) = TABLE(3) | PWU;
	*entry(1) = TARGET | PWU;
	ctx = (struct npt_walk_ctx){ .root = TABLE(0), .nxe = true, .smep = false,
				     .phys_addr_mask = PHYS_ABOVE_46, .read_phys = read_phys };
	return 0;
}

static void test_translates(void **state)
{
	(void)state;
	struct npt_walk_result r;
	assert_int_equal(npt_walk(&ctx, GPA, true, true, &r), 0);
	assert_int_equal(r.pa, TARGET | 0x128);
	assert_int_equal(r.page_size, PAGE);
	assert_true(r.writable);
	assert_true(r.executable);
}

/* APM vol.2 5.3.3: bits 8:7 of a PML4E are MBZ: a present entry with either set is a
 * reserved-bit fault, P = 1 and RSV = 1 (15.25.6, 8.4.2). */
static void test_pml4e_bit7_reserved(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(4) |= PS;
	assert_int_equal(npt_walk(&ctx, GPA, false, false, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_PRESENT | NPT_FAULT_RESERVED | NPT_FAULT_USER);
}

static void test_pml4e_bit8_reserved(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(4) |= G;
	assert_int_equal(npt_walk(&ctx, GPA, true, false, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_PRESENT | NPT_FAULT_RESERVED | NPT_FAULT_WRITE |
					  NPT_FAULT_USER);
}

/* Bit 8 of a PDPE, PDE and PTE is not reserved (ignored, or G in a leaf). */
static void test_bit8_below_pml4_allowed(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(3) |= G;
	*entry(2) |= G;
	*entry(1) |= G;
	assert_int_equal(npt_walk(&ctx, GPA, false, false, &r), 0);
	assert_int_equal(r.pa, TARGET | 0x128);
}

/* A 2 MiB page in the PD still works (bit 7 is PS there). */
static void test_pde_large_page(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(2) = 0x40000000ull | PWU | PS;
	assert_int_equal(npt_walk(&ctx, GPA, false, false, &r), 0);
	assert_int_equal(r.pa, 0x40000000ull | (GPA & ((1ull << 21) - 1)));
	assert_int_equal(r.page_size, 1ull << 21);
}

/* 8.4.2: I/D is set for a fetch only when EFER.NXE or CR4.SMEP is 1 (the host's, for a
 * nested walk: 15.25.5). */
static void test_fetch_flag_with_nxe(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(1) = 0;
	assert_int_equal(npt_walk(&ctx, GPA, false, true, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_FETCH | NPT_FAULT_USER);
	assert_int_equal(npt_walk(&ctx, GPA, false, false, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_USER);
}

static void test_fetch_flag_without_nxe(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(1) = 0;
	ctx.nxe = false;
	assert_int_equal(npt_walk(&ctx, GPA, false, true, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_USER);
}

static void test_fetch_flag_with_smep_only(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(1) = 0;
	ctx.nxe = false;
	ctx.smep = true;
	assert_int_equal(npt_walk(&ctx, GPA, false, true, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_FETCH | NPT_FAULT_USER);
}

/* NX with NXE: a fetch from a present, non-executable page: P and I/D. Without NXE,
 * bit 63 is reserved: P and RSV, and no I/D. */
static void test_nx_fetch(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(1) |= NX;
	assert_int_equal(npt_walk(&ctx, GPA, false, true, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_PRESENT | NPT_FAULT_FETCH | NPT_FAULT_USER);
	ctx.nxe = false;
	assert_int_equal(npt_walk(&ctx, GPA, false, true, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_PRESENT | NPT_FAULT_RESERVED | NPT_FAULT_USER);
}

/* Bits above MAXPHYADDR in a PDE: reserved. */
static void test_high_address_bit_reserved(void **state)
{
	(void)state;
	struct npt_walk_result r;
	*entry(2) |= 1ull << 51;
	assert_int_equal(npt_walk(&ctx, GPA, false, false, &r), -1);
	assert_int_equal(r.fault, NPT_FAULT_PRESENT | NPT_FAULT_RESERVED | NPT_FAULT_USER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_translates, setup),
		cmocka_unit_test_setup(test_pml4e_bit7_reserved, setup),
		cmocka_unit_test_setup(test_pml4e_bit8_reserved, setup),
		cmocka_unit_test_setup(test_bit8_below_pml4_allowed, setup),
		cmocka_unit_test_setup(test_pde_large_page, setup),
		cmocka_unit_test_setup(test_fetch_flag_with_nxe, setup),
		cmocka_unit_test_setup(test_fetch_flag_without_nxe, setup),
		cmocka_unit_test_setup(test_fetch_flag_with_smep_only, setup),
		cmocka_unit_test_setup(test_nx_fetch, setup),
		cmocka_unit_test_setup(test_high_address_bit_reserved, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
