/* covers: src/svm/svm_exit.c src/core/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "svm/svm.h"
#include "svm/svm_exit_decode.h"

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

/* The decoder stores the fields one by one: nothing of a previous exit may survive in
 * the struct (filled with 0xff here), whatever the kind. */
static void test_no_stale_fields(void **state)
{
	(void)state;
	struct exit e;
	memset(&vmcb, 0, sizeof(vmcb));
	memset(&e, 0xff, sizeof(e));
	vmcb.control.exitcode = SVM_EXIT_CPUID;
	vmcb.save.rip = 0x1000;
	vmcb.control.next_rip = 0x1002; /* ignored without NRIPS */
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.kind, EXIT_CPUID);
	assert_int_equal(e.insn_len, 0);
	assert_int_equal(e.info1, 0);
	assert_int_equal(e.info2, 0);
	assert_int_equal(e.intr_info, 0);
	assert_int_equal(e.error_code, 0);
	memset(&e, 0xff, sizeof(e));
	vmcb.control.exitcode = SVM_EXIT_EXCEPTION_BASE + 14;
	vmcb.control.exitinfo1 = 2;
	svm_exit_decode(&vmcb, true, 0, &e);
	assert_int_equal(e.kind, EXIT_EXCEPTION);
	assert_int_equal(e.u.exception.vector, 14);
	assert_false(e.u.exception.has_error_code);
	assert_int_equal(e.u.exception.error_code, 2);
	assert_int_equal(e.insn_len, 0);
	memset(&e, 0xff, sizeof(e));
	vmcb.control.exitcode = 0x7e; /* FERR_FREEZE (APM vol.2 C): no neutral kind */
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.kind, EXIT_OTHER);
	assert_int_equal(e.insn_len, 0);
	vmcb.control.exitcode = 0x200; /* no such code below NPF */
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.kind, EXIT_OTHER);
}

/* IOIO: EXITINFO2 is the next RIP even without NRIPS (APM vol.2 15.10.2), so IN/OUT are
 * never decoded; the size bits SZ8/SZ16/SZ32 give the size. */
static void test_ioio_length_without_nrips(void **state)
{
	(void)state;
	struct exit e;
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.control.exitcode = SVM_EXIT_IOIO;
	vmcb.save.rip = 0x7ffe;
	/* OUT DX, AL to 0x8900 (a byte): port 31:16, SZ8 bit 4, IN bit 0 clear */
	vmcb.control.exitinfo1 = (0x8900u << 16) | (1u << 4);
	vmcb.control.exitinfo2 = 0x7fff;
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.kind, EXIT_IO);
	assert_int_equal(e.u.io.port, 0x8900);
	assert_int_equal(e.u.io.size, 1);
	assert_false(e.u.io.in);
	assert_int_equal(e.insn_len, 1);
	/* IN EAX from a port with two prefixes: length 3 */
	vmcb.control.exitinfo1 = (0x60u << 16) | (1u << 6) | 1u;
	vmcb.control.exitinfo2 = 0x8001;
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.u.io.size, 4);
	assert_true(e.u.io.in);
	assert_int_equal(e.insn_len, 3);
	vmcb.control.exitinfo1 = (0x60u << 16) | (1u << 5);
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.u.io.size, 2);
	/* an implausible next RIP (behind RIP, or more than 15 bytes on): unknown, decoded */
	vmcb.control.exitinfo2 = 0x7ffe;
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.insn_len, 0);
	vmcb.control.exitinfo2 = 0x7ffe + 16;
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.insn_len, 0);
	vmcb.control.exitinfo2 = 0x7ffe + 15;
	svm_exit_decode(&vmcb, false, 0, &e);
	assert_int_equal(e.insn_len, 15);
}

/* MSR: EXITINFO1 0 read, 1 write (APM vol.2 15.11); the number is the guest's RCX. */
static void test_msr(void **state)
{
	(void)state;
	struct exit e;
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.control.exitcode = SVM_EXIT_MSR;
	svm_exit_decode(&vmcb, false, 0xC0000080u, &e);
	assert_int_equal(e.kind, EXIT_MSR_READ);
	assert_int_equal(e.u.msr, 0xC0000080u);
	vmcb.control.exitinfo1 = 1;
	svm_exit_decode(&vmcb, false, 0x1234567800000010ull, &e);
	assert_int_equal(e.kind, EXIT_MSR_WRITE);
	assert_int_equal(e.u.msr, 0x10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_and_the_trace_fields),
		cmocka_unit_test(test_exitintinfo),
		cmocka_unit_test(test_no_stale_fields),
		cmocka_unit_test(test_ioio_length_without_nrips),
		cmocka_unit_test(test_msr),
	};
	return cmocka_run_group_tests_name("svm_exit", tests, NULL, NULL);
}
