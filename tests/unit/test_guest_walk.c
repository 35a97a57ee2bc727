/* covers: src/core/guest_walk.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/guest_walk.h"

/* 1 MiB of fake guest-physical memory. */
#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];

static int read_phys(void *ctx, uint64_t gpa, uint64_t *value)
{
	(void)ctx;
	if (gpa + 8 > MEM_SIZE)
		return -1;
	memcpy(value, mem + gpa, 8);
	return 0;
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }

static struct guest_walk_ctx ctx(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	memset(mem, 0, 0); /* tables are set up per test */
	return (struct guest_walk_ctx){ cr0, cr3, cr4, efer, read_phys, NULL };
}

static void test_paging_off(void **state)
{
	(void)state;
	struct guest_walk_ctx c = ctx(CR0_PE, 0, 0, 0);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0x1234567890ull, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x34567890ull); /* 32-bit: linear wraps at 4 GiB */
	assert_int_equal(end, 0x34568000ull);
}

static void test_four_level_4k_2m_1g(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	/* PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000 */
	put64(0x1000 + 0 * 8, 0x2000 | 1);
	put64(0x2000 + 0 * 8, 0x3000 | 1);
	put64(0x2000 + 1 * 8, 0x40000000ull | 0x81); /* 1 GiB page at 1 GiB */
	put64(0x3000 + 0 * 8, 0x4000 | 1);
	put64(0x3000 + 1 * 8, 0x600000 | 0x81);      /* 2 MiB page: linear 2M -> 6M */
	put64(0x4000 + 5 * 8, 0x9000 | 1);           /* linear 0x5000 -> 0x9000 */
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1000, CR4_PAE, WALK_EFER_LMA);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0x5123, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x9123);
	assert_int_equal(end, 0x6000);
	assert_int_equal(guest_walk(&c, 0x212345, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x612345);
	assert_int_equal(end, 0x400000);
	assert_int_equal(guest_walk(&c, 0x40000010ull, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x40000010ull);
	assert_int_equal(end, 0x80000000ull);
	assert_int_equal(guest_walk(&c, 0x6000, &gpa, &end), WALK_NOT_PRESENT);
	assert_int_equal(guest_walk(&c, 0x8000000000ull, &gpa, &end), WALK_NOT_PRESENT);
}

static void test_pae_and_legacy(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	/* PAE: PDPTEs at 0x1020 (32-byte aligned), PD at 0x3000 */
	put64(0x1020 + 3 * 8, 0x3000 | 1);
	put64(0x3000 + 0 * 8, 0x200000 | 0x81); /* linear 0xC0000000 -> 2 MiB */
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1020, CR4_PAE, 0);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0xC0000444u, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x200444);

	/* legacy 32-bit: PD at 0x5000; a 4 MiB page with PSE, a 4 KiB page without */
	memset(mem, 0, sizeof(mem));
	put32(0x5000 + 0x300 * 4, 0x00800000u | 0x81); /* linear 0xC0000000 -> 8 MiB */
	put32(0x5000 + 0 * 4, 0x6000 | 1);
	put32(0x6000 + 2 * 4, 0x7000 | 1);             /* linear 0x2000 -> 0x7000 */
	c = ctx(CR0_PE | CR0_PG, 0x5000, CR4_PSE, 0);
	assert_int_equal(guest_walk(&c, 0xC0123456u, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x923456);
	assert_int_equal(end, 0xC0400000u);
	assert_int_equal(guest_walk(&c, 0x2abc, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x7abc);
	assert_int_equal(guest_walk(&c, 0x3000, &gpa, &end), WALK_NOT_PRESENT);
}

/* SVM's paged real mode: PG=1 with PE=0 still translates (APM vol.2 15.19). */
static void test_paged_real_mode(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	put32(0x5000 + 0 * 4, 0x6000 | 1);
	put32(0x6000 + 1 * 4, 0x9000 | 1); /* linear 0x1000 -> 0x9000 */
	struct guest_walk_ctx c = ctx(CR0_PG, 0x5000, 0, 0);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0x10af, &gpa, &end), WALK_OK);
	assert_int_equal(gpa, 0x90af);
}

static void test_unreadable_table(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	put64(0x1000, 0x7ff000000ull | 1); /* next table outside guest memory */
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1000, CR4_PAE, WALK_EFER_LMA);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0x1000, &gpa, &end), WALK_UNREADABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_four_level_4k_2m_1g),
		cmocka_unit_test(test_pae_and_legacy),
		cmocka_unit_test(test_paged_real_mode),
		cmocka_unit_test(test_unreadable_table),
	};
	return cmocka_run_group_tests_name("guest_walk", tests, NULL, NULL);
}
