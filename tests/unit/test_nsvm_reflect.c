/* covers: src/nested/svm/nsvm_reflect.c */
/* "Does L1 want this exit" for nested AMD-V: VMCB12's intercept vectors and L1's permission
 * maps (APM vol.2 15.7-15.13, table B-1, appendix C). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/svm/nsvm_reflect.h"
#include "svm/vmcb.h"

#define EXIT_CR0_READ 0x00
#define EXIT_CR3_READ 0x03
#define EXIT_CR4_WRITE 0x14
#define EXIT_DR7_WRITE 0x37
#define EXIT_DR0_READ 0x20
#define EXIT_EXCP_PF (SVM_EXIT_EXCEPTION_BASE + 14)
#define EXIT_EXCP_UD (SVM_EXIT_EXCEPTION_BASE + 6)
#define EXIT_RDTSC 0x6e
#define EXIT_NPF 0x400
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_PG (1ull << 31)
#define CR0_PE 1ull
#define SEL_CR0 (1u << 5) /* intercept vector 3 bit 5: selective CR0 write */

static uint8_t iopm[12288], msrpm[8192];

static struct nsvm_exit_controls controls(void)
{
	struct nsvm_exit_controls c;
	memset(&c, 0, sizeof(c));
	memset(iopm, 0, sizeof(iopm));
	memset(msrpm, 0, sizeof(msrpm));
	c.iopm = iopm;
	c.msrpm = msrpm;
	return c;
}

static bool wants(const struct nsvm_exit_controls *c, uint32_t code)
{
	struct nsvm_exit_event e = { .code = code };
	return nsvm_l1_wants_exit(c, &e);
}

static bool io(const struct nsvm_exit_controls *c, uint16_t port, unsigned size)
{
	struct nsvm_exit_event e = { .code = SVM_EXIT_IOIO, .port = port, .io_size = size };
	return nsvm_l1_wants_exit(c, &e);
}

static bool msr(const struct nsvm_exit_controls *c, uint32_t index, bool write)
{
	struct nsvm_exit_event e = { .code = SVM_EXIT_MSR, .msr = index, .msr_write = write };
	return nsvm_l1_wants_exit(c, &e);
}

static void test_cr_dr_vectors(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	assert_false(wants(&c, EXIT_CR0_READ));
	assert_false(wants(&c, SVM_EXIT_CR0_WRITE));
	c.intercept_cr = 1u << 3; /* CR3 reads */
	assert_true(wants(&c, EXIT_CR3_READ));
	assert_false(wants(&c, EXIT_CR0_READ));
	assert_false(wants(&c, 0x13)); /* CR3 write */
	c.intercept_cr = SVM_INTERCEPT_CR0_WRITE | (1u << 20);
	assert_true(wants(&c, SVM_EXIT_CR0_WRITE));
	assert_true(wants(&c, EXIT_CR4_WRITE));
	assert_false(wants(&c, EXIT_CR3_READ));
	/* DR reads 0x20-0x2f, writes 0x30-0x3f: intercept_dr bit (code - 0x20) */
	c.intercept_dr = 1u << (EXIT_DR7_WRITE - 0x20);
	assert_true(wants(&c, EXIT_DR7_WRITE));
	assert_false(wants(&c, EXIT_DR0_READ));
	c.intercept_dr = 1;
	assert_true(wants(&c, EXIT_DR0_READ));
	/* the DR vector is not the CR vector */
	c.intercept_cr = 0xffffffffu;
	c.intercept_dr = 0;
	assert_false(wants(&c, EXIT_DR7_WRITE));
}

static void test_exceptions(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	assert_false(wants(&c, EXIT_EXCP_PF));
	c.intercept_exceptions = 1u << 14;
	assert_true(wants(&c, EXIT_EXCP_PF));
	assert_false(wants(&c, EXIT_EXCP_UD));
	c.intercept_exceptions = 1u << 31;
	assert_true(wants(&c, SVM_EXIT_EXCEPTION_BASE + 31));
	assert_false(wants(&c, SVM_EXIT_EXCEPTION_BASE + 30));
}

static void test_misc_vectors(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	/* nestbed intercepts CPUID, HLT, INTR, ... for itself: L1 gets them only by its bits */
	assert_false(wants(&c, SVM_EXIT_CPUID));
	assert_false(wants(&c, SVM_EXIT_HLT));
	assert_false(wants(&c, SVM_EXIT_INTR));
	assert_false(wants(&c, SVM_EXIT_VMRUN));
	c.intercept_misc1 = SVM_INTERCEPT_CPUID;
	assert_true(wants(&c, SVM_EXIT_CPUID));
	assert_false(wants(&c, SVM_EXIT_HLT));
	c.intercept_misc1 = SVM_INTERCEPT_HLT | SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI |
			    SVM_INTERCEPT_SHUTDOWN | (1u << 14); /* RDTSC is bit 14 (0x6e) */
	assert_true(wants(&c, SVM_EXIT_HLT));
	assert_true(wants(&c, SVM_EXIT_INTR));
	assert_true(wants(&c, SVM_EXIT_NMI));
	assert_true(wants(&c, SVM_EXIT_SHUTDOWN));
	assert_true(wants(&c, EXIT_RDTSC));
	assert_false(wants(&c, SVM_EXIT_INIT));
	c.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_CLGI;
	assert_true(wants(&c, SVM_EXIT_VMRUN));
	assert_true(wants(&c, SVM_EXIT_CLGI));
	assert_false(wants(&c, SVM_EXIT_STGI));
	assert_false(wants(&c, SVM_EXIT_VMMCALL));
	/* vector 4 is not vector 3 */
	c.intercept_misc1 = 0xffffffffu & ~(SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR);
	c.intercept_misc2 = 0;
	assert_false(wants(&c, SVM_EXIT_VMMCALL));
	/* NPF and codes past vector 4: never by the intercept bits (the nested NPT decides) */
	c.intercept_misc2 = 0xffffffffu;
	assert_false(wants(&c, EXIT_NPF));
	assert_false(wants(&c, 0xa0));
}

static void test_iopm(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	iopm[0x3f8 / 8] = 1u << (0x3f8 % 8);
	assert_false(io(&c, 0x3f8, 1)); /* IOIO_PROT clear: the map is not consulted */
	c.intercept_misc1 = SVM_INTERCEPT_IOIO;
	assert_true(io(&c, 0x3f8, 1));
	assert_false(io(&c, 0x3f9, 1));
	assert_false(io(&c, 0x3f0, 4));
	/* a wider access is intercepted when any of its bytes' bits is set (15.10.1) */
	assert_true(io(&c, 0x3f5, 4));
	assert_true(io(&c, 0x3f7, 2));
	/* past 0xffff: the map's bits for 10000h and up (its third page) */
	assert_false(io(&c, 0xfffe, 4));
	iopm[0x10001 / 8] = 1u << (0x10001 % 8);
	assert_true(io(&c, 0xfffe, 4));
	assert_false(io(&c, 0xfffe, 2));
	/* no map (L1's is not its memory): not L1's */
	c.iopm = NULL;
	assert_false(io(&c, 0x3f8, 1));
}

static void test_msrpm_bits(void **state)
{
	(void)state;
	/* APM vol.2 15.11: 0000_0000-0000_1FFF at byte 0, C000_0000-C000_1FFF at 800h,
	 * C001_0000-C001_1FFF at 1000h; two bits per MSR, read then write */
	assert_int_equal(nsvm_msrpm_bit(0, false), 0);
	assert_int_equal(nsvm_msrpm_bit(0, true), 1);
	assert_int_equal(nsvm_msrpm_bit(0x1fff, true), 0x1fff * 2 + 1);
	assert_int_equal(nsvm_msrpm_bit(0xc0000080u, false), 0x800 * 8 + 0x80 * 2);
	assert_int_equal(nsvm_msrpm_bit(0xc0010117u, true), 0x1000 * 8 + 0x117 * 2 + 1);
	assert_int_equal(nsvm_msrpm_bit(0xc0011fffu, true), 0x1800 * 8 - 1);
	assert_int_equal(nsvm_msrpm_bit(0x2000, false), -1);
	assert_int_equal(nsvm_msrpm_bit(0xbfffffffu, false), -1);
	assert_int_equal(nsvm_msrpm_bit(0xc0002000u, false), -1);
	assert_int_equal(nsvm_msrpm_bit(0xc000ffffu, false), -1);
	assert_int_equal(nsvm_msrpm_bit(0xc0012000u, true), -1);
	assert_int_equal(nsvm_msrpm_bit(0xffffffffu, true), -1);
}

static void test_msrpm(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	uint32_t efer_write = 0x800 * 8 + 0x80 * 2 + 1;
	msrpm[efer_write / 8] |= 1u << (efer_write % 8);
	assert_false(msr(&c, 0xc0000080u, true)); /* MSR_PROT clear */
	c.intercept_misc1 = SVM_INTERCEPT_MSR;
	assert_true(msr(&c, 0xc0000080u, true));
	assert_false(msr(&c, 0xc0000080u, false));
	assert_false(msr(&c, 0xc0000081u, true));
	assert_false(msr(&c, 0x80, true)); /* the same offset in the first range */
	/* outside the three ranges: always intercepted */
	assert_true(msr(&c, 0x4b564d00u, false));
	assert_true(msr(&c, 0x2000, true));
	assert_true(nsvm_msrpm_exits(msrpm, 0xc0002000u, false));
	c.msrpm = NULL;
	assert_false(msr(&c, 0xc0000080u, true));
}

static bool for_l1(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e, uint32_t *code)
{
	*code = 0xdead;
	return nsvm_exit_for_l1(c, e, code);
}

/* The decision as the APM lists it (15.7-15.13, one rule per range), the reference
 * the lookup in nsvm_l1_wants_exit must match for every code and vector value. */
static bool reference_wants(const struct nsvm_exit_controls *c, uint32_t code)
{
	if (code < 0x20)
		return (c->intercept_cr >> code) & 1;
	if (code < 0x40)
		return (c->intercept_dr >> (code - 0x20)) & 1;
	if (code < 0x60)
		return (c->intercept_exceptions >> (code - 0x40)) & 1;
	if (code == SVM_EXIT_IOIO || code == SVM_EXIT_MSR)
		return false; /* no maps below: never */
	if (code < 0x80)
		return (c->intercept_misc1 >> (code - 0x60)) & 1;
	if (code < 0xa0)
		return (c->intercept_misc2 >> (code - 0x80)) & 1;
	return false;
}

static void test_lookup_matches_reference(void **state)
{
	(void)state;
	uint32_t x = 0x12345679u;
	for (unsigned round = 0; round < 200; round++) {
		struct nsvm_exit_controls c = controls();
		c.iopm = c.msrpm = NULL;
		for (unsigned i = 0; i < NSVM_INTERCEPT_VECTORS; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
			c.vec[i] = round == 0 ? 0xffffffffu : round == 1 ? 0 : x;
		}
		for (uint32_t code = 0; code < 0x500; code++) {
			assert_int_equal(wants(&c, code), reference_wants(&c, code));
			/* the fast path the exit takes: the bit alone, the code unchanged */
			if (nsvm_exit_needs_event(code))
				continue;
			struct nsvm_exit_event ev = { .code = code };
			uint32_t code12 = 0xdead;
			bool full = nsvm_exit_for_l1(&c, &ev, &code12);
			assert_int_equal(full, nsvm_intercepted(&c, code));
			if (full)
				assert_int_equal(code12, code);
		}
		assert_false(wants(&c, 0xffffffffu));
	}
}

static void test_vmmcall_ud(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	struct nsvm_exit_event e = { .code = SVM_EXIT_VMMCALL };
	uint32_t code;
	assert_false(for_l1(&c, &e, &code));
	/* L1 intercepts #UD but not VMMCALL: the #UD the instruction raises in L2 */
	c.intercept_exceptions = 1u << 6;
	assert_true(for_l1(&c, &e, &code));
	assert_int_equal(code, EXIT_EXCP_UD);
	/* L1 intercepts VMMCALL: that exit */
	c.intercept_misc2 = SVM_INTERCEPT_VMMCALL;
	assert_true(for_l1(&c, &e, &code));
	assert_int_equal(code, SVM_EXIT_VMMCALL);
	/* other instructions nestbed takes are not turned into #UD */
	e.code = SVM_EXIT_CPUID;
	assert_false(for_l1(&c, &e, &code));
	e.code = SVM_EXIT_HLT;
	assert_false(for_l1(&c, &e, &code));
}

static void test_selective_cr0(void **state)
{
	(void)state;
	struct nsvm_exit_controls c = controls();
	uint32_t code;
	struct nsvm_exit_event e = { .code = SVM_EXIT_CR0_WRITE, .cr0_insn = NSVM_CR0_INSN_MOV,
				     .cr0_old = CR0_PE, .cr0_new = CR0_PE | CR0_PG };
	assert_false(nsvm_needs_cr0_insn(&c, SVM_EXIT_CR0_WRITE));
	assert_false(for_l1(&c, &e, &code));
	c.intercept_misc1 = SEL_CR0;
	assert_true(nsvm_needs_cr0_insn(&c, SVM_EXIT_CR0_WRITE));
	assert_false(nsvm_needs_cr0_insn(&c, EXIT_CR4_WRITE));
	assert_true(for_l1(&c, &e, &code));
	assert_int_equal(code, SVM_EXIT_CR0_SEL_WRITE);
	/* TS and MP alone: no selective exit (15.9) */
	e.cr0_new = CR0_PE | CR0_TS | CR0_MP;
	assert_false(for_l1(&c, &e, &code));
	e.cr0_old = CR0_PE | CR0_TS;
	e.cr0_new = CR0_PE;
	assert_false(for_l1(&c, &e, &code));
	e.cr0_new = 0;
	assert_true(for_l1(&c, &e, &code));
	/* LMSW always, CLTS never, an undecoded instruction never */
	e.cr0_insn = NSVM_CR0_INSN_LMSW;
	e.cr0_new = e.cr0_old;
	assert_true(for_l1(&c, &e, &code));
	assert_int_equal(code, SVM_EXIT_CR0_SEL_WRITE);
	e.cr0_insn = NSVM_CR0_INSN_CLTS;
	assert_false(for_l1(&c, &e, &code));
	e.cr0_insn = NSVM_CR0_INSN_UNKNOWN;
	e.cr0_new = 0;
	assert_false(for_l1(&c, &e, &code));
	/* the full CR0-write intercept wins: exit 0x10, and no decoding needed */
	c.intercept_cr = SVM_INTERCEPT_CR0_WRITE;
	assert_false(nsvm_needs_cr0_insn(&c, SVM_EXIT_CR0_WRITE));
	e.cr0_insn = NSVM_CR0_INSN_MOV;
	e.cr0_new = CR0_PE | CR0_TS;
	assert_true(for_l1(&c, &e, &code));
	assert_int_equal(code, SVM_EXIT_CR0_WRITE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cr_dr_vectors),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_misc_vectors),
		cmocka_unit_test(test_iopm),
		cmocka_unit_test(test_msrpm_bits),
		cmocka_unit_test(test_msrpm),
		cmocka_unit_test(test_vmmcall_ud),
		cmocka_unit_test(test_lookup_matches_reference),
		cmocka_unit_test(test_selective_cr0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
