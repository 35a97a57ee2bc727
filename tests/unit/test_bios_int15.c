/* covers: src/core/bios_int15.c src/core/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/bios_int15.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* The guest map of a 256 MiB qemu-svm run under nestbed (stub and nestbed carved). */
static const struct mem_range qemu_map[] = {
	{ 0x0, 0x9f000, MEM_USABLE },
	{ 0x9f000, 0x1000, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0xe900000, MEM_USABLE },
	{ 0xea00000, 0x1400000, MEM_NESTBED },
	{ 0xfe00000, 0x1e0000, MEM_USABLE },
	{ 0xffe0000, 0x20000, MEM_RESERVED },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
};
#define QEMU_N ((uint32_t)(sizeof(qemu_map) / sizeof(qemu_map[0])))

static struct bios_int15_regs e820(uint32_t ebx, uint32_t ecx)
{
	return (struct bios_int15_regs){ .eax = BIOS_E820_FUNCTION, .ebx = ebx, .ecx = ecx,
					 .edx = BIOS_E820_SMAP, .buffer = 0x7000 };
}

static void test_e820_walks_the_map(void **state)
{
	(void)state;
	uint32_t ebx = 0;
	for (uint32_t i = 0; i < QEMU_N; i++) {
		struct bios_int15_regs r = e820(ebx, 20);
		struct bios_e820_entry e;
		memset(&e, 0xa5, sizeof(e));
		assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 20);
		assert_false(r.cf);
		assert_int_equal(r.eax, BIOS_E820_SMAP);
		assert_int_equal(r.ecx, 20);
		assert_int_equal(e.base, qemu_map[i].base);
		assert_int_equal(e.length, qemu_map[i].length);
		assert_int_equal(e.type, qemu_map[i].type == MEM_NESTBED ? 2 : qemu_map[i].type);
		ebx = r.ebx;
		if (i + 1 < QEMU_N)
			assert_int_equal(ebx, i + 1);
	}
	assert_int_equal(ebx, 0); /* the last entry ends the walk */
}

static void test_e820_acpi3_attributes(void **state)
{
	(void)state;
	struct bios_int15_regs r = e820(4, 24);
	struct bios_e820_entry e;
	assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 24);
	assert_int_equal(r.ecx, 24);
	assert_int_equal(e.type, 2); /* nestbed's range: reserved */
	assert_int_equal(e.attributes, BIOS_E820_ATTR_ENABLED);
	r = e820(4, 4096); /* a bigger buffer still gets 24 bytes */
	assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 24);
	assert_int_equal(r.ecx, 24);
	assert_int_equal(sizeof(struct bios_e820_entry), 24);
}

static void expect_error(struct bios_int15_regs r)
{
	struct bios_e820_entry e;
	uint32_t eax = r.eax;
	assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 0);
	assert_true(r.cf);
	assert_int_equal((r.eax >> 8) & 0xff, BIOS_STATUS_UNSUPPORTED);
	assert_int_equal(r.eax & 0xffff00ffu, eax & 0xffff00ffu);
}

static void test_e820_errors(void **state)
{
	(void)state;
	struct bios_int15_regs r = e820(0, 20);
	r.edx = 0x50414d53; /* 'SMAP' the wrong way round */
	expect_error(r);
	expect_error(e820(0, 19));        /* a buffer under 20 bytes */
	expect_error(e820(QEMU_N, 20));   /* continuation past the end */
	expect_error(e820(0xffffffffu, 24));
	r = e820(0, 20);
	r.eax = 0x1234E820; /* E820h needs the upper word of EAX clear */
	expect_error(r);
}

static void test_function_of(void **state)
{
	(void)state;
	assert_int_equal(bios_int15_function_of(0xE820), BIOS_INT15_E820);
	assert_int_equal(bios_int15_function_of(0x0001E820), BIOS_INT15_OTHER);
	assert_int_equal(bios_int15_function_of(0xE801), BIOS_INT15_E801);
	assert_int_equal(bios_int15_function_of(0xABCDE801), BIOS_INT15_E801);
	assert_int_equal(bios_int15_function_of(0x8800), BIOS_INT15_88);
	assert_int_equal(bios_int15_function_of(0x12348842), BIOS_INT15_88);
	assert_int_equal(bios_int15_function_of(0xE881), BIOS_INT15_OTHER);
	assert_int_equal(bios_int15_function_of(0x2401), BIOS_INT15_OTHER); /* A20 */
	assert_int_equal(bios_int15_function_of(0xC000), BIOS_INT15_OTHER);
}

/* E801h and 88h describe the usable memory that runs on from 1 MiB: here up to
 * nestbed's range at 0xea00000 (234 MiB). */
static void test_e801_and_88(void **state)
{
	(void)state;
	struct bios_e820_entry e;
	struct bios_int15_regs r = { .eax = 0xE801, .ebx = 0xdead0000, .ecx = 0, .edx = 0x77770000 };
	assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 0);
	assert_false(r.cf);
	assert_int_equal(r.eax, 15 * 1024);
	assert_int_equal(r.ecx, 15 * 1024);
	assert_int_equal(r.ebx, 0xdead0000 | ((0xea00000 - 16 * MIB) / (64 * KIB)));
	assert_int_equal(r.edx, 0x77770000 | ((0xea00000 - 16 * MIB) / (64 * KIB)));

	r = (struct bios_int15_regs){ .eax = 0x8800 };
	assert_int_equal(bios_int15_answer(qemu_map, QEMU_N, &r, &e), 0);
	assert_false(r.cf);
	assert_int_equal(r.eax, 63 * 1024); /* capped as SeaBIOS caps it */

	/* a small machine: 8 MiB, two touching usable ranges above 1 MiB */
	const struct mem_range small[] = {
		{ 0, 0x9f000, MEM_USABLE },
		{ 0x100000, 0x300000, MEM_USABLE },
		{ 0x400000, 0x400000, MEM_USABLE },
		{ 0x800000, 0x1000, MEM_NESTBED },
		{ 0x801000, 0x10000000, MEM_USABLE },
	};
	r = (struct bios_int15_regs){ .eax = 0xE801 };
	bios_int15_answer(small, 5, &r, &e);
	assert_int_equal(r.eax, 7 * 1024);
	assert_int_equal(r.ebx, 0);
	r = (struct bios_int15_regs){ .eax = 0x88ff };
	bios_int15_answer(small, 5, &r, &e);
	assert_int_equal(r.eax, 7 * 1024);

	/* beyond 4 GiB: E801h stops at 4 GiB (0xff00 blocks above 16 MiB) */
	const struct mem_range big[] = { { 0x100000, 8 * GIB, MEM_USABLE } };
	r = (struct bios_int15_regs){ .eax = 0xE801 };
	bios_int15_answer(big, 1, &r, &e);
	assert_int_equal(r.eax, 15 * 1024);
	assert_int_equal(r.ebx, (4 * GIB - 16 * MIB) / (64 * KIB));
}

static void test_place(void **state)
{
	(void)state;
	uint64_t base, top;
	uint16_t kib;
	const uint64_t lots = 0x9fc00;
	assert_int_equal(bios_int15_place(639, lots, bios_int15_stub_size, &base, &top, &kib), 0);
	assert_int_equal(base, 0x9f000);
	assert_int_equal(top, 0x9fc00);
	assert_int_equal(kib, 636);
	assert_int_equal(bios_int15_place(640, 0xa0000, bios_int15_stub_size, &base, &top, &kib), 0);
	assert_int_equal(base, 0x9f000); /* the stub must fit below the top: the page below */
	assert_int_equal(kib, 636);
	assert_int_equal(bios_int15_place(640, 0xa0000, 4096, &base, &top, &kib), 0);
	assert_int_equal(base, 0x9f000);
	/* Bochs: the BDA says 639 KiB, E820 reserves from 0x9f000: the lower one counts */
	assert_int_equal(bios_int15_place(639, 0x9f000, bios_int15_stub_size, &base, &top, &kib), 0);
	assert_int_equal(base, 0x9e000);
	assert_int_equal(top, 0x9f000);
	assert_int_equal(kib, 632);
	assert_int_equal(bios_int15_place(641, lots, 16, &base, &top, &kib), -1); /* no BIOS says that */
	assert_int_equal(bios_int15_place(64, lots, 16, &base, &top, &kib), -1);  /* nothing to take */
	assert_int_equal(bios_int15_place(639, 0x10000, 16, &base, &top, &kib), -1);
	assert_int_equal(bios_int15_place(0, lots, 16, &base, &top, &kib), -1);
	assert_int_equal(bios_int15_place(0xffff, lots, 16, &base, &top, &kib), -1);
}

static void test_stub(void **state)
{
	(void)state;
	uint8_t svm[128], vmx[128];
	bios_int15_stub_build(svm, 0xf000f859u, true);
	bios_int15_stub_build(vmx, 0xf000f859u, false);
	const uint8_t vmmcall[] = BIOS_INT15_VMMCALL, vmcall[] = BIOS_INT15_VMCALL;
	assert_memory_equal(svm + bios_int15_stub_hypercall, vmmcall, 3);
	assert_memory_equal(vmx + bios_int15_stub_hypercall, vmcall, 3);
	const uint8_t old[] = { 0x59, 0xf8, 0x00, 0xf0 }; /* offset, then segment */
	assert_memory_equal(svm + BIOS_INT15_STUB_OLD_VECTOR, old, 4);
	/* the jump over the vector, and the far jump through it */
	assert_int_equal(svm[0], 0xeb);
	assert_int_equal(2 + svm[1], 6);
	const uint8_t chain[] = { 0x2e, 0xff, 0x2e, BIOS_INT15_STUB_OLD_VECTOR, 0 };
	assert_memory_equal(svm + 0x18, chain, sizeof(chain));
	/* both paths end in IRET; nothing else differs between the vendors */
	assert_int_equal(svm[bios_int15_stub_size - 1], 0xcf);
	for (uint32_t i = 0; i < bios_int15_stub_size; i++)
		if (i < bios_int15_stub_hypercall || i >= bios_int15_stub_hypercall + 3)
			assert_int_equal(svm[i], vmx[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_walks_the_map),
		cmocka_unit_test(test_e820_acpi3_attributes),
		cmocka_unit_test(test_e820_errors),
		cmocka_unit_test(test_function_of),
		cmocka_unit_test(test_e801_and_88),
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_stub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
