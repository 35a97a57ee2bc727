/* covers: src/vmx/vmx_exit.c src/core/vcpu_regs.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"

static struct exit decode(uint32_t reason, uint64_t qual, uint32_t insn_len)
{
	struct vmx_exit_raw raw = { .reason = reason, .qualification = qual, .insn_len = insn_len };
	struct exit e;
	memset(&e, 0xa5, sizeof(e));
	vmx_decode_exit(&raw, &e);
	return e;
}

static void test_cpuid_hlt_vmcall(void **state)
{
	(void)state;
	struct exit e = decode(VMX_EXIT_REASON_CPUID, 0, 2);
	assert_int_equal(e.kind, EXIT_CPUID);
	assert_int_equal(e.native_code, 10);
	assert_int_equal(e.insn_len, 2);
	assert_int_equal(e.info1, 0);
	assert_int_equal(e.info2, 0);
	e = decode(VMX_EXIT_REASON_HLT, 0, 1);
	assert_int_equal(e.kind, EXIT_HLT);
	assert_int_equal(e.insn_len, 1);
	e = decode(VMX_EXIT_REASON_VMCALL, 0, 3);
	assert_int_equal(e.kind, EXIT_HYPERCALL);
	assert_int_equal(e.insn_len, 3);
	e = decode(VMX_EXIT_REASON_XSETBV, 0, 3);
	assert_int_equal(e.kind, EXIT_XSETBV);
	e = decode(VMX_EXIT_REASON_CR_ACCESS, 0x104, 3);
	assert_int_equal(e.kind, EXIT_CR_ACCESS);
	assert_int_equal(e.info1, 0x104);
	assert_int_equal(e.insn_len, 3);
}

static void test_insn_len_only_for_instructions(void **state)
{
	(void)state;
	/* The field is undefined for other exits (27.2.4): never used. */
	assert_int_equal(decode(VMX_EXIT_REASON_TRIPLE_FAULT, 0, 7).insn_len, 0);
	assert_int_equal(decode(VMX_EXIT_REASON_EPT_VIOLATION, 0, 3).insn_len, 0);
	assert_int_equal(decode(VMX_EXIT_REASON_EXTERNAL_INTR, 0, 3).insn_len, 0);
	/* nor a length no instruction has */
	assert_int_equal(decode(VMX_EXIT_REASON_CPUID, 0, 0).insn_len, 0);
	assert_int_equal(decode(VMX_EXIT_REASON_CPUID, 0, 16).insn_len, 0);
	assert_int_equal(decode(VMX_EXIT_REASON_CPUID, 0, 15).insn_len, 15);
	assert_true(vmx_exit_has_insn_len(VMX_EXIT_REASON_IO));
	assert_false(vmx_exit_has_insn_len(VMX_EXIT_REASON_EPT_MISCONFIG));
	assert_false(vmx_exit_has_insn_len(1000));
}

static void test_io(void **state)
{
	(void)state;
	/* out 0xf4, al (immediate operand) */
	struct exit e = decode(VMX_EXIT_REASON_IO, 0xf40040, 2);
	assert_int_equal(e.kind, EXIT_IO);
	assert_int_equal(e.u.io.port, 0xf4);
	assert_int_equal(e.u.io.size, 1);
	assert_false(e.u.io.in);
	assert_false(e.u.io.string);
	assert_false(e.u.io.rep);
	assert_int_equal(e.insn_len, 2);
	/* out dx, ax to 0x8900 */
	e = decode(VMX_EXIT_REASON_IO, 0x89000001ull, 2);
	assert_int_equal(e.u.io.port, 0x8900);
	assert_int_equal(e.u.io.size, 2);
	/* rep insd from dx = 0xffff */
	e = decode(VMX_EXIT_REASON_IO, 0xffff0000ull | 3 | VMX_IO_QUAL_IN | VMX_IO_QUAL_STRING | VMX_IO_QUAL_REP, 2);
	assert_int_equal(e.u.io.port, 0xffff);
	assert_int_equal(e.u.io.size, 4);
	assert_true(e.u.io.in);
	assert_true(e.u.io.string);
	assert_true(e.u.io.rep);
}

static void test_msr(void **state)
{
	(void)state;
	struct vmx_exit_raw raw = { .reason = VMX_EXIT_REASON_RDMSR, .insn_len = 2, .rcx = 0xffffffffC0000080ull };
	struct exit e;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_MSR_READ);
	assert_int_equal(e.u.msr, 0xC0000080u);
	assert_int_equal(e.insn_len, 2);
	raw.reason = VMX_EXIT_REASON_WRMSR;
	raw.rcx = 0x3a;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_MSR_WRITE);
	assert_int_equal(e.u.msr, 0x3a);
}

static void test_ept(void **state)
{
	(void)state;
	/* a write to an unmapped page, linear address valid */
	struct vmx_exit_raw raw = { .reason = VMX_EXIT_REASON_EPT_VIOLATION,
				    .qualification = VMX_EPT_QUAL_WRITE | VMX_EPT_QUAL_LINEAR_VALID | (1u << 8),
				    .gpa = 0xec00010 };
	struct exit e;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_TDP_FAULT);
	assert_int_equal(e.u.tdp.gpa, 0xec00010);
	assert_int_equal(e.info2, 0xec00010);
	assert_true(e.u.tdp.write);
	assert_false(e.u.tdp.read);
	assert_false(e.u.tdp.fetch);
	assert_false(e.u.tdp.present);
	/* a fetch from a readable, non-executable page */
	raw.qualification = VMX_EPT_QUAL_FETCH | VMX_EPT_QUAL_READ | VMX_EPT_QUAL_READABLE;
	vmx_decode_exit(&raw, &e);
	assert_true(e.u.tdp.fetch);
	assert_true(e.u.tdp.read);
	assert_true(e.u.tdp.present);
	raw.reason = VMX_EXIT_REASON_EPT_MISCONFIG;
	raw.qualification = 0;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_TDP_MISCONFIG);
	assert_int_equal(e.u.tdp.gpa, 0xec00010);
}

static void test_exception_and_nmi(void **state)
{
	(void)state;
	/* #GP(0x18): hardware exception, error code valid */
	struct vmx_exit_raw raw = { .reason = VMX_EXIT_REASON_EXCEPTION_NMI,
				    .intr_info = 0x80000b0d, .intr_error = 0x18 };
	struct exit e;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_EXCEPTION);
	assert_int_equal(e.u.exception.vector, 13);
	assert_true(e.u.exception.has_error_code);
	assert_int_equal(e.u.exception.error_code, 0x18);
	assert_int_equal(e.info2, 0x80000b0d);
	/* the trace's KVM fields: interruption information and its error code */
	assert_int_equal(e.intr_info, 0x80000b0d);
	assert_int_equal(e.error_code, 0x18);
	/* #UD: no error code, whatever the field holds */
	raw.intr_info = 0x80000306;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.u.exception.vector, 6);
	assert_false(e.u.exception.has_error_code);
	assert_int_equal(e.u.exception.error_code, 0);
	assert_int_equal(e.intr_info, 0x80000306);
	assert_int_equal(e.error_code, 0);
	/* bit 11 without the valid bit (31) is no error code */
	raw.intr_info = 0x00000b0d;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.error_code, 0);
	/* NMI: type 2 */
	raw.intr_info = 0x80000202;
	vmx_decode_exit(&raw, &e);
	assert_int_equal(e.kind, EXIT_NMI);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(decode(VMX_EXIT_REASON_EXTERNAL_INTR, 0, 0).kind, EXIT_INTR);
	assert_int_equal(decode(VMX_EXIT_REASON_TRIPLE_FAULT, 0, 0).kind, EXIT_SHUTDOWN);
	assert_int_equal(decode(VMX_EXIT_REASON_INIT, 0, 0).kind, EXIT_INIT);
	assert_int_equal(decode(VMX_EXIT_REASON_RDTSC, 0, 2).kind, EXIT_OTHER);
	assert_int_equal(decode(VMX_EXIT_REASON_INVD, 0, 2).kind, EXIT_OTHER);
	/* every VMX instruction goes to the nested layer's handler */
	static const uint32_t vm_insns[] = {
		VMX_EXIT_REASON_VMCLEAR, VMX_EXIT_REASON_VMLAUNCH, VMX_EXIT_REASON_VMPTRLD,
		VMX_EXIT_REASON_VMPTRST, VMX_EXIT_REASON_VMREAD, VMX_EXIT_REASON_VMRESUME,
		VMX_EXIT_REASON_VMWRITE, VMX_EXIT_REASON_VMXOFF, VMX_EXIT_REASON_VMXON,
		VMX_EXIT_REASON_INVEPT, VMX_EXIT_REASON_INVVPID,
	};
	for (unsigned i = 0; i < sizeof(vm_insns) / sizeof(vm_insns[0]); i++) {
		struct exit e = decode(vm_insns[i], 0, 3);
		assert_int_equal(e.kind, EXIT_VM_INSN);
		assert_int_equal(e.insn_len, 3);
	}
	assert_int_equal(vm_insns[0], 19);
	assert_int_equal(vm_insns[8], 27);
	/* reasons appendix C does not define */
	assert_int_equal(decode(35, 0, 2).kind, EXIT_UNKNOWN);
	assert_int_equal(decode(38, 0, 2).kind, EXIT_UNKNOWN);
	assert_int_equal(decode(0xffff, 0, 2).kind, EXIT_UNKNOWN);
	assert_int_equal(decode(0xffff, 0, 2).insn_len, 0);
}

static void test_entry_failure(void **state)
{
	(void)state;
	struct exit e = decode(VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_REASON_INVALID_GUEST_STATE, 0, 3);
	assert_int_equal(e.kind, EXIT_INVALID_STATE);
	assert_int_equal(e.native_code, 0x80000021u);
	assert_int_equal(e.insn_len, 0);
	e = decode(VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_REASON_MSR_LOADING, 2, 0);
	assert_int_equal(e.kind, EXIT_INVALID_STATE);
	assert_int_equal(e.info1, 2);
	/* bit 31 wins whatever the basic reason */
	e = decode(VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_REASON_CPUID, 0, 2);
	assert_int_equal(e.kind, EXIT_INVALID_STATE);
	assert_string_equal(vmx_entry_failure_detail(VMX_EXIT_REASON_INVALID_GUEST_STATE, 0),
			    "a guest-state check (26.3.1) failed");
	assert_string_equal(vmx_entry_failure_detail(VMX_EXIT_REASON_INVALID_GUEST_STATE, 4),
			    "invalid VMCS link pointer");
	assert_string_equal(vmx_entry_failure_detail(VMX_EXIT_REASON_INVALID_GUEST_STATE, 2),
			    "loading the PDPTEs failed");
	assert_string_equal(vmx_entry_failure_detail(VMX_EXIT_REASON_MACHINE_CHECK, 0),
			    "a machine-check event during VM entry");
	assert_non_null(strstr(vmx_entry_failure_detail(VMX_EXIT_REASON_MSR_LOADING, 1), "MSR-load"));
}

static void test_cr_access_decode(void **state)
{
	(void)state;
	struct vmx_cr_access a;
	vmx_decode_cr_access(0x0, &a); /* mov cr0, rax */
	assert_int_equal(a.cr, 0);
	assert_int_equal(a.type, VMX_CR_QUAL_TYPE_MOV_TO_CR);
	assert_int_equal(a.gpr, 0);
	vmx_decode_cr_access(0xf04, &a); /* mov cr4, r15 */
	assert_int_equal(a.cr, 4);
	assert_int_equal(a.gpr, 15);
	vmx_decode_cr_access(0x313, &a); /* mov rbx, cr3 */
	assert_int_equal(a.cr, 3);
	assert_int_equal(a.type, VMX_CR_QUAL_TYPE_MOV_FROM_CR);
	assert_int_equal(a.gpr, 3);
	vmx_decode_cr_access(0x20, &a); /* clts */
	assert_int_equal(a.type, VMX_CR_QUAL_TYPE_CLTS);
	vmx_decode_cr_access(0xbeef0070ull, &a); /* lmsw [mem] with data 0xbeef */
	assert_int_equal(a.type, VMX_CR_QUAL_TYPE_LMSW);
	assert_true(a.lmsw_memory);
	assert_int_equal(a.lmsw_data, 0xbeef);
}

static void test_gpr_slots(void **state)
{
	(void)state;
	struct vcpu_state st;
	memset(&st, 0, sizeof(st));
	assert_ptr_equal(vmx_gpr_slot(&st, 0), &st.gpr.rax);
	assert_ptr_equal(vmx_gpr_slot(&st, 1), &st.gpr.rcx);
	assert_ptr_equal(vmx_gpr_slot(&st, 2), &st.gpr.rdx);
	assert_ptr_equal(vmx_gpr_slot(&st, 3), &st.gpr.rbx);
	assert_ptr_equal(vmx_gpr_slot(&st, 4), &st.rsp);
	assert_ptr_equal(vmx_gpr_slot(&st, 5), &st.gpr.rbp);
	assert_ptr_equal(vmx_gpr_slot(&st, 6), &st.gpr.rsi);
	assert_ptr_equal(vmx_gpr_slot(&st, 7), &st.gpr.rdi);
	assert_ptr_equal(vmx_gpr_slot(&st, 8), &st.gpr.r8);
	assert_ptr_equal(vmx_gpr_slot(&st, 15), &st.gpr.r15);
	assert_null(vmx_gpr_slot(&st, 16));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_instruction_error_name(8), "VM entry with invalid host-state field(s)");
	assert_string_equal(vmx_instruction_error_name(12), "VMREAD/VMWRITE from/to unsupported VMCS component");
	assert_string_equal(vmx_instruction_error_name(28), "invalid operand to INVEPT/INVVPID");
	assert_string_equal(vmx_instruction_error_name(0), "unknown VM-instruction error");
	assert_string_equal(vmx_instruction_error_name(14), "unknown VM-instruction error");
	assert_string_equal(vmx_instruction_error_name(29), "unknown VM-instruction error");
	assert_string_equal(vmx_instruction_error_name(0xffffffffu), "unknown VM-instruction error");
	assert_string_equal(vmx_exit_reason_name(VMX_EXIT_REASON_EPT_VIOLATION), "EPT violation");
	assert_string_equal(vmx_exit_reason_name(VMX_EXIT_REASON_INVALID_GUEST_STATE),
			    "VM-entry failure: invalid guest state");
	assert_string_equal(vmx_exit_reason_name(35), "unknown exit reason");
	/* every defined reason has a name */
	for (uint32_t r = 0; r < VMX_EXIT_REASON_COUNT; r++)
		if (r != 35 && r != 38 && r != 42)
			assert_string_not_equal(vmx_exit_reason_name(r), "unknown exit reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_hlt_vmcall),
		cmocka_unit_test(test_insn_len_only_for_instructions),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_msr),
		cmocka_unit_test(test_ept),
		cmocka_unit_test(test_exception_and_nmi),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_entry_failure),
		cmocka_unit_test(test_cr_access_decode),
		cmocka_unit_test(test_gpr_slots),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("vmx_exit", tests, NULL, NULL);
}
