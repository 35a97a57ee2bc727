/* covers: guests/lib/mhv_decode.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/mhv_backend.h"
#include "lib/svm.h"
#include "lib/vmx.h"

static struct mhv_exit svm_exit(uint64_t code, uint64_t info1, uint64_t info2)
{
	struct mhv_exit e = { .exitcode = code, .exitinfo1 = info1, .exitinfo2 = info2 };
	mhv_decode_svm(&e);
	return e;
}

static struct mhv_exit vmx_exit(uint32_t reason, uint64_t qualification)
{
	struct mhv_exit e = { .reason = reason, .qualification = qualification };
	mhv_decode_vmx(&e);
	return e;
}

static void test_svm_simple_kinds(void **state)
{
	(void)state;
	assert_int_equal(svm_exit(SVM_EXIT_CPUID, 0, 0).kind, MHV_EXIT_CPUID);
	assert_int_equal(svm_exit(SVM_EXIT_HLT, 0, 0).kind, MHV_EXIT_HLT);
	assert_int_equal(svm_exit(SVM_EXIT_RDTSCP, 0, 0).kind, MHV_EXIT_RDTSCP);
	assert_int_equal(svm_exit(SVM_EXIT_VMMCALL, 0, 0).kind, MHV_EXIT_HYPERCALL);
	assert_int_equal(svm_exit(SVM_EXIT_VMLOAD, 0, 0).kind, MHV_EXIT_VM_INSN);
	assert_int_equal(svm_exit(SVM_EXIT_MSR, 0, 0).kind, MHV_EXIT_MSR_READ);
	assert_int_equal(svm_exit(SVM_EXIT_MSR, 1, 0).kind, MHV_EXIT_MSR_WRITE);
	assert_int_equal(svm_exit(0x3ff, 0, 0).kind, MHV_EXIT_OTHER);
	assert_int_equal(svm_exit(SVM_EXIT_CPUID, 0, 0).vendor, MHV_VENDOR_SVM);
}

static void test_svm_invalid_low_32_bits(void **state)
{
	(void)state;
	/* QEMU writes 00000000FFFFFFFFh, Bochs a 64-bit -1: both are VMEXIT_INVALID. */
	assert_int_equal(svm_exit(0xffffffffull, 0, 0).kind, MHV_EXIT_INVALID_STATE);
	assert_int_equal(svm_exit(~0ull, 0, 0).kind, MHV_EXIT_INVALID_STATE);
	assert_int_equal(svm_exit(0xfffffffeull, 0, 0).kind, MHV_EXIT_OTHER); /* BUSY */
}

static void test_svm_cr_dr_exceptions(void **state)
{
	(void)state;
	struct mhv_exit e = svm_exit(SVM_EXIT_CR_READ_BASE + 3, 0, 0);
	assert_int_equal(e.kind, MHV_EXIT_CR_READ);
	assert_int_equal(e.cr, 3);
	e = svm_exit(SVM_EXIT_CR_WRITE_BASE + 8, 0, 0);
	assert_int_equal(e.kind, MHV_EXIT_CR_WRITE);
	assert_int_equal(e.cr, 8);
	assert_int_equal(svm_exit(SVM_EXIT_CR0_SEL_WRITE, 0, 0).kind, MHV_EXIT_CR_WRITE);
	assert_int_equal(svm_exit(SVM_EXIT_DR_WRITE_BASE + 7, 0, 0).kind, MHV_EXIT_DR_ACCESS);
	e = svm_exit(SVM_EXIT_EXCEPTION_BASE + 13, 0x40, 0);
	assert_int_equal(e.kind, MHV_EXIT_EXCEPTION);
	assert_int_equal(e.vector, 13);
	assert_true(e.has_error);
	assert_int_equal(e.error_code, 0x40);
	e = svm_exit(SVM_EXIT_EXCEPTION_BASE + 6, 0x1234, 0);
	assert_int_equal(e.vector, 6);
	assert_false(e.has_error);
	assert_int_equal(e.error_code, 0);
}

static void test_svm_io_and_npf(void **state)
{
	(void)state;
	struct mhv_exit e = svm_exit(SVM_EXIT_IOIO, 0x3456021dull, 0x1234);
	assert_int_equal(e.kind, MHV_EXIT_IO);
	assert_int_equal(e.io.port, 0x3456);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_int_equal(e.io.addr_size, 8);
	e = svm_exit(SVM_EXIT_IOIO, (0x80ull << 16) | SVM_IOIO_SZ16 | SVM_IOIO_A16, 0);
	assert_int_equal(e.io.size, 2);
	assert_false(e.io.in);
	assert_int_equal(e.io.addr_size, 2);

	e = svm_exit(SVM_EXIT_NPF, SVM_NPF_FINAL_GPA | SVM_NPF_USER | SVM_NPF_WRITE | 1, 0x5000);
	assert_int_equal(e.kind, MHV_EXIT_TDP_FAULT);
	assert_int_equal(e.gpa, 0x5000);
	assert_true(e.tdp_write);
	assert_false(e.tdp_read);
	e = svm_exit(SVM_EXIT_NPF, SVM_NPF_FINAL_GPA | SVM_NPF_FETCH, 0x6000);
	assert_true(e.tdp_fetch);
	e = svm_exit(SVM_EXIT_NPF, SVM_NPF_FINAL_GPA, 0x7000);
	assert_true(e.tdp_read);
}

static void test_svm_vectoring(void **state)
{
	(void)state;
	struct mhv_exit e = { .exitcode = SVM_EXIT_NPF,
			      .exitintinfo = SVM_EVENT_VALID | SVM_EVENT_ERROR_VALID |
					     (3ull << SVM_EVENT_TYPE_SHIFT) | 14 | (0x6ull << 32) };
	mhv_decode_svm(&e);
	assert_true(e.vectoring.valid);
	assert_int_equal(e.vectoring.type, MHV_EVENT_HW_EXCEPTION);
	assert_int_equal(e.vectoring.vector, 14);
	assert_true(e.vectoring.has_error);
	assert_int_equal(e.vectoring.error_code, 6);
	/* Without the valid bit nothing is decoded (QEMU leaves stale low bits). */
	e = (struct mhv_exit){ .exitcode = SVM_EXIT_VMMCALL, .exitintinfo = 0x403 };
	mhv_decode_svm(&e);
	assert_false(e.vectoring.valid);
}

static void test_vmx_kinds(void **state)
{
	(void)state;
	assert_int_equal(vmx_exit(VMX_EXIT_CPUID, 0).kind, MHV_EXIT_CPUID);
	assert_int_equal(vmx_exit(VMX_EXIT_RDTSCP, 0).kind, MHV_EXIT_RDTSCP);
	assert_int_equal(vmx_exit(VMX_EXIT_RDMSR, 0).kind, MHV_EXIT_MSR_READ);
	assert_int_equal(vmx_exit(VMX_EXIT_WRMSR, 0).kind, MHV_EXIT_MSR_WRITE);
	assert_int_equal(vmx_exit(VMX_EXIT_VMCALL, 0).kind, MHV_EXIT_HYPERCALL);
	assert_int_equal(vmx_exit(VMX_EXIT_VMREAD, 0).kind, MHV_EXIT_VM_INSN);
	assert_int_equal(vmx_exit(VMX_EXIT_TRIPLE_FAULT, 0).kind, MHV_EXIT_SHUTDOWN);
	assert_int_equal(vmx_exit(VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST, 0).kind,
			 MHV_EXIT_INVALID_STATE);
	assert_int_equal(vmx_exit(VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_MSR_LOADING, 0).kind,
			 MHV_EXIT_ENTRY_MSR);
	/* Reason 33 without bit 31 is not an entry failure. */
	assert_int_equal(vmx_exit(VMX_EXIT_INVALID_GUEST, 0).kind, MHV_EXIT_OTHER);
	struct mhv_exit e = { .vmfail = VMX_FAIL_VALID, .vm_insn_error = 7 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_VMFAIL);
}

static void test_vmx_exception_and_nmi(void **state)
{
	(void)state;
	struct mhv_exit e = { .reason = 0, .intr_info = 0x80000b0d, .intr_error = 0x483 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_EXCEPTION);
	assert_int_equal(e.vector, 13);
	assert_true(e.has_error);
	assert_int_equal(e.error_code, 0x483);
	e = (struct mhv_exit){ .reason = 0, .intr_info = 0x80000202 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_NMI);
	e = (struct mhv_exit){ .reason = 0, .intr_info = 0x80000603 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_EXCEPTION);
	assert_int_equal(e.vector, 3);
	assert_false(e.has_error);
}

static void test_vmx_cr_io_ept(void **state)
{
	(void)state;
	struct mhv_exit e = vmx_exit(VMX_EXIT_CR_ACCESS, 0x313);
	assert_int_equal(e.kind, MHV_EXIT_CR_READ);
	assert_int_equal(e.cr, 3);
	e = vmx_exit(VMX_EXIT_CR_ACCESS, 0x308);
	assert_int_equal(e.kind, MHV_EXIT_CR_WRITE);
	assert_int_equal(e.cr, 8);
	assert_int_equal(vmx_exit(VMX_EXIT_CR_ACCESS, 0x20).kind, MHV_EXIT_CR_WRITE); /* CLTS */
	assert_int_equal(vmx_exit(VMX_EXIT_CR_ACCESS, 0x30).kind, MHV_EXIT_CR_WRITE); /* LMSW */

	e = (struct mhv_exit){ .reason = VMX_EXIT_IO, .qualification = 0x34560039ull,
			       .insn_info = 2u << 7 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_IO);
	assert_int_equal(e.io.port, 0x3456);
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_false(e.io.imm);
	assert_int_equal(e.io.addr_size, 8);
	e = vmx_exit(VMX_EXIT_IO, (0xe0ull << 16) | VMX_IO_QUAL_IMM | 3);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.imm);
	assert_int_equal(e.io.addr_size, 0);

	e = (struct mhv_exit){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x1aa,
			       .guest_physical = 0x12a128 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_TDP_FAULT);
	assert_true(e.tdp_write);
	assert_false(e.tdp_read);
	assert_int_equal(e.gpa, 0x12a128);
	e = (struct mhv_exit){ .reason = VMX_EXIT_EPT_MISCONFIG, .guest_physical = 0x5000 };
	mhv_decode_vmx(&e);
	assert_int_equal(e.kind, MHV_EXIT_TDP_MISCONFIG);
	assert_int_equal(e.gpa, 0x5000);
}

static void test_native_codes_round_trip(void **state)
{
	(void)state;
	/* Every kind with one native code decodes back to itself. */
	for (int k = MHV_EXIT_CPUID; k < MHV_EXIT_KINDS; k++) {
		int64_t code = mhv_svm_exitcode_of((enum mhv_exit_kind)k);
		if (code >= 0 && k != MHV_EXIT_MSR_WRITE) {
			struct mhv_exit e = svm_exit((uint64_t)code, 0, 0);
			assert_int_equal(e.kind, k);
		}
		int64_t reason = mhv_vmx_reason_of((enum mhv_exit_kind)k);
		if (reason >= 0 && k != MHV_EXIT_EXCEPTION && k != MHV_EXIT_NMI &&
		    k != MHV_EXIT_CR_READ && k != MHV_EXIT_CR_WRITE) {
			struct mhv_exit e = vmx_exit((uint32_t)reason, 0);
			assert_int_equal(e.kind, k);
		}
	}
	assert_int_equal(mhv_svm_exitcode_of(MHV_EXIT_CPUID), 0x72);
	assert_int_equal(mhv_vmx_reason_of(MHV_EXIT_CPUID), 10);
	assert_int_equal(mhv_svm_exitcode_of(MHV_EXIT_RDTSCP), 0x87);
	assert_int_equal(mhv_vmx_reason_of(MHV_EXIT_RDTSCP), 51);
	assert_int_equal(mhv_svm_exitcode_of(MHV_EXIT_DONE), SVM_EXIT_VMMCALL);
	assert_int_equal(mhv_vmx_reason_of(MHV_EXIT_INVALID_STATE), 0x80000021);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svm_simple_kinds),
		cmocka_unit_test(test_svm_invalid_low_32_bits),
		cmocka_unit_test(test_svm_cr_dr_exceptions),
		cmocka_unit_test(test_svm_io_and_npf),
		cmocka_unit_test(test_svm_vectoring),
		cmocka_unit_test(test_vmx_kinds),
		cmocka_unit_test(test_vmx_exception_and_nmi),
		cmocka_unit_test(test_vmx_cr_io_ept),
		cmocka_unit_test(test_native_codes_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
