/* isolation/vapic-page: the VMX virtual-APIC page is read and written by the CPU at its
 * physical address, outside EPT (SDM vol.3C 30.1, 30.3: VTPR at offset 80h takes L2's
 * MOV to CR8). An L1 that names nestbed's memory as its virtual-APIC page would have the
 * CPU write there for L2: nestbed must refuse the entry (VMfailValid 7, invalid control,
 * rather than write anywhere) and its canary stays unchanged. SKIP bare ("not running
 * under nestbed": a CPU takes any address), on SVM, and without the TPR shadow. */
#include "probes/isolation/l0_doors.h"
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

MHV_L2_ASM(l2_cr8, "mov $2, %eax\n\tmov %rax, %cr8");

static enum probe_status vapic_page(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	MHV_CHECK(l0_canary_get(run, &canary));
	uint64_t base, length;
	if (!l0_reserved_range(&base, &length))
		return probe_fail(run, "no reserved range for nestbed's memory in the memory map");
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "a VMX virtual-APIC page"));
	bool true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS;
	uint64_t proc_ok = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					   : MSR_IA32_VMX_PROCBASED_CTLS) >> 32;
	if (!(proc_ok & PROC_TPR_SHADOW))
		return probe_skip(run, "no 'use TPR shadow' (allowed-1 %#llx)",
				  (unsigned long long)proc_ok);
	vmwrite(VMCS_PROC_CONTROLS, (vmread(VMCS_PROC_CONTROLS) | PROC_TPR_SHADOW) &
					    ~(uint64_t)(PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, base & ~0xfffull);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	mhv_l2_call(vm, l2_cr8, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH with nestbed's memory as the virtual-APIC page", &e);
	if (e.kind != MHV_EXIT_VMFAIL || e.vmfail != VMX_FAIL_VALID)
		return probe_fail(run, "VMLAUNCH with the virtual-APIC page at %#llx (nestbed's "
				  "memory): expected VMfailValid 7, observed %s",
				  (unsigned long long)(base & ~0xfffull), mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "VM-instruction error", VMXERR_ENTRY_INVALID_CONTROL, e.vm_insn_error);
	return l0_canary_same(run, &canary, "after the refused VMLAUNCH");
}
PROBE("isolation/vapic-page", vapic_page);
