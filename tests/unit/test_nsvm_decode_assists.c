/* covers: src/nested/svm/decode_assists.c src/core/insn_decode.c */
/* The DecodeAssists values nestbed computes for L1 (APM vol.2 15.33) from real
 * encodings run through nestbed's decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nested/svm/decode_assists.h"

#define RAX 0
#define RCX 1
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define R9 9

static struct insn decode(enum insn_mode mode, const uint8_t *bytes, size_t len)
{
	struct insn insn;
	assert_int_equal(insn_decode(bytes, len, mode, INSN_VENDOR_AMD, &insn), 0);
	assert_int_equal(insn.length, len);
	return insn;
}
#define DECODE(mode, ...)                                                        \
	({                                                                       \
		static const uint8_t b_[] = { __VA_ARGS__ };                     \
		decode((mode), b_, sizeof(b_));                                  \
	})

static void test_cr_dr(void **state)
{
	(void)state;
	struct insn i = DECODE(INSN_MODE_LONG64, 0x0f, 0x22, 0xc3); /* mov %rbx, %cr0 */
	assert_int_equal(da_cr_dr_info1(&i), DA_CR_MOV | RBX);
	i = DECODE(INSN_MODE_LONG64, 0x41, 0x0f, 0x20, 0xd9);       /* mov %cr3, %r9 */
	assert_int_equal(da_cr_dr_info1(&i), DA_CR_MOV | R9);
	i = DECODE(INSN_MODE_LONG64, 0x44, 0x0f, 0x20, 0xc0);       /* mov %cr8, %rax */
	assert_int_equal(da_cr_dr_info1(&i), DA_CR_MOV | RAX);
	i = DECODE(INSN_MODE_PROT32, 0xf0, 0x0f, 0x22, 0xc1);       /* lock mov %ecx, %cr0 (CR8) */
	assert_int_equal(da_cr_dr_info1(&i), DA_CR_MOV | RCX);
	/* MOV DR: the register, bit 63 clear (table 15-3) */
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x23, 0xfb);             /* mov %rbx, %dr7 */
	assert_int_equal(da_cr_dr_info1(&i), RBX);
	i = DECODE(INSN_MODE_LONG64, 0x41, 0x0f, 0x21, 0xf9);       /* mov %dr7, %r9 */
	assert_int_equal(da_cr_dr_info1(&i), R9);
	/* LMSW, CLTS and SMSW: bit 63 clear, no register */
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0xf3);             /* lmsw %bx */
	assert_int_equal(da_cr_dr_info1(&i), 0);
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x06);                   /* clts */
	assert_int_equal(da_cr_dr_info1(&i), 0);
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0xe0);             /* smsw %eax */
	assert_int_equal(da_cr_dr_info1(&i), 0);
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0xa2);                   /* cpuid: not a CR access */
	assert_int_equal(da_cr_dr_info1(&i), 0);
}

static struct da_cpu cpu64(void)
{
	struct da_cpu c = { .long64 = true, .rip = 0x400000 };
	for (unsigned r = 0; r < 16; r++)
		c.gpr[r] = 0x1111ull * (r + 1);
	for (unsigned s = 0; s < DA_SEG_COUNT; s++)
		c.seg_base[s] = 0x10000000ull * (s + 1);
	return c;
}

static uint64_t linear(const struct insn *i, const struct da_cpu *c)
{
	uint64_t la = 0xdead;
	assert_int_equal(da_modrm_linear(i, c, &la), 0);
	return la;
}

static void test_invlpg_long(void **state)
{
	(void)state;
	struct da_cpu c = cpu64();
	c.gpr[RAX] = 0x234000;
	struct insn i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0x38); /* invlpg (%rax) */
	assert_int_equal(i.kind, INSN_KIND_INVLPG);
	assert_int_equal(linear(&i, &c), 0x234000);                /* DS base ignored */
	/* invlpg 0x10(%rbx,%rcx,4) */
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0x7c, 0x8b, 0x10);
	assert_int_equal(linear(&i, &c), c.gpr[RBX] + 4 * c.gpr[RCX] + 0x10);
	/* invlpg %fs:-8(%rax): FS keeps its base in 64-bit mode */
	i = DECODE(INSN_MODE_LONG64, 0x64, 0x0f, 0x01, 0x78, 0xf8);
	assert_int_equal(linear(&i, &c), c.seg_base[DA_SEG_FS] + 0x234000 - 8);
	/* invlpg 0x100(%rip): RIP of the next instruction */
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0x3d, 0x00, 0x01, 0x00, 0x00);
	assert_true(i.rip_relative);
	assert_int_equal(linear(&i, &c), 0x400000 + 7 + 0x100);
	/* invlpg (%eax) with 67h: the address is cut to 32 bits */
	c.gpr[RAX] = 0x100001000ull;
	i = DECODE(INSN_MODE_LONG64, 0x67, 0x0f, 0x01, 0x38);
	assert_int_equal(linear(&i, &c), 0x1000);
	/* invlpg (%r12): SIB base 100b with REX.B is R12, not RSP */
	i = DECODE(INSN_MODE_LONG64, 0x41, 0x0f, 0x01, 0x3c, 0x24);
	assert_int_equal(linear(&i, &c), c.gpr[12]);
	/* invlpg 0x1234(,%rsi,8): no base */
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0x3c, 0xf5, 0x34, 0x12, 0x00, 0x00);
	assert_int_equal(linear(&i, &c), 8 * c.gpr[RSI] + 0x1234);
	/* a register operand has no address */
	uint64_t la;
	i = DECODE(INSN_MODE_LONG64, 0x0f, 0x01, 0xf3);             /* lmsw %bx */
	assert_int_equal(da_modrm_linear(&i, &c, &la), -1);
}

static void test_invlpg_legacy(void **state)
{
	(void)state;
	struct da_cpu c = cpu64();
	c.long64 = false;
	/* 32-bit: invlpg 8(%ebp) goes through SS; the sum wraps at 4 GiB */
	c.gpr[RBP] = 0xfffffff8;
	c.seg_base[DA_SEG_SS] = 0x100;
	struct insn i = DECODE(INSN_MODE_PROT32, 0x0f, 0x01, 0x7d, 0x08);
	assert_int_equal(da_operand_segment(&i), DA_SEG_SS);
	assert_int_equal(linear(&i, &c), 0x100);
	/* invlpg 4(%esp): SS too (SIB base ESP) */
	c.gpr[RSP] = 0x7000;
	i = DECODE(INSN_MODE_PROT32, 0x0f, 0x01, 0x7c, 0x24, 0x04);
	assert_int_equal(da_operand_segment(&i), DA_SEG_SS);
	assert_int_equal(linear(&i, &c), 0x100 + 0x7004);
	/* invlpg 0x5000 (disp32 alone): DS */
	c.seg_base[DA_SEG_DS] = 0x20000;
	i = DECODE(INSN_MODE_PROT32, 0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00);
	assert_int_equal(da_operand_segment(&i), DA_SEG_DS);
	assert_int_equal(linear(&i, &c), 0x25000);
	/* 16-bit: invlpg [bp+si+4] is SS-based and wraps at 64 KiB */
	c.gpr[RBP] = 0xfff0;
	c.gpr[RSI] = 0x20;
	c.seg_base[DA_SEG_SS] = 0x20000;
	i = DECODE(INSN_MODE_REAL16, 0x0f, 0x01, 0x7a, 0x04);
	assert_int_equal(da_operand_segment(&i), DA_SEG_SS);
	assert_int_equal(linear(&i, &c), 0x20000 + 0x14);
	/* invlpg [0x1234] (mod 0, rm 110b): a bare disp16 through DS */
	i = DECODE(INSN_MODE_REAL16, 0x0f, 0x01, 0x3e, 0x34, 0x12);
	assert_int_equal(da_operand_segment(&i), DA_SEG_DS);
	assert_int_equal(linear(&i, &c), 0x20000 + 0x1234);
	/* invlpg es:[bx+di] */
	c.gpr[RBX] = 0x100;
	c.gpr[7] = 0x10;
	c.seg_base[DA_SEG_ES] = 0x30000;
	i = DECODE(INSN_MODE_REAL16, 0x26, 0x0f, 0x01, 0x39);
	assert_int_equal(da_operand_segment(&i), DA_SEG_ES);
	assert_int_equal(linear(&i, &c), 0x30110);
}

static void test_intn(void **state)
{
	(void)state;
	struct insn i;
	i = DECODE(INSN_MODE_LONG64, 0xcd, 0x81);                   /* int $0x81 */
	assert_int_equal(da_intn_info1(&i), 0x81);
	i = DECODE(INSN_MODE_REAL16, 0xcd, 0x10);
	assert_int_equal(da_intn_info1(&i), 0x10);
	i = DECODE(INSN_MODE_LONG64, 0xcc);                         /* int3 is not INTn */
	assert_int_equal(da_intn_info1(&i), 0);
}

static void test_ioio_segment(void **state)
{
	(void)state;
	struct insn i = DECODE(INSN_MODE_LONG64, 0x6e);             /* outsb: DS */
	assert_int_equal(da_ioio_seg_bits(&i), (uint64_t)DA_SEG_DS << DA_IOIO_SEG_SHIFT);
	i = DECODE(INSN_MODE_LONG64, 0x64, 0xf3, 0x6f);             /* rep outsl %fs:(%rsi) */
	assert_int_equal(da_ioio_seg_bits(&i), (uint64_t)DA_SEG_FS << DA_IOIO_SEG_SHIFT);
	i = DECODE(INSN_MODE_REAL16, 0x2e, 0x6e);                   /* outsb cs:[si] */
	assert_int_equal(da_ioio_seg_bits(&i), (uint64_t)DA_SEG_CS << DA_IOIO_SEG_SHIFT);
	i = DECODE(INSN_MODE_LONG64, 0x64, 0x6c);                   /* insb: ES, no override */
	assert_int_equal(da_ioio_seg_bits(&i), (uint64_t)DA_SEG_ES << DA_IOIO_SEG_SHIFT);
	assert_int_equal(DA_IOIO_SEG_MASK, 0x1c00);
}

static void test_insn_bytes_rule(void **state)
{
	(void)state;
	assert_true(da_exit_has_insn_bytes(DA_EXIT_PF, 0x2));          /* #PF, data write */
	assert_false(da_exit_has_insn_bytes(DA_EXIT_PF, 0x11));        /* #PF on a fetch */
	assert_true(da_exit_has_insn_bytes(DA_EXIT_NPF, 0x100000004ull));
	assert_true(da_exit_has_insn_bytes(DA_EXIT_NPF, 0x200000007ull)); /* guest walk */
	assert_false(da_exit_has_insn_bytes(DA_EXIT_NPF, 0x100000015ull));
	assert_false(da_exit_has_insn_bytes(0x4d, 0));                   /* #GP */
	assert_false(da_exit_has_insn_bytes(0x79, 0));                   /* INVLPG */
}

/* the one-bit-test prefilter says yes exactly for the exits 15.33 gives something */
static void test_may_assist(void **state)
{
	(void)state;
	for (uint32_t code = 0; code < 0x1000; code++) {
		bool expect = code <= 0x3f || code == 0x4e || code == 0x65 || code == 0x75 ||
			      code == 0x79 || code == 0x7b || code == 0x400;
		assert_int_equal(da_exit_may_assist(code), expect);
	}
	assert_false(da_exit_may_assist(0x72));        /* CPUID */
	assert_false(da_exit_may_assist(0xffffffffu)); /* VMEXIT_INVALID */
}

static void test_insn_bytes_cs_limit(void **state)
{
	(void)state;
	assert_int_equal(da_insn_bytes_within_cs(true, 0, 0xffffffff00001000ull), 15); /* no limit */
	assert_int_equal(da_insn_bytes_within_cs(false, 0xffffffff, 0x1000), 15);
	assert_int_equal(da_insn_bytes_within_cs(false, 0xffff, 0xfff8), 8);   /* 0xfff8..0xffff */
	assert_int_equal(da_insn_bytes_within_cs(false, 0xffff, 0xffff), 1);
	assert_int_equal(da_insn_bytes_within_cs(false, 0xffff, 0x10000), 0);  /* beyond it */
	assert_int_equal(da_insn_bytes_within_cs(false, 0xffffffff, 0xfffffffa), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cr_dr),
		cmocka_unit_test(test_invlpg_long),
		cmocka_unit_test(test_invlpg_legacy),
		cmocka_unit_test(test_intn),
		cmocka_unit_test(test_ioio_segment),
		cmocka_unit_test(test_insn_bytes_rule),
		cmocka_unit_test(test_insn_bytes_cs_limit),
		cmocka_unit_test(test_may_assist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
