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
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1000, CR4_PAE, EFER_LMA);
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
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1000, CR4_PAE, EFER_LMA);
	uint64_t gpa, end;
	assert_int_equal(guest_walk(&c, 0x1000, &gpa, &end), WALK_UNREADABLE);
}

/* R/W and U/S are ANDed over the levels; a PAE PDPTE has neither (SDM vol.3 4.6.1). */
static void test_permissions(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	/* 4-level: PML4 0x1000 (RW, US), PDPT 0x2000 (RW, US), PD 0x3000 */
	put64(0x1000, 0x2000 | 7);
	put64(0x2000, 0x3000 | 7);
	put64(0x3000 + 0 * 8, 0x4000 | 7);       /* PT, RW US */
	put64(0x3000 + 1 * 8, 0x600000 | 0x83);  /* 2 MiB, RW, supervisor */
	put64(0x3000 + 2 * 8, 0x5000 | 5);       /* PT read-only at the PD level */
	put64(0x4000 + 1 * 8, 0x9000 | 7);       /* 0x1000: RW US */
	put64(0x4000 + 2 * 8, 0xa000 | 5);       /* 0x2000: read-only, user */
	put64(0x4000 + 3 * 8, 0xb000 | 3);       /* 0x3000: RW, supervisor */
	put64(0x5000 + 0 * 8, 0xc000 | 7);       /* 0x400000: RW leaf under a read-only PDE */
	struct guest_walk_ctx c = ctx(CR0_PE | CR0_PG, 0x1000, CR4_PAE, EFER_LMA);
	uint64_t gpa, end;
	unsigned perm;
	assert_int_equal(guest_walk_perm(&c, 0x1008, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_WRITE | WALK_PERM_USER);
	assert_int_equal(guest_walk_perm(&c, 0x2008, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_USER);
	assert_int_equal(guest_walk_perm(&c, 0x3008, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_WRITE);
	assert_int_equal(guest_walk_perm(&c, 0x212345, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_WRITE);
	assert_int_equal(guest_walk_perm(&c, 0x400010, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(gpa, 0xc010);
	assert_int_equal(perm, WALK_PERM_USER);

	/* CPL 0 writes: WP = 1 needs R/W everywhere, WP = 0 writes anything translated */
	assert_true(guest_walk_supervisor_write_ok(CR0_PG | CR0_WP, WALK_PERM_WRITE));
	assert_true(guest_walk_supervisor_write_ok(CR0_PG | CR0_WP, WALK_PERM_WRITE | WALK_PERM_USER));
	assert_false(guest_walk_supervisor_write_ok(CR0_PG | CR0_WP, WALK_PERM_USER));
	assert_false(guest_walk_supervisor_write_ok(CR0_PG | CR0_WP, 0));
	assert_true(guest_walk_supervisor_write_ok(CR0_PG, 0));

	/* PAE: the PDPTE's bits 1-2 are reserved, not rights; the PD and PT decide */
	memset(mem, 0, sizeof(mem));
	put64(0x1020 + 0 * 8, 0x3000 | 1);
	put64(0x3000 + 0 * 8, 0x4000 | 3);       /* RW, supervisor */
	put64(0x4000 + 1 * 8, 0x9000 | 7);
	c = ctx(CR0_PE | CR0_PG, 0x1020, CR4_PAE, 0);
	assert_int_equal(guest_walk_perm(&c, 0x1004, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(gpa, 0x9004);
	assert_int_equal(perm, WALK_PERM_WRITE);

	/* legacy 32-bit: a read-only 4 MiB page; a read-only PTE under a writable PDE */
	memset(mem, 0, sizeof(mem));
	put32(0x5000 + 0x300 * 4, 0x00800000u | 0x85);
	put32(0x5000 + 0 * 4, 0x6000 | 7);
	put32(0x6000 + 2 * 4, 0x7000 | 5);
	put32(0x6000 + 3 * 4, 0x8000 | 7);
	c = ctx(CR0_PE | CR0_PG, 0x5000, CR4_PSE, 0);
	assert_int_equal(guest_walk_perm(&c, 0xC0000010u, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_USER);
	assert_int_equal(guest_walk_perm(&c, 0x2010, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_USER);
	assert_int_equal(guest_walk_perm(&c, 0x3010, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_WRITE | WALK_PERM_USER);

	/* paging off: everything */
	c = ctx(CR0_PE, 0, 0, 0);
	assert_int_equal(guest_walk_perm(&c, 0x1234, &gpa, &end, &perm), WALK_OK);
	assert_int_equal(perm, WALK_PERM_WRITE | WALK_PERM_USER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_four_level_4k_2m_1g),
		cmocka_unit_test(test_pae_and_legacy),
		cmocka_unit_test(test_paged_real_mode),
		cmocka_unit_test(test_unreadable_table),
		cmocka_unit_test(test_permissions),
	};
	return cmocka_run_group_tests_name("guest_walk", tests, NULL, NULL);
}
