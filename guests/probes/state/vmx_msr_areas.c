/* state/vmx-msr-areas: the VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas
 * (SDM vol.3 26.4, 27.4, 27.6), for an MSR VMX does not switch otherwise
 * (IA32_KERNEL_GS_BASE) and one it switches through the VMCS (IA32_SYSENTER_ESP: the
 * MSR-load areas are processed after the guest and host state, so they win). L2 reads
 * both MSRs and writes new values; the exit stores L2's values and loads L1's back.
 * SKIP on SVM, which has no MSR areas. */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/vmx.h"

#define MSR_KERNEL_GS_BASE 0xc0000102u  /* SDM vol.4 table 2-2 */
#define MSR_SYSENTER_ESP 0x175u
#define ENTRY_KGS 0x00007f0000001000ull /* canonical values nobody else uses */
#define ENTRY_ESP 0x00007f0000002000ull
#define L2_KGS 0x00007f0000003000ull
#define L2_ESP 0x00007f0000004000ull
#define EXIT_KGS 0x00007f0000005000ull
#define EXIT_ESP 0x00007f0000006000ull

static uint64_t l2_seen_esp;

static uint64_t l2_swap_msrs(void *unused)
{
	(void)unused;
	uint64_t kgs = rdmsr(MSR_KERNEL_GS_BASE);
	l2_seen_esp = rdmsr(MSR_SYSENTER_ESP);
	wrmsr(MSR_KERNEL_GS_BASE, L2_KGS);
	wrmsr(MSR_SYSENTER_ESP, L2_ESP);
	return kgs;
}

static enum probe_status vmx_msr_areas(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "the VMX MSR-load/store areas"));
	uint64_t kgs = rdmsr(MSR_KERNEL_GS_BASE), esp = rdmsr(MSR_SYSENTER_ESP);
	/* three areas of two 16-byte entries (index, value) on one page */
	uint64_t *area = mhv_scratch_page(0);
	uint64_t *entry_load = area, *exit_store = area + 4, *exit_load = area + 8;
	entry_load[0] = MSR_KERNEL_GS_BASE, entry_load[1] = ENTRY_KGS;
	entry_load[2] = MSR_SYSENTER_ESP, entry_load[3] = ENTRY_ESP;
	exit_store[0] = MSR_KERNEL_GS_BASE, exit_store[1] = 0;
	exit_store[2] = MSR_SYSENTER_ESP, exit_store[3] = 0;
	exit_load[0] = MSR_KERNEL_GS_BASE, exit_load[1] = EXIT_KGS;
	exit_load[2] = MSR_SYSENTER_ESP, exit_load[3] = EXIT_ESP;
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_load);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 2);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)exit_store);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 2);
	vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 2);
	mhv_l2_call_value(vm, l2_swap_msrs, NULL);
	enum probe_status done = mhv_run_expect_done(run, vm);
	uint64_t kgs_after = rdmsr(MSR_KERNEL_GS_BASE), esp_after = rdmsr(MSR_SYSENTER_ESP);
	wrmsr(MSR_KERNEL_GS_BASE, kgs);
	wrmsr(MSR_SYSENTER_ESP, esp);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	MHV_CHECK(done);
	EXPECT_EQ(run, "IA32_KERNEL_GS_BASE in L2 (VM-entry MSR-load)", ENTRY_KGS, mhv_l2_result);
	EXPECT_EQ(run, "IA32_SYSENTER_ESP in L2 (VM-entry MSR-load after the guest state)", ENTRY_ESP,
		  l2_seen_esp);
	EXPECT_EQ(run, "IA32_KERNEL_GS_BASE stored at the exit (VM-exit MSR-store)", L2_KGS, exit_store[1]);
	EXPECT_EQ(run, "IA32_SYSENTER_ESP stored at the exit (VM-exit MSR-store)", L2_ESP, exit_store[3]);
	EXPECT_EQ(run, "IA32_KERNEL_GS_BASE in L1 after the exit (VM-exit MSR-load)", EXIT_KGS, kgs_after);
	EXPECT_EQ(run, "IA32_SYSENTER_ESP in L1 after the exit (VM-exit MSR-load after the host state)",
		  EXIT_ESP, esp_after);
	return PROBE_PASS;
}
PROBE("state/vmx-msr-areas", vmx_msr_areas);
