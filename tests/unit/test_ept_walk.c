/* covers: src/nested/ept_walk.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/ept_walk.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"

/* A fake L1-physical memory: a few 4 KiB pages at L1_BASE holding the EPT tables. */
#define L1_BASE 0x200000ull
#define L1_PAGES 8
#define ENTRIES 512
#define PAGE 0x1000ull
#define TABLE(n) (L1_BASE + (n) * PAGE)
#define PML4 0
#define PDPT 1
#define PD 2
#define PT 3
#define SPARE 4 /* a second table for walks that branch */

#define NO_FAIL (~0ull)
#define DEFAULT_MAXPHYADDR 46
#define PHYS_MASK(bits) ((1ull << (bits)) - 1)

static uint64_t mem[L1_PAGES * ENTRIES];
static uint64_t fail_read_at, fail_write_at;
static int reads, writes;
static int token; /* the callbacks' ctx, checked to be passed through */
static struct ept_walk_ctx ctx;

static int read_phys(void *c, uint64_t pa, uint64_t *value)
{
	assert_ptr_equal(c, &token);
	assert_int_equal(pa & 7, 0);
	reads++;
	if (pa < L1_BASE || pa >= L1_BASE + sizeof(mem) || pa == fail_read_at)
		return -1;
	*value = mem[(pa - L1_BASE) / 8];
	return 0;
}

static int write_phys(void *c, uint64_t pa, uint64_t value)
{
	assert_ptr_equal(c, &token);
	assert_int_equal(pa & 7, 0);
	if (pa < L1_BASE || pa >= L1_BASE + sizeof(mem) || pa == fail_write_at)
		return -1;
	writes++;
	mem[(pa - L1_BASE) / 8] = value;
	return 0;
}

/* The gpa the default tables translate: a different index at every level. */
#define I4 1u
#define I3 2u
#define I2 3u
#define I1 4u
#define OFFSET 0x567ull
#define GPA (((uint64_t)I4 << 39) | ((uint64_t)I3 << 30) | ((uint64_t)I2 << 21) | ((uint64_t)I1 << 12) | OFFSET)
#define PA_4K 0x12345000ull
#define PA_2M 0x40000000ull  /* 2 MiB aligned */
#define PA_1G 0x80000000ull  /* 1 GiB aligned */
#define WB ((uint64_t)EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)
#define LEAF_4K (PA_4K | EPT_RWX | WB)
#define LEAF_2M (PA_2M | EPT_LARGE_PAGE | EPT_RWX | WB)
#define LEAF_1G (PA_1G | EPT_LARGE_PAGE | EPT_RWX | WB)
#define EPTP_4LEVEL (TABLE(PML4) | (3ull << EPTP_WALK_LENGTH_SHIFT) | EPT_MEMTYPE_WB)

static uint64_t *slot(unsigned table, unsigned index)
{
	return &mem[table * ENTRIES + index];
}

/* The entry the default walk of GPA reads at `level` (4 PML4E ... 1 PTE). */
static uint64_t *entry_at(int level)
{
	switch (level) {
	case 4: return slot(PML4, I4);
	case 3: return slot(PDPT, I3);
	case 2: return slot(PD, I2);
	default: return slot(PT, I1);
	}
}

static void reset(void)
{
	memset(mem, 0, sizeof(mem));
	*slot(PML4, I4) = TABLE(PDPT) | EPT_RWX;
	*slot(PDPT, I3) = TABLE(PD) | EPT_RWX;
	*slot(PD, I2) = TABLE(PT) | EPT_RWX;
	*slot(PT, I1) = LEAF_4K;
	fail_read_at = fail_write_at = NO_FAIL;
	reads = writes = 0;
	ctx = (struct ept_walk_ctx){
		.eptp = EPTP_4LEVEL,
		.phys_addr_mask = PHYS_MASK(DEFAULT_MAXPHYADDR),
		.exec_only = false,
		.page_1g = true,
		.read_phys = read_phys,
		.write_phys = NULL,
		.ctx = &token,
	};
}

static int setup(void **state)
{
	(void)state;
	reset();
	return 0;
}

static int walk(uint64_t gpa, unsigned access, struct ept_walk_result *r)
{
	memset(r, 0xa5, sizeof(*r)); /* every field must be written */
	return ept_walk(&ctx, gpa, access, r);
}

static void expect_violation(uint64_t gpa, unsigned access, unsigned perms, int level)
{
	struct ept_walk_result r;
	assert_int_equal(walk(gpa, access, &r), EPT_WALK_VIOLATION);
	assert_int_equal(r.qualification, access | ((uint64_t)perms << EPT_QUAL_PERMS_SHIFT));
	assert_int_equal(r.perms, perms);
	assert_int_equal(r.level, level);
	assert_int_equal(r.entry, *entry_at(level));
}

static void expect_misconfig(uint64_t gpa, int level)
{
	struct ept_walk_result r;
	for (unsigned access = 0; access <= EPT_ACCESS_ALL; access++) {
		assert_int_equal(walk(gpa, access, &r), EPT_WALK_MISCONFIG);
		assert_int_equal(r.qualification, 0);
		assert_int_equal(r.level, level);
		assert_int_equal(r.entry, *entry_at(level));
	}
}

static void expect_ok(uint64_t gpa, unsigned access, uint64_t pa, uint64_t size)
{
	struct ept_walk_result r;
	assert_int_equal(walk(gpa, access, &r), EPT_WALK_OK);
	assert_int_equal(r.pa, pa);
	assert_int_equal(r.page_size, size);
	assert_int_equal(r.qualification, 0);
}

/* ---- translations (28.2.2) ---- */

static void test_translate_4k(void **state)
{
	(void)state;
	struct ept_walk_result r;
	for (unsigned access = 0; access <= EPT_ACCESS_ALL; access++) {
		assert_int_equal(walk(GPA, access, &r), EPT_WALK_OK);
		assert_int_equal(r.pa, PA_4K | OFFSET);
		assert_int_equal(r.page_size, EPT_PAGE_4K);
		assert_int_equal(r.perms, EPT_ACCESS_ALL);
		assert_int_equal(r.memtype, EPT_MEMTYPE_WB);
		assert_false(r.ipat);
		assert_int_equal(r.qualification, 0);
		assert_int_equal(r.level, 1);
		assert_int_equal(r.entry, LEAF_4K);
	}
	/* exactly one read per level, nothing written */
	reads = 0;
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	assert_int_equal(reads, EPT_LEVELS);
	assert_int_equal(writes, 0);
	/* the offset within the page: every byte */
	expect_ok(GPA & ~0xfffull, EPT_ACCESS_READ, PA_4K, EPT_PAGE_4K);
	expect_ok(GPA | 0xfffull, EPT_ACCESS_READ, PA_4K | 0xfff, EPT_PAGE_4K);
}

static void test_translate_2m(void **state)
{
	(void)state;
	struct ept_walk_result r;
	*slot(PD, I2) = LEAF_2M;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_OK);
	assert_int_equal(r.pa, PA_2M | (GPA & (EPT_PAGE_2M - 1)));
	assert_int_equal(r.page_size, EPT_PAGE_2M);
	assert_int_equal(r.perms, EPT_ACCESS_ALL);
	assert_int_equal(r.memtype, EPT_MEMTYPE_WB);
	assert_int_equal(r.level, 2);
	assert_int_equal(r.entry, LEAF_2M);
	/* 2 MiB pages do not depend on page_1g */
	ctx.page_1g = false;
	expect_ok(GPA, EPT_ACCESS_READ, PA_2M | (GPA & (EPT_PAGE_2M - 1)), EPT_PAGE_2M);
	expect_ok(GPA | (EPT_PAGE_2M - 1), EPT_ACCESS_READ, PA_2M | (EPT_PAGE_2M - 1), EPT_PAGE_2M);
	/* the PT below is not read: a garbage PTE does not matter */
	*slot(PT, I1) = EPT_WRITE;
	reads = 0;
	expect_ok(GPA, EPT_ACCESS_FETCH, PA_2M | (GPA & (EPT_PAGE_2M - 1)), EPT_PAGE_2M);
	assert_int_equal(reads, 3);
}

static void test_translate_1g(void **state)
{
	(void)state;
	struct ept_walk_result r;
	*slot(PDPT, I3) = LEAF_1G | EPT_IGNORE_PAT;
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	assert_int_equal(r.pa, PA_1G | (GPA & (EPT_PAGE_1G - 1)));
	assert_int_equal(r.page_size, EPT_PAGE_1G);
	assert_int_equal(r.perms, EPT_ACCESS_ALL);
	assert_int_equal(r.memtype, EPT_MEMTYPE_WB);
	assert_true(r.ipat);
	assert_int_equal(r.level, 3);
	expect_ok(GPA & ~(EPT_PAGE_1G - 1), EPT_ACCESS_READ, PA_1G, EPT_PAGE_1G);
	expect_ok(GPA | (EPT_PAGE_1G - 1), EPT_ACCESS_READ, PA_1G | (EPT_PAGE_1G - 1), EPT_PAGE_1G);
}

/* Every index bit of the gpa selects its entry: walks that differ at one level reach
 * different tables and pages. */
static void test_indices(void **state)
{
	(void)state;
	static const unsigned last = ENTRIES - 1;
	/* PML4[511] -> SPARE as a PDPT whose [0] maps 1 GiB */
	*slot(PML4, last) = TABLE(SPARE) | EPT_RWX;
	*slot(SPARE, 0) = (3 * EPT_PAGE_1G) | EPT_LARGE_PAGE | EPT_RWX | WB;
	expect_ok(((uint64_t)last << 39) | 0x1234567ull, EPT_ACCESS_READ, 3 * EPT_PAGE_1G + 0x1234567ull, EPT_PAGE_1G);
	/* another PTE in the same PT */
	*slot(PT, last) = 0x777000ull | EPT_READ | WB;
	expect_ok((GPA & ~0x1ff000ull) | ((uint64_t)last << 12), EPT_ACCESS_READ, 0x777000ull | OFFSET, EPT_PAGE_4K);
	/* another PDE and PDPTE not present: violations */
	struct ept_walk_result r;
	assert_int_equal(walk(GPA ^ (1ull << 21), EPT_ACCESS_READ, &r), EPT_WALK_VIOLATION);
	assert_int_equal(r.level, 2);
	assert_int_equal(r.entry, 0);
	assert_int_equal(r.qualification, EPT_ACCESS_READ);
	assert_int_equal(walk(GPA ^ (1ull << 30), EPT_ACCESS_WRITE, &r), EPT_WALK_VIOLATION);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.qualification, EPT_ACCESS_WRITE);
	/* bits 63:48 are not part of a 4-level walk */
	expect_ok(GPA | (0xffffull << 48), EPT_ACCESS_READ, PA_4K | OFFSET, EPT_PAGE_4K);
}

/* ---- permissions: the AND over the levels, violations (28.2.3.2, 27.2.1) ---- */

/* Every legal permission set at every level, every access: a violation exactly when
 * the access asks for more, with bits 5:3 the AND. */
static void test_permissions_each_level(void **state)
{
	(void)state;
	static const unsigned legal[] = { EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXEC, EPT_RWX, EPT_EXEC };
	ctx.exec_only = true;
	for (int leaf_level = 1; leaf_level <= 3; leaf_level++) {
		reset();
		ctx.exec_only = true;
		if (leaf_level == 2)
			*slot(PD, I2) = LEAF_2M;
		if (leaf_level == 3)
			*slot(PDPT, I3) = LEAF_1G;
		for (int level = 4; level >= leaf_level; level--) {
			for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++) {
				uint64_t saved = *entry_at(level);
				*entry_at(level) = (saved & ~(uint64_t)EPT_RWX) | legal[i];
				for (unsigned access = 0; access <= EPT_ACCESS_ALL; access++) {
					struct ept_walk_result r;
					int rc = walk(GPA, access, &r);
					assert_int_equal(r.perms, legal[i]);
					assert_int_equal(r.page_size, 1ull << (12 + 9 * (leaf_level - 1)));
					if (access & ~legal[i]) {
						assert_int_equal(rc, EPT_WALK_VIOLATION);
						assert_int_equal(r.qualification, access | (legal[i] << EPT_QUAL_PERMS_SHIFT));
						assert_int_equal(r.level, leaf_level);
					} else {
						assert_int_equal(rc, EPT_WALK_OK);
						assert_int_equal(r.qualification, 0);
					}
				}
				*entry_at(level) = saved;
			}
		}
	}
}

static void test_permissions_and(void **state)
{
	(void)state;
	struct ept_walk_result r;
	/* R+X above, R+W below: only R survives */
	*slot(PML4, I4) = TABLE(PDPT) | EPT_READ | EPT_EXEC;
	*slot(PD, I2) = TABLE(PT) | EPT_READ | EPT_WRITE;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_OK);
	assert_int_equal(r.perms, EPT_ACCESS_READ);
	expect_violation(GPA, EPT_ACCESS_WRITE, EPT_READ, 1);
	expect_violation(GPA, EPT_ACCESS_FETCH, EPT_READ, 1);
	expect_violation(GPA, EPT_ACCESS_READ | EPT_ACCESS_WRITE, EPT_READ, 1);
	expect_violation(GPA, EPT_ACCESS_ALL, EPT_READ, 1);
	/* a permission violation still says where the leaf points */
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_VIOLATION);
	assert_int_equal(r.pa, PA_4K | OFFSET);
	assert_int_equal(r.page_size, EPT_PAGE_4K);
	assert_int_equal(r.memtype, EPT_MEMTYPE_WB);
	/* R+W at the leaf, X only through the upper levels: fetch not allowed */
	reset();
	*slot(PT, I1) = PA_4K | EPT_READ | EPT_WRITE | WB;
	expect_violation(GPA, EPT_ACCESS_FETCH, EPT_READ | EPT_WRITE, 1);
	/* exec-only PDPTE over an RWX leaf: only fetches */
	reset();
	ctx.exec_only = true;
	*slot(PDPT, I3) = TABLE(PD) | EPT_EXEC;
	expect_ok(GPA, EPT_ACCESS_FETCH, PA_4K | OFFSET, EPT_PAGE_4K);
	expect_violation(GPA, EPT_ACCESS_READ, EPT_EXEC, 1);
	expect_violation(GPA, EPT_ACCESS_WRITE, EPT_EXEC, 1);
	/* access bits beyond 2:0 are not part of the access */
	expect_ok(GPA, EPT_ACCESS_FETCH | 0xf8u, PA_4K | OFFSET, EPT_PAGE_4K);
	expect_violation(GPA, EPT_ACCESS_READ, EPT_EXEC, 1);
	assert_int_equal(walk(GPA, EPT_ACCESS_READ | 0x100u, &r), EPT_WALK_VIOLATION);
	assert_int_equal(r.qualification, EPT_ACCESS_READ | (EPT_EXEC << EPT_QUAL_PERMS_SHIFT));
}

/* Not present (bits 2:0 = 0) at any level is a violation whatever else the entry
 * holds (reserved bits, memory type 7, bit 7): bits 5:3 of the qualification are 0. */
static void test_not_present(void **state)
{
	(void)state;
	static const uint64_t junk[] = { 0, ~(uint64_t)EPT_RWX, EPT_ADDR_MASK, EPT_MEMTYPE_MASK | EPT_LARGE_PAGE };
	for (int level = 4; level >= 1; level--) {
		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
			reset();
			*entry_at(level) = junk[j];
			for (unsigned access = 0; access <= EPT_ACCESS_ALL; access++) {
				struct ept_walk_result r;
				assert_int_equal(walk(GPA, access, &r), EPT_WALK_VIOLATION);
				assert_int_equal(r.qualification, access);
				assert_int_equal(r.perms, 0);
				assert_int_equal(r.level, level);
				assert_int_equal(r.entry, junk[j]);
			}
			/* even with restricted permissions above, bits 5:3 are 0 */
			if (level < 4) {
				*entry_at(4) = TABLE(PDPT) | EPT_READ;
				expect_violation(GPA, EPT_ACCESS_WRITE, 0, level);
			}
		}
	}
}

/* ---- misconfigurations (28.2.3.1) ---- */

static void test_write_without_read(void **state)
{
	(void)state;
	for (int exec_only = 0; exec_only <= 1; exec_only++) {
		for (int level = 4; level >= 1; level--) {
			for (int x = 0; x <= 1; x++) {
				reset();
				ctx.exec_only = exec_only;
				*entry_at(level) = (*entry_at(level) & ~(uint64_t)EPT_RWX) | EPT_WRITE | (x ? EPT_EXEC : 0);
				expect_misconfig(GPA, level);
			}
		}
		/* at a large leaf too */
		reset();
		ctx.exec_only = exec_only;
		*slot(PD, I2) = (LEAF_2M & ~(uint64_t)EPT_RWX) | EPT_WRITE;
		expect_misconfig(GPA, 2);
		*slot(PDPT, I3) = (LEAF_1G & ~(uint64_t)EPT_RWX) | EPT_WRITE | EPT_EXEC;
		expect_misconfig(GPA, 3);
	}
}

static void test_exec_only(void **state)
{
	(void)state;
	for (int level = 4; level >= 1; level--) {
		reset();
		*entry_at(level) = (*entry_at(level) & ~(uint64_t)EPT_RWX) | EPT_EXEC;
		expect_misconfig(GPA, level);
		ctx.exec_only = true;
		expect_ok(GPA, EPT_ACCESS_FETCH, PA_4K | OFFSET, EPT_PAGE_4K);
		expect_ok(GPA, 0, PA_4K | OFFSET, EPT_PAGE_4K);
		expect_violation(GPA, EPT_ACCESS_READ, EPT_EXEC, 1);
		expect_violation(GPA, EPT_ACCESS_WRITE, EPT_EXEC, 1);
		expect_violation(GPA, EPT_ACCESS_READ | EPT_ACCESS_FETCH, EPT_EXEC, 1);
	}
	/* large leaves */
	reset();
	*slot(PD, I2) = (LEAF_2M & ~(uint64_t)EPT_RWX) | EPT_EXEC;
	expect_misconfig(GPA, 2);
	ctx.exec_only = true;
	expect_ok(GPA, EPT_ACCESS_FETCH, PA_2M | (GPA & (EPT_PAGE_2M - 1)), EPT_PAGE_2M);
}

/* Bits 51:MAXPHYADDR are reserved in every entry; bits 63:52 are ignored. */
static void test_maxphyaddr(void **state)
{
	(void)state;
	static const int widths[] = { 36, 39, 46, 52 };
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		int bits = widths[w];
		for (int level = 4; level >= 1; level--) {
			for (int bit = 36; bit <= 51; bit++) {
				reset();
				ctx.phys_addr_mask = PHYS_MASK(bits);
				uint64_t saved = *entry_at(level);
				*entry_at(level) = saved | (1ull << bit);
				if (bit >= bits) {
					expect_misconfig(GPA, level);
				} else if (level == 1) {
					/* an address bit of the leaf: the translation carries it */
					expect_ok(GPA, EPT_ACCESS_READ, (PA_4K | (1ull << bit)) | OFFSET, EPT_PAGE_4K);
				} else {
					/* a table beyond the fake memory: unreadable, not misconfigured */
					struct ept_walk_result r;
					assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
					assert_int_equal(r.level, level - 1);
				}
			}
			/* bits 63:52 are ignored */
			reset();
			ctx.phys_addr_mask = PHYS_MASK(bits);
			*entry_at(level) |= 0xfffull << 52;
			expect_ok(GPA, EPT_ACCESS_READ, PA_4K | OFFSET, EPT_PAGE_4K);
		}
	}
	/* the EPTP's address is taken below MAXPHYADDR (its other checks are VM entry's) */
	reset();
	ctx.phys_addr_mask = PHYS_MASK(36);
	ctx.eptp |= 1ull << 40;
	expect_ok(GPA, EPT_ACCESS_READ, PA_4K | OFFSET, EPT_PAGE_4K);
}

/* Bits 7:3 of a PML4E and of a PDPTE/PDE referencing a table are reserved. */
static void test_table_reserved_bits(void **state)
{
	(void)state;
	for (int level = 4; level >= 2; level--) {
		for (int bit = 3; bit <= 7; bit++) {
			reset();
			*entry_at(level) |= 1ull << bit;
			if (bit == 7 && level != 4)
				continue; /* a page at levels 3 and 2: test_large_pages */
			expect_misconfig(GPA, level);
		}
	}
	/* bit 7 of a PML4E even with 1 GiB pages offered */
	reset();
	*entry_at(4) = TABLE(PDPT) | EPT_RWX | EPT_LARGE_PAGE;
	expect_misconfig(GPA, 4);
	/* bits 8-11 (accessed, ignored, user-execute) are not reserved */
	for (int level = 4; level >= 1; level--) {
		reset();
		*entry_at(level) |= 0xfull << 8;
		expect_ok(GPA, EPT_ACCESS_ALL, PA_4K | OFFSET, EPT_PAGE_4K);
	}
	/* nor bits 6 and 7 of a PTE (ignore PAT, ignored) */
	reset();
	*entry_at(1) |= EPT_IGNORE_PAT | EPT_LARGE_PAGE;
	struct ept_walk_result r;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_OK);
	assert_true(r.ipat);
	assert_int_equal(r.page_size, EPT_PAGE_4K);
}

static void test_large_pages(void **state)
{
	(void)state;
	/* bit 7 of a PDPTE is reserved when 1 GiB pages are not offered */
	ctx.page_1g = false;
	*slot(PDPT, I3) = LEAF_1G;
	expect_misconfig(GPA, 3);
	*slot(PDPT, I3) = TABLE(PD) | EPT_RWX | EPT_LARGE_PAGE;
	expect_misconfig(GPA, 3);
	/* a large page's address bits below its size are reserved: 20:12 and 29:12 */
	for (int bit = 12; bit <= 20; bit++) {
		reset();
		*slot(PD, I2) = LEAF_2M | (1ull << bit);
		expect_misconfig(GPA, 2);
	}
	for (int bit = 12; bit <= 29; bit++) {
		reset();
		*slot(PDPT, I3) = LEAF_1G | (1ull << bit);
		expect_misconfig(GPA, 3);
	}
	/* the next bit up is an address bit */
	reset();
	*slot(PD, I2) = LEAF_2M | (1ull << 21);
	expect_ok(GPA, EPT_ACCESS_READ, (PA_2M | (1ull << 21)) | (GPA & (EPT_PAGE_2M - 1)), EPT_PAGE_2M);
	*slot(PDPT, I3) = LEAF_1G | (1ull << 30);
	expect_ok(GPA, EPT_ACCESS_READ, (PA_1G | (1ull << 30)) | (GPA & (EPT_PAGE_1G - 1)), EPT_PAGE_1G);
	/* MAXPHYADDR applies to large leaves too */
	reset();
	ctx.phys_addr_mask = PHYS_MASK(36);
	*slot(PDPT, I3) = LEAF_1G | (1ull << 36);
	expect_misconfig(GPA, 3);
}

/* Memory types 2, 3 and 7 are reserved in a leaf (28.2.3.1, 28.2.6); the rest are
 * reported as they are, with IPAT. */
static void test_memtypes(void **state)
{
	(void)state;
	for (int leaf_level = 1; leaf_level <= 3; leaf_level++) {
		for (unsigned t = 0; t <= 7; t++) {
			for (int ipat = 0; ipat <= 1; ipat++) {
				reset();
				uint64_t leaf = leaf_level == 1 ? LEAF_4K : leaf_level == 2 ? LEAF_2M : LEAF_1G;
				leaf = (leaf & ~EPT_MEMTYPE_MASK) | ((uint64_t)t << EPT_MEMTYPE_SHIFT) |
				       (ipat ? EPT_IGNORE_PAT : 0);
				*entry_at(leaf_level) = leaf;
				if (t == 2 || t == 3 || t == 7) {
					expect_misconfig(GPA, leaf_level);
					continue;
				}
				struct ept_walk_result r;
				assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_OK);
				assert_int_equal(r.memtype, t);
				assert_int_equal(r.ipat, ipat);
				assert_int_equal(r.level, leaf_level);
			}
		}
	}
}

/* Only 4-level walks: any other page-walk length is refused without a read. The other
 * EPTP fields (memory type, A/D, bits 11:7) do not change the walk. */
static void test_eptp(void **state)
{
	(void)state;
	struct ept_walk_result r;
	for (uint64_t len = 0; len <= 7; len++) {
		reset();
		ctx.eptp = (EPTP_4LEVEL & ~(7ull << EPTP_WALK_LENGTH_SHIFT)) | (len << EPTP_WALK_LENGTH_SHIFT);
		int rc = walk(GPA, EPT_ACCESS_READ, &r);
		if (len == EPT_LEVELS - 1) {
			assert_int_equal(rc, EPT_WALK_OK);
		} else {
			assert_int_equal(rc, EPT_WALK_MISCONFIG);
			assert_int_equal(reads, 0);
			assert_int_equal(r.level, 0);
			assert_int_equal(r.qualification, 0);
		}
	}
	reset();
	ctx.eptp = EPTP_4LEVEL | EPTP_AD_ENABLE | (0x1full << 7) | EPT_MEMTYPE_UC;
	ctx.eptp = (ctx.eptp & ~7ull) | EPT_MEMTYPE_UC;
	expect_ok(GPA, EPT_ACCESS_READ, PA_4K | OFFSET, EPT_PAGE_4K);
}

/* ---- unreadable tables ---- */

static void test_unreadable(void **state)
{
	(void)state;
	struct ept_walk_result r;
	for (int level = 4; level >= 1; level--) {
		reset();
		fail_read_at = (uint64_t)(entry_at(level) - mem) * 8 + L1_BASE;
		assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
		assert_int_equal(r.level, level);
		assert_int_equal(r.entry, 0);
		assert_int_equal(r.qualification, 0);
	}
	/* a root outside L1's memory */
	reset();
	ctx.eptp = (ctx.eptp & ~EPT_ADDR_MASK) | 0x10000000ull;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
	assert_int_equal(r.level, 4);
	/* a PDE pointing outside */
	reset();
	*slot(PD, I2) = 0x10000000ull | EPT_RWX;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
	assert_int_equal(r.level, 1);
}

/* ---- priority (28.2.3.3): entries in order, permissions at the end ---- */

static void test_priority(void **state)
{
	(void)state;
	/* missing W above, a misconfigured PDE below: misconfiguration */
	*slot(PML4, I4) = TABLE(PDPT) | EPT_READ | EPT_EXEC;
	*slot(PD, I2) |= EPT_IGNORE_PAT;
	expect_misconfig(GPA, 2);
	/* missing W above, the PTE not present: violation with bits 5:3 = 0 */
	reset();
	*slot(PML4, I4) = TABLE(PDPT) | EPT_READ;
	*slot(PT, I1) = 0;
	expect_violation(GPA, EPT_ACCESS_WRITE, 0, 1);
	/* a not-present PDE above a misconfigured PTE: violation, the PT is not read */
	reset();
	*slot(PD, I2) = TABLE(PT);
	*slot(PT, I1) = EPT_WRITE;
	reads = 0;
	expect_violation(GPA, EPT_ACCESS_READ, 0, 2);
	assert_int_equal(reads, 3);
	/* a misconfigured PDPTE above an unreadable PT: misconfiguration */
	reset();
	*slot(PDPT, I3) |= 1ull << 3;
	fail_read_at = TABLE(PT) + I1 * 8;
	expect_misconfig(GPA, 3);
	/* an unreadable PD above a misconfigured PTE: unreadable */
	reset();
	fail_read_at = TABLE(PD) + I2 * 8;
	*slot(PT, I1) = EPT_WRITE;
	struct ept_walk_result r;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
	assert_int_equal(r.level, 2);
}

/* ---- accessed and dirty flags (28.2.4) ---- */

static void test_accessed_dirty(void **state)
{
	(void)state;
	struct ept_walk_result r;
	/* without the callback nothing is written, A/D enabled or not */
	ctx.eptp |= EPTP_AD_ENABLE;
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	for (int level = 4; level >= 1; level--)
		assert_int_equal(*entry_at(level) & (EPT_ACCESSED | EPT_DIRTY), 0);
	/* with it but A/D disabled in the EPTP: nothing */
	ctx.write_phys = write_phys;
	ctx.eptp &= ~EPTP_AD_ENABLE;
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	assert_int_equal(writes, 0);
	/* a read: A in every entry, no D */
	ctx.eptp |= EPTP_AD_ENABLE;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_OK);
	assert_int_equal(writes, 4);
	for (int level = 4; level >= 1; level--)
		assert_int_equal(*entry_at(level) & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	/* r.entry is the leaf as read, before the update */
	assert_int_equal(r.entry, LEAF_4K);
	/* again: already set, nothing written */
	writes = 0;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ | EPT_ACCESS_FETCH, &r), EPT_WALK_OK);
	assert_int_equal(writes, 0);
	/* a write: D in the leaf only */
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	assert_int_equal(writes, 1);
	assert_int_equal(*entry_at(1), LEAF_4K | EPT_ACCESSED | EPT_DIRTY);
	for (int level = 4; level >= 2; level--)
		assert_int_equal(*entry_at(level) & EPT_DIRTY, 0);
	/* a 2 MiB leaf: D in the PDE, the PT untouched */
	reset();
	ctx.write_phys = write_phys;
	ctx.eptp |= EPTP_AD_ENABLE;
	*slot(PD, I2) = LEAF_2M;
	assert_int_equal(walk(GPA, EPT_ACCESS_WRITE, &r), EPT_WALK_OK);
	assert_int_equal(writes, 3);
	assert_int_equal(*slot(PD, I2), LEAF_2M | EPT_ACCESSED | EPT_DIRTY);
	assert_int_equal(*slot(PT, I1), LEAF_4K);
	/* violations and misconfigurations write nothing */
	reset();
	ctx.write_phys = write_phys;
	ctx.eptp |= EPTP_AD_ENABLE;
	*slot(PT, I1) = PA_4K | EPT_READ | WB;
	expect_violation(GPA, EPT_ACCESS_WRITE, EPT_READ, 1);
	*slot(PD, I2) = 0;
	expect_violation(GPA, EPT_ACCESS_READ, 0, 2);
	*slot(PD, I2) = TABLE(PT) | EPT_WRITE;
	expect_misconfig(GPA, 2);
	assert_int_equal(writes, 0);
	/* a failed write: -3 */
	reset();
	ctx.write_phys = write_phys;
	ctx.eptp |= EPTP_AD_ENABLE;
	fail_write_at = TABLE(PD) + I2 * 8;
	assert_int_equal(walk(GPA, EPT_ACCESS_READ, &r), EPT_WALK_UNREADABLE);
}

/* ---- L1's qualification from the walk and the CPU's (27.2.1) ---- */

static void test_violation_qualification(void **state)
{
	(void)state;
	/* a fetch from a page with R only: bits 2 and 3 from the walk */
	*slot(PT, I1) = (*slot(PT, I1) & ~(uint64_t)EPT_RWX) | EPT_READ;
	struct ept_walk_result r;
	assert_int_equal(walk(GPA, EPT_ACCESS_FETCH, &r), EPT_WALK_VIOLATION);
	/* the CPU's: a read on its shadow (bit 0), bits 6, 7, 8, 9-11, 12, 13, 16 and 40 */
	uint64_t cpu = 1ull | (1ull << 6) | (1ull << 7) | (1ull << 8) | (7ull << 9) | (1ull << 12) |
		       (1ull << 13) | (1ull << 16) | (1ull << 40);
	assert_int_equal(ept_violation_qualification(&r, cpu),
			 EPT_ACCESS_FETCH | ((uint64_t)EPT_READ << EPT_QUAL_PERMS_SHIFT) | (1ull << 7) |
				 (1ull << 8) | (1ull << 12));
	/* nothing from the CPU: the walk's bits alone */
	assert_int_equal(ept_violation_qualification(&r, 0),
			 EPT_ACCESS_FETCH | ((uint64_t)EPT_READ << EPT_QUAL_PERMS_SHIFT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_translate_4k, setup),
		cmocka_unit_test_setup(test_translate_2m, setup),
		cmocka_unit_test_setup(test_translate_1g, setup),
		cmocka_unit_test_setup(test_indices, setup),
		cmocka_unit_test_setup(test_permissions_each_level, setup),
		cmocka_unit_test_setup(test_permissions_and, setup),
		cmocka_unit_test_setup(test_not_present, setup),
		cmocka_unit_test_setup(test_write_without_read, setup),
		cmocka_unit_test_setup(test_exec_only, setup),
		cmocka_unit_test_setup(test_maxphyaddr, setup),
		cmocka_unit_test_setup(test_table_reserved_bits, setup),
		cmocka_unit_test_setup(test_large_pages, setup),
		cmocka_unit_test_setup(test_memtypes, setup),
		cmocka_unit_test_setup(test_eptp, setup),
		cmocka_unit_test_setup(test_unreadable, setup),
		cmocka_unit_test_setup(test_priority, setup),
		cmocka_unit_test_setup(test_accessed_dirty, setup),
		cmocka_unit_test_setup(test_violation_qualification, setup),
	};
	return cmocka_run_group_tests_name("ept_walk", tests, NULL, NULL);
}
