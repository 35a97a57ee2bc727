/* covers: src/svm/svm_exit_names.c src/vmx/vmx_exit_names.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "svm/svm_exit_names.h"
#include "vmx/vmx_exit_names.h"

/* APM vol.2 appendix C, table C-1 */
static void test_svm_names(void **state)
{
	(void)state;
	assert_string_equal(svm_exit_name(0x00), "CR0_READ");
	assert_string_equal(svm_exit_name(0x08), "CR8_READ");
	assert_string_equal(svm_exit_name(0x0f), "CR15_READ");
	assert_string_equal(svm_exit_name(0x10), "CR0_WRITE");
	assert_string_equal(svm_exit_name(0x23), "DR3_READ");
	assert_string_equal(svm_exit_name(0x37), "DR7_WRITE");
	assert_string_equal(svm_exit_name(0x40), "EXCP0");
	assert_string_equal(svm_exit_name(0x4e), "EXCP14");
	assert_string_equal(svm_exit_name(0x5f), "EXCP31");
	assert_string_equal(svm_exit_name(0x60), "INTR");
	assert_string_equal(svm_exit_name(0x61), "NMI");
	assert_string_equal(svm_exit_name(0x63), "INIT");
	assert_string_equal(svm_exit_name(0x65), "CR0_SEL_WRITE");
	assert_string_equal(svm_exit_name(0x6e), "RDTSC");
	assert_string_equal(svm_exit_name(0x72), "CPUID");
	assert_string_equal(svm_exit_name(0x75), "SWINT");
	assert_string_equal(svm_exit_name(0x78), "HLT");
	assert_string_equal(svm_exit_name(0x7a), "INVLPGA");
	assert_string_equal(svm_exit_name(0x7b), "IOIO");
	assert_string_equal(svm_exit_name(0x7c), "MSR");
	assert_string_equal(svm_exit_name(0x7f), "SHUTDOWN");
	assert_string_equal(svm_exit_name(0x80), "VMRUN");
	assert_string_equal(svm_exit_name(0x81), "VMMCALL");
	assert_string_equal(svm_exit_name(0x82), "VMLOAD");
	assert_string_equal(svm_exit_name(0x83), "VMSAVE");
	assert_string_equal(svm_exit_name(0x84), "STGI");
	assert_string_equal(svm_exit_name(0x85), "CLGI");
	assert_string_equal(svm_exit_name(0x86), "SKINIT");
	assert_string_equal(svm_exit_name(0x87), "RDTSCP");
	assert_string_equal(svm_exit_name(0x8d), "XSETBV");
	assert_string_equal(svm_exit_name(0x8f), "EFER_WRITE_TRAP");
	assert_string_equal(svm_exit_name(0x90), "CR0_WRITE_TRAP");
	assert_string_equal(svm_exit_name(0x9f), "CR15_WRITE_TRAP");
	assert_string_equal(svm_exit_name(0xa0), "INVLPGB");
	assert_string_equal(svm_exit_name(0xa5), "BUSLOCK");
	assert_string_equal(svm_exit_name(0xa6), "IDLE_HLT");
	assert_null(svm_exit_name(0xa7));
	assert_null(svm_exit_name(0x3ff));
	assert_string_equal(svm_exit_name(0x400), "NPF");
	assert_string_equal(svm_exit_name(0x401), "AVIC_INCOMPLETE_IPI");
	assert_string_equal(svm_exit_name(0x402), "AVIC_NOACCEL");
	assert_string_equal(svm_exit_name(0x403), "VMGEXIT");
	assert_null(svm_exit_name(0x404));
	/* QEMU writes VMEXIT_INVALID as 0x00000000ffffffff, Bochs as a 64-bit -1 */
	assert_string_equal(svm_exit_name(0xffffffffull), "INVALID");
	assert_string_equal(svm_exit_name(UINT64_MAX), "INVALID");
	assert_string_equal(svm_exit_name((uint64_t)-2), "BUSY");
	assert_string_equal(svm_exit_name((uint64_t)-4), "INVALID_PMC");
	assert_null(svm_exit_name((uint64_t)-5));
}

/* Every code 0x00..0xa6 has a distinct name. */
static void test_svm_names_distinct(void **state)
{
	(void)state;
	for (uint32_t a = 0; a <= 0xa6; a++) {
		assert_non_null(svm_exit_name(a));
		for (uint32_t b = 0; b < a; b++)
			assert_string_not_equal(svm_exit_name(a), svm_exit_name(b));
	}
}

/* SDM vol.3 appendix C, table C-1, spelled as KVM's VMX_EXIT_REASONS */
static void test_vmx_names(void **state)
{
	(void)state;
	assert_string_equal(vmx_exit_name(0), "EXCEPTION_NMI");
	assert_string_equal(vmx_exit_name(1), "EXTERNAL_INTERRUPT");
	assert_string_equal(vmx_exit_name(2), "TRIPLE_FAULT");
	assert_string_equal(vmx_exit_name(3), "INIT_SIGNAL");
	assert_string_equal(vmx_exit_name(4), "SIPI_SIGNAL");
	assert_string_equal(vmx_exit_name(7), "INTERRUPT_WINDOW");
	assert_string_equal(vmx_exit_name(10), "CPUID");
	assert_string_equal(vmx_exit_name(12), "HLT");
	assert_string_equal(vmx_exit_name(18), "VMCALL");
	assert_string_equal(vmx_exit_name(20), "VMLAUNCH");
	assert_string_equal(vmx_exit_name(24), "VMRESUME");
	assert_string_equal(vmx_exit_name(26), "VMOFF");
	assert_string_equal(vmx_exit_name(27), "VMON");
	assert_string_equal(vmx_exit_name(28), "CR_ACCESS");
	assert_string_equal(vmx_exit_name(30), "IO_INSTRUCTION");
	assert_string_equal(vmx_exit_name(31), "MSR_READ");
	assert_string_equal(vmx_exit_name(32), "MSR_WRITE");
	assert_string_equal(vmx_exit_name(33), "INVALID_STATE");
	assert_null(vmx_exit_name(35));
	assert_string_equal(vmx_exit_name(37), "MONITOR_TRAP_FLAG");
	assert_null(vmx_exit_name(38));
	assert_null(vmx_exit_name(42));
	assert_string_equal(vmx_exit_name(48), "EPT_VIOLATION");
	assert_string_equal(vmx_exit_name(49), "EPT_MISCONFIG");
	assert_string_equal(vmx_exit_name(50), "INVEPT");
	assert_string_equal(vmx_exit_name(52), "PREEMPTION_TIMER");
	assert_string_equal(vmx_exit_name(53), "INVVPID");
	assert_string_equal(vmx_exit_name(55), "XSETBV");
	assert_string_equal(vmx_exit_name(62), "PML_FULL");
	assert_string_equal(vmx_exit_name(64), "XRSTORS");
	assert_string_equal(vmx_exit_name(74), "BUS_LOCK");
	assert_string_equal(vmx_exit_name(75), "NOTIFY");
	assert_null(vmx_exit_name(78));
	assert_null(vmx_exit_name(0xffff));
	/* only the basic reason (bits 15:0) names the exit: bit 31 is a VM-entry failure */
	assert_string_equal(vmx_exit_name(0x80000021u), "INVALID_STATE");
	assert_string_equal(vmx_exit_name(0x80000022u), "MSR_LOAD_FAIL");
	assert_string_equal(vmx_exit_name(0x1000000au), "CPUID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svm_names),
		cmocka_unit_test(test_svm_names_distinct),
		cmocka_unit_test(test_vmx_names),
	};
	return cmocka_run_group_tests_name("exit_names", tests, NULL, NULL);
}
