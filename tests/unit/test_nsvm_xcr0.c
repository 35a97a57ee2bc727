/* covers: src/nested/svm/nsvm_xcr0.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nested/svm/nsvm_xcr0.h"

#define XCR0_X87_SSE 0x3ull
#define XCR0_X87_SSE_AVX 0x7ull

static void change_under_the_intercept_is_reported_once(void **state)
{
	(void)state;
	struct nsvm_xcr0_watch w = { 0 };
	nsvm_xcr0_arm(&w, true, NSVM_INTERCEPT_XSETBV, XCR0_X87_SSE);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE)); /* unchanged: nothing */
	assert_true(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE_AVX));
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE)); /* once per vCPU */
	nsvm_xcr0_arm(&w, true, NSVM_INTERCEPT_XSETBV, XCR0_X87_SSE);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE_AVX));
}

static void l1_own_xsetbv_between_vmruns_is_no_change(void **state)
{
	(void)state;
	struct nsvm_xcr0_watch w = { 0 };
	nsvm_xcr0_arm(&w, true, NSVM_INTERCEPT_XSETBV, XCR0_X87_SSE);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE));
	/* L1 handled the exit and set XCR0 itself: the next VMRUN watches the new value */
	nsvm_xcr0_arm(&w, true, NSVM_INTERCEPT_XSETBV, XCR0_X87_SSE_AVX);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE_AVX));
}

static void no_intercept_or_no_host_xsave_is_not_watched(void **state)
{
	(void)state;
	struct nsvm_xcr0_watch w = { 0 };
	/* L1 lets its guest set XCR0: L2's own business, and L1's after the exit */
	nsvm_xcr0_arm(&w, true, (1u << 12) | (1u << 14), XCR0_X87_SSE);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE_AVX));
	/* no CR4.OSXSAVE in nestbed: XCR0 is not read at all */
	nsvm_xcr0_arm(&w, false, NSVM_INTERCEPT_XSETBV, 0);
	assert_false(w.armed);
	assert_false(nsvm_xcr0_changed_unseen(&w, XCR0_X87_SSE_AVX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(change_under_the_intercept_is_reported_once),
		cmocka_unit_test(l1_own_xsetbv_between_vmruns_is_no_change),
		cmocka_unit_test(no_intercept_or_no_host_xsave_is_not_watched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
