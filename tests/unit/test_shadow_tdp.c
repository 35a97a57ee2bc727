/* covers: src/nested/shadow_tdp.c src/nested/npt_walk.c src/nested/ept_walk.c src/core/tdp.c src/core/paging.c src/vmx/vmx_ept.c src/core/frame_alloc.c */
/* The shadow-TDP algorithm's pure part with both vendors' walkers: L1's table (built by
 * the paging engine in a fake L1 memory) walked, composed, installed in a shadow table;
 * L1's faults handed back in the vendor's format; a shadow entry never maps nestbed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"
#include "nested/ept_walk.h"
#include "nested/npt_walk.h"
#include "nested/shadow_tdp.h"
#include "svm/vmcb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define FRAMES 64
#define L1_TABLES 0x200000ull /* L1's own tables live here in its memory */
#define SHADOW_PHYS 0x7f000000ull
#define NESTBED_BASE 0x0e800000ull /* nestbed's memory, as L0 sees it */
#define NESTBED_END 0x0fe00000ull
#define APIC_PAGE 0xfee00000ull

static uint8_t *l1mem, *shadowmem;
static struct frame_alloc l1_fa, shadow_fa;
static struct tdp l1, shadow;

static void *l1_ptr(uint64_t pa)
{
	assert_true(pa >= L1_TABLES && pa < L1_TABLES + FRAMES * FRAME_SIZE);
	return l1mem + (pa - L1_TABLES);
}

static void *shadow_ptr(uint64_t pa)
{
	assert_true(pa >= SHADOW_PHYS && pa < SHADOW_PHYS + FRAMES * FRAME_SIZE);
	return shadowmem + (pa - SHADOW_PHYS);
}

static int read_l1(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	if (pa < L1_TABLES || pa + 8 > L1_TABLES + FRAMES * FRAME_SIZE)
		return -1;
	memcpy(value, l1mem + (pa - L1_TABLES), 8);
	return 0;
}

static bool owns(uint64_t pa, uint64_t len)
{
	return pa < NESTBED_END && pa + len > NESTBED_BASE;
}

static uint64_t tracked_page;
static bool tracked(uint64_t pa) { return tracked_page && pa == tracked_page; }

static const struct shadow_tdp_host host = { .owns = owns, .tracked = tracked, .apic_page = APIC_PAGE };

static int setup(const struct tdp_format *l1_fmt, const struct tdp_format *shadow_fmt, uint64_t shadow_frames)
{
	memset(l1mem, 0, FRAMES * FRAME_SIZE);
	memset(shadowmem, 0xa5, FRAMES * FRAME_SIZE);
	tracked_page = 0;
	if (frame_alloc_init(&l1_fa, L1_TABLES, FRAMES * FRAME_SIZE) || tdp_init(&l1, l1_fmt, &l1_fa, l1_ptr) ||
	    frame_alloc_init(&shadow_fa, SHADOW_PHYS, shadow_frames * FRAME_SIZE) ||
	    tdp_init(&shadow, shadow_fmt, &shadow_fa, shadow_ptr))
		return -1;
	l1.allow_2m = l1.allow_1g = true;
	return 0;
}

static int setup_npt(void **state) { (void)state; return setup(&tdp_format_x86_64, &tdp_format_x86_64, FRAMES); }
static int setup_ept(void **state) { (void)state; return setup(&tdp_format_ept, &tdp_format_ept, FRAMES); }

static int group_setup(void **state)
{
	(void)state;
	l1mem = aligned_alloc(FRAME_SIZE, FRAMES * FRAME_SIZE);
	shadowmem = aligned_alloc(FRAME_SIZE, FRAMES * FRAME_SIZE);
	return l1mem && shadowmem ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(l1mem);
	free(shadowmem);
	return 0;
}

/* The vendors' shadow attributes, as nsvm/nvmx_ept build them. */
static uint64_t npt_attrs(const struct shadow_tdp_leaf *leaf)
{
	return PTE_U | ((leaf->perms & TDP_W) ? PTE_W : 0) | ((leaf->perms & TDP_X) ? 0 : PTE_NX);
}

static uint64_t ept_attrs(const struct shadow_tdp_leaf *leaf)
{
	return ((leaf->perms & TDP_R) ? EPT_READ : 0) | ((leaf->perms & TDP_W) ? EPT_WRITE : 0) |
	       ((leaf->perms & TDP_X) ? EPT_EXEC : 0) | leaf->extra;
}

static struct shadow_tdp_walk npt_fault(uint64_t gpa, bool write, bool fetch, bool nxe)
{
	struct npt_walk_ctx c = { .root = l1.root, .nxe = nxe, .phys_addr_mask = ~((1ull << 40) - 1),
				  .read_phys = read_l1 };
	struct shadow_tdp_walk w;
	npt_walk_for_shadow(&c, gpa, write, fetch, 1ull << 32, &w);
	return w;
}

static struct shadow_tdp_walk ept_fault(uint64_t gpa, unsigned access)
{
	struct ept_walk_ctx c = { .eptp = ept_pointer(l1.root, EPT_MEMTYPE_WB),
				  .phys_addr_mask = (1ull << 40) - 1, .page_1g = true, .read_phys = read_l1 };
	struct shadow_tdp_walk w;
	ept_walk_for_shadow(&c, gpa, access, 0, &w);
	return w;
}

/* The whole algorithm on the pure side: decide, then install. */
static enum shadow_tdp_action handle(uint64_t gpa, const struct shadow_tdp_walk *w,
				     uint64_t (*attrs)(const struct shadow_tdp_leaf *))
{
	struct shadow_tdp_leaf leaf;
	enum shadow_tdp_action a = shadow_tdp_decide(&host, gpa, w, &leaf);
	if (a == SHADOW_TDP_INSTALL)
		assert_int_equal(shadow_tdp_install(&shadow, &leaf, attrs(&leaf)), 0);
	return a;
}

static struct tdp_walk_result shadow_at(uint64_t gpa)
{
	struct tdp_walk_result r;
	assert_int_equal(tdp_walk(&shadow, gpa, &r), 0);
	return r;
}

static void expect_no_shadow(uint64_t gpa)
{
	struct tdp_walk_result r;
	assert_int_equal(tdp_walk(&shadow, gpa, &r), -1);
}

/* ---- nested NPT ---- */

static void test_npt_compose_and_install(void **state)
{
	(void)state;
	/* L1 maps L2's 2 MiB at 4 MiB onto its 64 MiB, read-only and no-execute */
	assert_int_equal(tdp_map(&l1, 4 * MIB, 64 * MIB, 2 * MIB, PTE_U | PTE_NX), 0);
	struct shadow_tdp_walk w = npt_fault(4 * MIB + 0x5123, false, false, true);
	assert_int_equal(w.rc, SHADOW_TDP_WALK_OK);
	assert_int_equal(handle(4 * MIB + 0x5123, &w, npt_attrs), SHADOW_TDP_INSTALL);
	struct tdp_walk_result r = shadow_at(4 * MIB + 0x5123);
	assert_int_equal(r.hpa, 64 * MIB + 0x5123);
	assert_int_equal(r.page_size, 4096); /* the shadow maps 4 KiB at a time */
	assert_int_equal(r.perms, TDP_R);
	expect_no_shadow(4 * MIB + 0x6000);
	/* a write there is L1's NPF: its error code, the hardware's bit 32 */
	w = npt_fault(4 * MIB + 0x5123, true, false, true);
	assert_int_equal(handle(4 * MIB + 0x5123, &w, npt_attrs), SHADOW_TDP_REFLECT);
	assert_int_equal(w.l1_exit, SVM_EXIT_NPF);
	assert_int_equal(w.l1_info, (1ull << 32) | NPT_FAULT_PRESENT | NPT_FAULT_WRITE | NPT_FAULT_USER);
	/* not present in L1's table */
	w = npt_fault(8 * MIB, false, false, true);
	assert_int_equal(handle(8 * MIB, &w, npt_attrs), SHADOW_TDP_REFLECT);
	assert_int_equal(w.l1_info, (1ull << 32) | NPT_FAULT_USER);
	expect_no_shadow(8 * MIB);
}

static void test_npt_writable_executable(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&l1, 0, 32 * MIB, 4096, PTE_U | PTE_W), 0);
	struct shadow_tdp_walk w = npt_fault(0x10, true, false, true);
	assert_int_equal(handle(0x10, &w, npt_attrs), SHADOW_TDP_INSTALL);
	assert_int_equal(shadow_at(0).perms, TDP_R | TDP_W | TDP_X);
	assert_int_equal(shadow_at(0).leaf, 32 * MIB | PTE_P | PTE_U | PTE_W);
}

/* The attacker's case: L1 (or a compromised L1 page table) maps an L2 page onto nestbed's
 * memory, onto its last page, or straddling into it with a large page. Never installed. */
static void test_npt_never_maps_nestbed(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&l1, 0, NESTBED_BASE, 4096, PTE_U | PTE_W), 0);
	assert_int_equal(tdp_map(&l1, 4096, NESTBED_END - 4096, 4096, PTE_U | PTE_W), 0);
	assert_int_equal(tdp_map(&l1, 2 * MIB, NESTBED_BASE - 2 * MIB, 2 * MIB, PTE_U | PTE_W), 0);
	assert_int_equal(tdp_map(&l1, 4 * MIB, NESTBED_BASE, 2 * MIB, PTE_U | PTE_W), 0);
	struct shadow_tdp_walk w = npt_fault(0x123, false, false, true);
	assert_int_equal(handle(0x123, &w, npt_attrs), SHADOW_TDP_HOST_MEMORY);
	w = npt_fault(4096, true, false, true);
	assert_int_equal(handle(4096, &w, npt_attrs), SHADOW_TDP_HOST_MEMORY);
	/* the large page just below nestbed is fine to its last byte */
	w = npt_fault(4 * MIB - 1, true, false, true);
	assert_int_equal(handle(4 * MIB - 1, &w, npt_attrs), SHADOW_TDP_INSTALL);
	assert_int_equal(shadow_at(4 * MIB - 1).hpa, NESTBED_BASE - 1);
	/* the large page over nestbed: every 4 KiB of it refused */
	for (uint64_t off = 0; off < 2 * MIB; off += 4096 * 37) {
		w = npt_fault(4 * MIB + off, false, false, true);
		assert_int_equal(handle(4 * MIB + off, &w, npt_attrs), SHADOW_TDP_HOST_MEMORY);
	}
	expect_no_shadow(0);
	expect_no_shadow(4096);
	expect_no_shadow(4 * MIB);
}

/* L1's table itself outside its memory: a guest failure, not a reflected fault. */
static void test_npt_table_unreadable(void **state)
{
	(void)state;
	uint64_t *pml4 = l1_ptr(l1.root);
	pml4[0] = 0x40000000ull | PTE_P | PTE_W | PTE_U; /* a PDPT outside L1's tables */
	struct shadow_tdp_walk w = npt_fault(0, false, false, false);
	assert_int_equal(w.rc, SHADOW_TDP_WALK_UNREADABLE);
	assert_int_equal(handle(0, &w, npt_attrs), SHADOW_TDP_L1_TABLE_BAD);
}

/* The xAPIC page and a tracked permission map stay read-only in the shadow. */
static void test_read_only_pages(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&l1, 0, APIC_PAGE, 4096, PTE_U | PTE_W), 0);
	assert_int_equal(tdp_map(&l1, 4096, 0x5000, 4096, PTE_U | PTE_W), 0);
	tracked_page = 0x5000;
	struct shadow_tdp_walk w = npt_fault(0, true, false, true);
	assert_int_equal(handle(0, &w, npt_attrs), SHADOW_TDP_INSTALL);
	assert_int_equal(shadow_at(0).perms & TDP_W, 0);
	w = npt_fault(4096, false, false, true);
	assert_int_equal(handle(4096, &w, npt_attrs), SHADOW_TDP_INSTALL);
	assert_int_equal(shadow_at(4096).perms & TDP_W, 0);
	tracked_page = 0; /* the write untracked it: the next fault maps it writable */
	w = npt_fault(4096, true, false, true);
	assert_int_equal(handle(4096, &w, npt_attrs), SHADOW_TDP_INSTALL);
	assert_int_equal(shadow_at(4096).perms, TDP_R | TDP_W | TDP_X);
}

/* ---- nested EPT ---- */

static void test_ept_compose_and_install(void **state)
{
	(void)state;
	const uint64_t uc = (uint64_t)EPT_MEMTYPE_UC << EPT_MEMTYPE_SHIFT;
	assert_int_equal(tdp_map(&l1, GIB, 2 * GIB, GIB, EPT_READ | EPT_EXEC | uc | EPT_IGNORE_PAT), 0);
	struct shadow_tdp_walk w = ept_fault(GIB + 0x12345, EPT_ACCESS_FETCH);
	assert_int_equal(w.rc, SHADOW_TDP_WALK_OK);
	assert_int_equal(handle(GIB + 0x12345, &w, ept_attrs), SHADOW_TDP_INSTALL);
	struct tdp_walk_result r = shadow_at(GIB + 0x12345);
	assert_int_equal(r.hpa, 2 * GIB + 0x12345);
	assert_int_equal(r.perms, TDP_R | TDP_X);
	assert_int_equal(r.memtype, EPT_MEMTYPE_UC);
	assert_true(r.leaf & EPT_IGNORE_PAT);
	/* a write: L1's EPT violation, qualification bits 5:0 = write, readable|executable */
	w = ept_fault(GIB + 0x12345, EPT_ACCESS_WRITE);
	assert_int_equal(handle(GIB + 0x12345, &w, ept_attrs), SHADOW_TDP_REFLECT);
	assert_int_equal(w.l1_exit, VMX_EXIT_REASON_EPT_VIOLATION);
	assert_int_equal(w.l1_info, EPT_ACCESS_WRITE | ((EPT_READ | EPT_EXEC) << EPT_QUAL_PERMS_SHIFT));
}

static void test_ept_misconfig_reflected(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&l1, 0, 0x100000, 4096, EPT_RWX), 0);
	/* L1 writes a reserved memory type (2) into its leaf */
	uint64_t *pml4 = l1_ptr(l1.root), *pdpt = l1_ptr(pml4[0] & TDP_ADDR_MASK);
	uint64_t *pd = l1_ptr(pdpt[0] & TDP_ADDR_MASK), *pt = l1_ptr(pd[0] & TDP_ADDR_MASK);
	pt[0] |= 2ull << EPT_MEMTYPE_SHIFT;
	struct shadow_tdp_walk w = ept_fault(0, EPT_ACCESS_READ);
	assert_int_equal(handle(0, &w, ept_attrs), SHADOW_TDP_REFLECT);
	assert_int_equal(w.l1_exit, VMX_EXIT_REASON_EPT_MISCONFIG);
	assert_int_equal(w.l1_info, 0);
	expect_no_shadow(0);
}

static void test_ept_never_maps_nestbed(void **state)
{
	(void)state;
	assert_int_equal(tdp_map(&l1, 0, NESTBED_BASE + 0x3000, 4096, EPT_RWX), 0);
	struct shadow_tdp_walk w = ept_fault(0, EPT_ACCESS_READ);
	assert_int_equal(handle(0, &w, ept_attrs), SHADOW_TDP_HOST_MEMORY);
	expect_no_shadow(0);
}

/* ---- installation ---- */

static void test_install_starts_over_when_frames_run_out(void **state)
{
	(void)state;
	assert_int_equal(setup(&tdp_format_ept, &tdp_format_ept, 4), 0); /* root + 3 tables */
	struct shadow_tdp_leaf a = { .gpa = 0, .hpa = 0x1000, .perms = TDP_R };
	struct shadow_tdp_leaf b = { .gpa = 8 * GIB, .hpa = 0x2000, .perms = TDP_R | TDP_W };
	assert_int_equal(shadow_tdp_install(&shadow, &a, ept_attrs(&a)), 0);
	assert_int_equal(shadow_tdp_install(&shadow, &b, ept_attrs(&b)), 1); /* a new table */
	expect_no_shadow(0);
	assert_int_equal(shadow_at(8 * GIB).hpa, 0x2000);
	assert_int_equal(shadow_at(8 * GIB).perms, TDP_R | TDP_W);
	/* a leaf the format refuses is not installed (write without read) */
	struct shadow_tdp_leaf bad = { .gpa = 4096, .hpa = 0x3000, .perms = TDP_W };
	assert_int_equal(shadow_tdp_install(&shadow, &bad, ept_attrs(&bad)), -1);
	expect_no_shadow(4096);
}

/* Write tracking of L1's pages in nestbed's own table for L1 (identity pages only). */
static void test_l1_set_writable(void **state)
{
	(void)state;
	shadow.allow_2m = shadow.allow_1g = true;
	assert_int_equal(tdp_map(&shadow, 0, 0, GIB, EPT_RWX), 0); /* stands for L1's EPT */
	assert_int_equal(tdp_map(&shadow, GIB, 5 * GIB, 4096, EPT_RWX), 0);
	assert_int_equal(shadow_tdp_l1_set_writable(&shadow, 0x7123, false), 0);
	assert_int_equal(shadow_at(0x7000).perms, TDP_R | TDP_X);
	assert_int_equal(shadow_at(0x8000).perms, TDP_R | TDP_W | TDP_X);
	assert_int_equal(shadow_tdp_l1_set_writable(&shadow, 0x7000, true), 0);
	assert_int_equal(shadow_at(0x7000).perms, TDP_R | TDP_W | TDP_X);
	assert_int_equal(shadow_tdp_l1_set_writable(&shadow, GIB, false), 1); /* not identity */
	assert_int_equal(shadow_at(GIB).perms, TDP_R | TDP_W | TDP_X);
	assert_int_equal(shadow_tdp_l1_set_writable(&shadow, 3 * GIB, false), 1); /* unmapped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_npt_compose_and_install, setup_npt),
		cmocka_unit_test_setup(test_npt_writable_executable, setup_npt),
		cmocka_unit_test_setup(test_npt_never_maps_nestbed, setup_npt),
		cmocka_unit_test_setup(test_npt_table_unreadable, setup_npt),
		cmocka_unit_test_setup(test_read_only_pages, setup_npt),
		cmocka_unit_test_setup(test_ept_compose_and_install, setup_ept),
		cmocka_unit_test_setup(test_ept_misconfig_reflected, setup_ept),
		cmocka_unit_test_setup(test_ept_never_maps_nestbed, setup_ept),
		cmocka_unit_test(test_install_starts_over_when_frames_run_out),
		cmocka_unit_test_setup(test_l1_set_writable, setup_ept),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
