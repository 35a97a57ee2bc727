/* covers: src/iommu/vamdvi.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vamdvi.h"

/* ---- a small fake physical memory: 64 frames at 0x100000 ("L1"), nestbed owns
 * [0x200000, 0x400000); shadow frames come from a pool of their own ---- */

#define MEM_BASE 0x100000ull
#define MEM_FRAMES 64
#define NESTBED_LO 0x200000ull
#define NESTBED_HI 0x400000ull
#define POOL_BASE 0x80000000ull
#define POOL_FRAMES 64

static uint64_t mem[MEM_FRAMES][512];
static uint64_t pool[POOL_FRAMES][512];
static unsigned pool_used, pool_freed;

static uint64_t *frame(uint64_t pa)
{
	if (pa >= POOL_BASE && pa < POOL_BASE + POOL_FRAMES * 4096ull)
		return pool[(pa - POOL_BASE) / 4096];
	if (pa >= MEM_BASE && pa < MEM_BASE + MEM_FRAMES * 4096ull)
		return mem[(pa - MEM_BASE) / 4096];
	return NULL;
}

static const volatile uint64_t *table(void *ctx, uint64_t gpa)
{
	(void)ctx;
	return gpa >= MEM_BASE && gpa < MEM_BASE + MEM_FRAMES * 4096ull ? frame(gpa) : NULL;
}

static bool leaf_ok(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	return pa + len <= NESTBED_LO || pa >= NESTBED_HI;
}

static uint64_t alloc(void *ctx)
{
	(void)ctx;
	if (pool_used == POOL_FRAMES)
		return 0;
	memset(pool[pool_used], 0, 4096);
	return POOL_BASE + 4096ull * pool_used++;
}

static uint64_t *ptr(void *ctx, uint64_t f)
{
	(void)ctx;
	return frame(f);
}

static void free_frame(void *ctx, uint64_t f)
{
	(void)ctx;
	assert_non_null(frame(f));
	pool_freed++;
}

static const struct vamdvi_shadow_env senv = { NULL, table, leaf_ok, alloc, ptr };

static void reset(void)
{
	memset(mem, 0, sizeof(mem));
	pool_used = pool_freed = 0;
}

static uint64_t fr(unsigned i) { return MEM_BASE + 4096ull * i; }
static uint64_t pde(uint64_t t, unsigned next) { return t | (uint64_t)next << 9 | 1 | 3ull << 61; }
static uint64_t pte(uint64_t pa) { return pa | 1 | 3ull << 61; }

/* walks a shadow: the physical address of iova, or ~0 when not mapped */
static uint64_t walk(uint64_t root, unsigned levels, uint64_t iova)
{
	uint64_t t = root;
	for (unsigned l = levels; l >= 1; l--) {
		uint64_t e = frame(t)[(iova >> (12 + 9 * (l - 1))) & 511];
		if (!(e & 1))
			return ~0ull;
		unsigned next = (e >> 9) & 7;
		if (next == 0) {
			uint64_t size = 4096ull << (9 * (l - 1));
			return (e & 0x000ffffffffff000ull & ~(size - 1)) | (iova & (size - 1));
		}
		assert_int_equal(next, l - 1);
		t = e & 0x000ffffffffff000ull;
	}
	return ~0ull;
}

static void test_shadow_copies_l1_pages(void **state)
{
	(void)state;
	reset();
	/* 3 levels: L3 at frame 0 -> L2 at 1 -> L1 at 2 mapping IOVA 0x5000 -> 0x123000 */
	mem[0][0] = pde(fr(1), 2);
	mem[1][0] = pde(fr(2), 1);
	mem[2][5] = pte(0x123000);
	mem[1][1] = pte(0x40000000ull);             /* a 2 MiB page at IOVA 2 MiB */
	struct vamdvi_shadow_stats st;
	uint64_t root = vamdvi_shadow_build(&senv, fr(0), 3, &st);
	assert_true(root >= POOL_BASE);
	assert_int_equal(walk(root, 3, 0x5abc), 0x123abc);
	assert_int_equal(walk(root, 3, 0x200000 + 0x1234), 0x40001234ull);
	assert_int_equal(walk(root, 3, 0x6000), ~0ull);
	assert_int_equal(st.leaves, 2);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.tables, 3);
	/* the copy is nestbed's: a later change of L1's table is not seen until rebuilt */
	mem[2][5] = pte(0x124000);
	assert_int_equal(walk(root, 3, 0x5000), 0x123000);
	vamdvi_shadow_free(&senv, root, 3, free_frame);
	assert_int_equal(pool_freed, 3);
}

static void test_shadow_never_reaches_nestbed(void **state)
{
	(void)state;
	reset();
	mem[0][0] = pde(fr(1), 1);
	mem[1][0] = pte(NESTBED_LO);                /* 4 KiB into nestbed: dropped */
	mem[1][1] = pte(NESTBED_HI - 4096);
	mem[1][2] = pte(NESTBED_HI);                /* just past it: kept */
	struct vamdvi_shadow_stats st;
	uint64_t root = vamdvi_shadow_build(&senv, fr(0), 2, &st);
	assert_int_equal(walk(root, 2, 0), ~0ull);
	assert_int_equal(walk(root, 2, 0x1000), ~0ull);
	assert_int_equal(walk(root, 2, 0x2000), NESTBED_HI);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.leaves, 1);
}

static void test_shadow_splits_large_page(void **state)
{
	(void)state;
	reset();
	/* a 2 MiB page at 0x200000 overlapping nestbed wholly: nothing of it; one at
	 * 0x000000 that does not: whole; a 1 GiB page at 0 covering nestbed: split */
	mem[0][0] = pte(0x000000);                  /* level 2 of 2: 2 MiB pages */
	mem[0][1] = pte(NESTBED_LO);
	mem[0][2] = pte(0x600000);                  /* IOVA 4 MiB -> 6 MiB */
	struct vamdvi_shadow_stats st;
	uint64_t root = vamdvi_shadow_build(&senv, fr(0), 2, &st);
	assert_int_equal(walk(root, 2, 0x1000), 0x1000);
	assert_int_equal(walk(root, 2, 0x200000), ~0ull);
	assert_int_equal(walk(root, 2, 0x3ff000), ~0ull);
	assert_int_equal(walk(root, 2, 0x400000), 0x600000);
	assert_int_equal(st.dropped, 512);
	assert_int_equal(st.leaves, 2);

	reset();
	mem[0][0] = pte(0);                         /* 1 GiB: a leaf at level 3 of 3 */
	root = vamdvi_shadow_build(&senv, fr(0), 3, &st);
	assert_int_equal(walk(root, 3, 0x1ff000), 0x1ff000);
	assert_int_equal(walk(root, 3, NESTBED_LO), ~0ull);
	assert_int_equal(walk(root, 3, NESTBED_HI - 1), ~0ull);
	assert_int_equal(walk(root, 3, NESTBED_HI), NESTBED_HI);
	assert_int_equal(walk(root, 3, 0x3fffffff), 0x3fffffff);
	assert_int_equal(st.dropped, 512);
	assert_int_equal(st.leaves, 511);           /* the 2 MiB pages beside nestbed's */
	assert_int_equal(st.tables, 3);             /* root, the split 1 GiB, the split 2 MiB */
}

static void test_shadow_refuses_odd_tables(void **state)
{
	(void)state;
	reset();
	mem[0][0] = pde(NESTBED_LO, 1);            /* a table in nestbed's memory */
	mem[0][1] = pde(fr(1), 1);
	mem[1][0] = pte(0x5000);
	mem[0][2] = pde(fr(1), 7);                  /* non-default page size */
	struct vamdvi_shadow_stats st;
	uint64_t root = vamdvi_shadow_build(&senv, fr(0), 2, &st);
	assert_int_equal(walk(root, 2, 0), ~0ull);
	assert_int_equal(walk(root, 2, 0x200000), 0x5000);
	assert_int_equal(walk(root, 2, 0x400000), ~0ull);
	assert_int_equal(st.dropped, 2);
	/* level skipping: a level-3 PDE naming a level-1 table */
	reset();
	mem[0][0] = pde(fr(1), 1);
	mem[1][0] = pte(0x5000);
	root = vamdvi_shadow_build(&senv, fr(0), 3, &st);
	assert_int_equal(walk(root, 3, 0), ~0ull);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(vamdvi_shadow_build(&senv, fr(0), 5, &st), 0);
}

static void test_shadow_out_of_memory(void **state)
{
	(void)state;
	reset();
	pool_used = POOL_FRAMES - 1;
	mem[0][0] = pde(fr(1), 1);
	mem[1][0] = pte(0x5000);
	struct vamdvi_shadow_stats st;
	uint64_t root = vamdvi_shadow_build(&senv, fr(0), 2, &st);
	assert_true(root);
	assert_true(st.out_of_memory);
	assert_int_equal(walk(root, 2, 0), ~0ull);
}

/* ---- registers ---- */

static void test_registers(void **state)
{
	(void)state;
	struct vamdvi_regs r = { 0 };
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_DEVTAB, 4, 0x12345fff), VAMDVI_NONE);
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_DEVTAB + 4, 4, 0x1), VAMDVI_NONE);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_DEVTAB, 8), 0x1123451ffull);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_DEVTAB + 4, 4), 1);
	vamdvi_write(&r, VAMDVI_REG_CMDBUF, 8, 0x0800000000abc123ull);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_CMDBUF, 8), 0x0800000000abc000ull);
	/* EFR is read-only */
	vamdvi_write(&r, VAMDVI_REG_EFR, 8, ~0ull);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_EFR, 8), VAMDVI_EFR);
	/* run bits follow the control register */
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_STATUS, 8), 0);
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_CONTROL, 8, VAMDVI_CTRL_IOMMU_EN |
				      VAMDVI_CTRL_CMDBUF_EN | VAMDVI_CTRL_EVLOG_EN), VAMDVI_RESYNC_ALL);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_STATUS, 8),
			 VAMDVI_STATUS_CMDBUF_RUN | VAMDVI_STATUS_EVLOG_RUN);
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_CONTROL, 8, VAMDVI_CTRL_IOMMU_EN),
			 VAMDVI_NONE);
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_CONTROL, 8, VAMDVI_CTRL_IOMMU_EN |
				      VAMDVI_CTRL_CMDBUF_EN), VAMDVI_RUN_COMMANDS);
	/* status: write 1 to clear, the run bits are not writable */
	r.status = VAMDVI_STATUS_COMWAIT_INT | VAMDVI_STATUS_EVLOG_INT;
	vamdvi_write(&r, VAMDVI_REG_STATUS, 4, VAMDVI_STATUS_COMWAIT_INT | VAMDVI_STATUS_CMDBUF_RUN);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_STATUS, 4),
			 VAMDVI_STATUS_EVLOG_INT | VAMDVI_STATUS_CMDBUF_RUN);
	/* pointers keep 18:4 */
	assert_int_equal(vamdvi_write(&r, VAMDVI_REG_CMD_TAIL, 4, 0xfffff), VAMDVI_RUN_COMMANDS);
	assert_int_equal(vamdvi_read(&r, VAMDVI_REG_CMD_TAIL, 8), 0x7fff0);
	assert_int_equal(vamdvi_read(&r, 0x1000, 8), 0);
}

/* Xen 4.17 clears the block with REP STOSB when it maps it: every register 0, page by
 * page; an enabled unit seen cleared is switched off. */
static void test_fill(void **state)
{
	(void)state;
	struct vamdvi_regs r = { 0 };
	r.devtab = 0x1234000;
	r.control = VAMDVI_CTRL_IOMMU_EN;
	r.cmd_tail = 0x40;
	enum vamdvi_action a;
	assert_int_equal(vamdvi_fill(&r, 0, 1, 0x4000, 0, &a), 4096);   /* to the page's end */
	assert_int_equal(r.devtab, 0);
	assert_int_equal(r.control, 0);
	assert_int_equal(a, VAMDVI_RESYNC_ALL);
	assert_int_equal(vamdvi_fill(&r, 0x1000, 1, 0x3000, 0, &a), 4096);
	assert_int_equal(a, VAMDVI_NONE);
	assert_int_equal(vamdvi_fill(&r, 0x2000, 1, 0x2000, 0, &a), 4096);
	assert_int_equal(r.cmd_tail, 0);
	assert_int_equal(a, VAMDVI_RUN_COMMANDS);
	/* STOSD of a pattern: only registers covered whole are written */
	assert_int_equal(vamdvi_fill(&r, 0x0004, 4, 3, 0xfffff000u, &a), 3);
	assert_int_equal(r.devtab, 0);                       /* half covered: untouched */
	assert_int_equal(r.cmdbuf, 0x0f0ff000fffff000ull);   /* 0x08..0x0f whole, writable bits */
	assert_int_equal(vamdvi_fill(&r, 0x0ff8, 8, 5, 0, &a), 1);     /* stops at the page */
	assert_int_equal(vamdvi_fill(&r, 3, 2, 1, 0, &a), 0);         /* misaligned */
	assert_int_equal(vamdvi_fill(&r, 0, 3, 1, 0, &a), 0);
}

/* ---- commands ---- */

static uint8_t l1mem[0x10000];
static unsigned dte_calls, dom_calls, all_calls;
static uint16_t last_dev, last_dom;

static int l1_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa + len > sizeof(l1mem))
		return -1;
	memcpy(buf, l1mem + gpa, len);
	return 0;
}

static int l1_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa + len > sizeof(l1mem))
		return -1;
	memcpy(l1mem + gpa, buf, len);
	return 0;
}

static void inv_dte(void *ctx, uint16_t id) { (void)ctx; dte_calls++; last_dev = id; }
static void inv_dom(void *ctx, uint16_t d) { (void)ctx; dom_calls++; last_dom = d; }
static void inv_all(void *ctx) { (void)ctx; all_calls++; }

static const struct vamdvi_env cenv = { NULL, l1_read, l1_write, inv_dte, inv_dom, inv_all };

static void put_cmd(unsigned slot, uint64_t q0, uint64_t q1)
{
	memcpy(l1mem + 0x1000 + 16 * slot, &q0, 8);
	memcpy(l1mem + 0x1000 + 16 * slot + 8, &q1, 8);
}

static void test_commands(void **state)
{
	(void)state;
	memset(l1mem, 0, sizeof(l1mem));
	dte_calls = dom_calls = all_calls = 0;
	struct vamdvi_regs r = { 0 };
	r.cmdbuf = 0x1000 | 8ull << VAMDVI_LEN_SHIFT;   /* 256 entries, 4 KiB */
	put_cmd(0, 2ull << 60 | 0x00f8, 0);                           /* INV DTE 00:1f.0 */
	put_cmd(1, 3ull << 60 | 0x0007ull << 32, 0x7ffffffffffff000ull | 1);
	put_cmd(2, 5ull << 60 | 0x00a0, 0);                           /* INV IRT */
	put_cmd(3, 8ull << 60, 0);
	put_cmd(4, 1ull << 60 | 0x8000 | VAMDVI_CW_S | VAMDVI_CW_I, 0x1122334455667788ull);
	r.cmd_tail = 5 * 16;
	/* nothing runs while the unit or its command buffer is off */
	assert_int_equal(vamdvi_run_commands(&r, &cenv), 0);
	r.control = VAMDVI_CTRL_IOMMU_EN | VAMDVI_CTRL_CMDBUF_EN;
	assert_int_equal(vamdvi_run_commands(&r, &cenv), 5);
	assert_int_equal(r.cmd_head, 5 * 16);
	assert_int_equal(dte_calls, 2);
	assert_int_equal(last_dev, 0xa0);
	assert_int_equal(dom_calls, 1);
	assert_int_equal(last_dom, 7);
	assert_int_equal(all_calls, 1);
	uint64_t stored;
	memcpy(&stored, l1mem + 0x8000, 8);
	assert_int_equal(stored, 0x1122334455667788ull);
	assert_true(r.status & VAMDVI_STATUS_COMWAIT_INT);
	/* wrap-around at the end of the ring */
	r.cmd_head = 255 * 16;
	put_cmd(255, 2ull << 60 | 0x10, 0);
	put_cmd(0, 2ull << 60 | 0x11, 0);
	r.cmd_tail = 16;
	assert_int_equal(vamdvi_run_commands(&r, &cenv), 2);
	assert_int_equal(last_dev, 0x11);
	assert_int_equal(r.cmd_head, 16);
	/* an illegal opcode stops the unit there */
	put_cmd(1, 0xfull << 60, 0);
	r.cmd_tail = 3 * 16;
	assert_int_equal(vamdvi_run_commands(&r, &cenv), 0);
	assert_int_equal(r.cmd_head, 16);
	/* a buffer outside L1's memory runs nothing */
	r.cmdbuf = 0x100000 | 8ull << VAMDVI_LEN_SHIFT;
	r.cmd_head = 0;
	assert_int_equal(vamdvi_run_commands(&r, &cenv), 0);
}

static void test_cmd_decode(void **state)
{
	(void)state;
	struct vamdvi_cmd c;
	uint64_t q[2] = { 1ull << 60 | 0x000abcdef0123458ull | VAMDVI_CW_S, 42 };
	assert_int_equal(vamdvi_cmd_decode(q, &c), 0);
	assert_int_equal(c.opcode, 1);
	assert_true(c.store);
	assert_false(c.interrupt);
	assert_int_equal(c.store_addr, 0x000abcdef0123458ull);
	assert_int_equal(c.store_data, 42);
	q[0] = 0;
	assert_int_equal(vamdvi_cmd_decode(q, &c), -1);
	q[0] = 7ull << 60;                  /* COMPLETE_PPR_REQUEST: no PPR offered */
	assert_int_equal(vamdvi_cmd_decode(q, &c), -1);
}

/* ---- device-table entries ---- */

#define IDROOT 0x7000000ull
#define SHROOT 0x9000000ull

static void test_compose_dte(void **state)
{
	(void)state;
	uint64_t out[4], l1[4] = { 0 };
	const uint64_t ident0 = IDROOT | 4ull << 9 | 3 | 3ull << 61;
	/* unit off, or L1's entry invalid: nestbed's identity table */
	l1[0] = 0x5000 | 3ull << 9 | 3 | 3ull << 61;
	l1[1] = 9;
	vamdvi_compose_dte(l1, false, SHROOT, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], ident0);
	assert_int_equal(out[1], 1);
	uint64_t inval[4] = { 0x5000 | 3ull << 9 | 2, 9, 0, 0 };
	vamdvi_compose_dte(inval, true, SHROOT, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], ident0);
	/* translated: the shadow, L1's mode and permissions, nestbed's domain for it */
	l1[0] = 0x5000 | 3ull << 9 | 3 | 1ull << 61;
	vamdvi_compose_dte(l1, true, SHROOT, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], SHROOT | 3ull << 9 | 3 | 1ull << 61);
	assert_int_equal(out[1], 20);
	assert_true(vamdvi_dte_translates(l1));
	/* mode 0: untranslated with L1's permissions (none here: blocked) */
	l1[0] = 3;
	vamdvi_compose_dte(l1, true, 0, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], IDROOT | 4ull << 9 | 3);
	/* a mode nestbed does not walk (5, 6), or no shadow: blocked */
	l1[0] = 0x5000 | 5ull << 9 | 3 | 3ull << 61;
	vamdvi_compose_dte(l1, true, SHROOT, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], 3);
	assert_false(vamdvi_dte_translates(l1));
	/* interrupts: L1's remapping fields, but never InitPass, and only with its table
	 * in L1's RAM */
	l1[0] = 1;
	l1[2] = 1 | 8ull << 1 | 0x6000ull | VAMDVI_DTE_INIT_PASS | 1ull << 58 | 2ull << 60;
	vamdvi_compose_dte(l1, true, 0, 20, IDROOT, 1, true, out);
	assert_int_equal(out[2], 1 | 8ull << 1 | 0x6000ull | 1ull << 58 | 2ull << 60);
	vamdvi_compose_dte(l1, true, 0, 20, IDROOT, 1, false, out);
	assert_int_equal(out[2], 0);
	uint64_t base, len;
	vamdvi_dte_irt(l1, &base, &len);
	assert_int_equal(base, 0x6000);
	assert_int_equal(len, 16u << 8);
	l1[2] |= 0xfull << 1;                        /* reserved length: the largest */
	vamdvi_dte_irt(l1, &base, &len);
	assert_int_equal(len, 16u << 11);
	l1[2] &= ~1ull;
	vamdvi_dte_irt(l1, &base, &len);
	assert_int_equal(len, 0);
	/* an I/O APIC's entry: V clear, IV set: DMA untranslated, interrupts remapped */
	uint64_t ioapic[4] = { 0, 0, 1 | 0xbull << 1 | 0x7000ull | 2ull << 60, 0 };
	vamdvi_dte_irt(ioapic, &base, &len);
	assert_int_equal(len, 16u << 11);
	vamdvi_compose_dte(ioapic, true, 0, 20, IDROOT, 1, true, out);
	assert_int_equal(out[0], ident0);
	assert_int_equal(out[2], ioapic[2]);
	vamdvi_compose_dte(ioapic, false, 0, 20, IDROOT, 1, true, out);
	assert_int_equal(out[2], 0);                 /* L1's unit off: nothing remapped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_copies_l1_pages),
		cmocka_unit_test(test_shadow_never_reaches_nestbed),
		cmocka_unit_test(test_shadow_splits_large_page),
		cmocka_unit_test(test_shadow_refuses_odd_tables),
		cmocka_unit_test(test_shadow_out_of_memory),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_cmd_decode),
		cmocka_unit_test(test_compose_dte),
	};
	return cmocka_run_group_tests_name("vamdvi", tests, NULL, NULL);
}
