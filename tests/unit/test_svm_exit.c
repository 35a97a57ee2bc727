/* covers: src/svm/svm_exit.c src/core/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "svm/svm.h"

static struct vmcb vmcb;

static void test_cpuid_and_the_trace_fields(void **state)
{
	(void)state;
	struct exit e;
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.control.exitcode = SVM_EXIT_CPUID;
	vmcb.save.rip = 0x1000;
	vmcb.control.next_rip = 0x1002;
	svm_decode_exit(&vmcb, true, &e);
	assert_int_equal(e.kind, EXIT_CPUID);
	assert_int_equal(e.native_code, 0x72);
	assert_int_equal(e.insn_len, 2);
	assert_int_equal(e.intr_info, 0);
	assert_int_equal(e.error_code, 0);
}

/* EXITINTINFO (APM 15.7.2): the event being delivered when the exit came; its error
 * code (bits 63:32) counts only when valid (31) and error-valid (11) are both set. */
static void test_exitintinfo(void **state)
{
	(void)state;
	struct exit e;
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.control.exitcode = SVM_EXIT_NPF;
	vmcb.control.exitinfo1 = 0x100000006ull;
	vmcb.control.exitinfo2 = 0xfee00000;
	vmcb.control.exitintinfo = 0x0000001c80000b0eull; /* #PF delivery, error code 0x1c */
	svm_decode_exit(&vmcb, false, &e);
	assert_int_equal(e.kind, EXIT_TDP_FAULT);
	assert_int_equal(e.info1, 0x100000006ull);
	assert_int_equal(e.info2, 0xfee00000);
	assert_int_equal(e.intr_info, 0x80000b0e);
	assert_int_equal(e.error_code, 0x1c);
	vmcb.control.exitintinfo = 0x0000001c00000b0eull; /* not valid */
	svm_decode_exit(&vmcb, false, &e);
	assert_int_equal(e.intr_info, 0xb0e);
	assert_int_equal(e.error_code, 0);
	vmcb.control.exitintinfo = 0x0000001c80000020ull; /* an interrupt: no error code */
	svm_decode_exit(&vmcb, false, &e);
	assert_int_equal(e.intr_info, 0x80000020);
	assert_int_equal(e.error_code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_and_the_trace_fields),
		cmocka_unit_test(test_exitintinfo),
	};
	return cmocka_run_group_tests_name("svm_exit", tests, NULL, NULL);
}
