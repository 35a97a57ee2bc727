/* isolation/vmcs-shadow-l0: an L1 that uses VMCS shadowing for its L2 names nestbed's
 * memory as the shadow VMCS (the VMCS link pointer) or as the VMREAD and VMWRITE
 * bitmaps, so that L2's VMREAD/VMWRITE would read or write there. nestbed must never
 * take nestbed's memory as L1's: the VM entry with such a link pointer fails as a link
 * pointer the CPU cannot use (exit reason 33, qualification 4, SDM vol.3C 26.3.1.5,
 * 26.8), and bitmaps there read as all ones, so L2's VMREAD and VMWRITE exit to L1
 * (reasons 23 and 25) instead of touching any VMCS; a link pointer at the local APIC's
 * page (whose ICR L2's VMWRITEs would reach) fails the entry the same way; nestbed's
 * canary stays unchanged.
 * SKIP bare ("not running under nestbed": a CPU takes any address), on SVM and
 * without VMCS shadowing. */
#include "probes/isolation/l0_doors.h"
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define PROC2_VMCS_SHADOWING (1u << 14) /* vol.3C 25.6.2 Table 25-7 */
#define VMCS_VMREAD_BITMAP   0x2026u    /* vol.3D B.2.1 */
#define VMCS_VMWRITE_BITMAP  0x2028u
#define SHADOW_INDICATOR     (1u << 31)
#define INVALID_GUEST_STATE  33u
#define QUAL_LINK_POINTER    4u
#define MSR_IA32_APIC_BASE   0x1bu
#define APIC_BASE_ADDR_MASK  0xffffff000ull /* vol.3A 11.4.4 */

MHV_L2_ASM(l2_cpuid, "cpuid");
MHV_L2_ASM(l2_vmread_vmwrite, "mov $0x6824, %edx\n\tvmread %rdx, %rax\n\tvmwrite %rax, %rdx"); /* 5, 3, 3 */

static enum probe_status vmcs_shadow_l0(struct probe_run *run)
{
	/* Bare, VMCALL in VMX root operation with a clear current VMCS is the dual-monitor
	 * activation, which Bochs 2.7 does not implement (it stops: "VMCALL: not implemented
	 * yet"); with no current VMCS it is VMfailInvalid, and the canary call SKIPs. */
	if (mhv_vendor() == MHV_VENDOR_VMX) {
		uint64_t current = ~0ull;
		vmptrst(&current);
		if (current != ~0ull)
			vmclear(current);
	}
	struct l0_canary canary = { 0, 0, 0 };
	MHV_CHECK(l0_canary_get(run, &canary));
	uint64_t base, length;
	if (!l0_reserved_range(&base, &length))
		return probe_fail(run, "no reserved range for nestbed's memory in the memory map");
	uint64_t l0_page = base & ~0xfffull;
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMCS shadowing"));
	uint64_t proc = rdmsr((rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS)
				      ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	uint64_t proc2 = ((proc >> 32) & PROC_SECONDARY) ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32 : 0;
	if (!(proc2 & PROC2_VMCS_SHADOWING))
		return probe_skip(run, "no 'VMCS shadowing' (IA32_VMX_PROCBASED_CTLS2 allowed-1 = %#llx)",
				  (unsigned long long)proc2);

	/* 1: the link pointer at nestbed's first page */
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMREAD_BITMAP, (uint64_t)mhv_scratch_page(1));
	vmwrite(VMCS_VMWRITE_BITMAP, (uint64_t)mhv_scratch_page(2));
	vmwrite(VMCS_LINK_POINTER, l0_page);
	mhv_l2_call(vm, l2_cpuid, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH with the VMCS link pointer at nestbed's memory", &e);
	mhv_exit_asserted(MHV_VENDOR_VMX, INVALID_GUEST_STATE);
	if (e.kind != MHV_EXIT_INVALID_STATE)
		return probe_fail(run, "VMLAUNCH with the link pointer at %#llx (nestbed's memory): expected "
				  "VM-entry failure 33, observed %s", (unsigned long long)l0_page,
				  mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "exit qualification (VMCS link pointer)", QUAL_LINK_POINTER, e.qualification);
	MHV_CHECK(l0_canary_same(run, &canary, "after the refused link pointer"));

	/* 2: a real shadow VMCS, both bitmaps at nestbed's first page */
	uint32_t *region = mhv_scratch_page(0);
	region[0] = mhv_vmx_revision() | SHADOW_INDICATOR;
	if (vmclear((uint64_t)region) != VMX_OK)
		return probe_fail(run, "VMCLEAR of the shadow VMCS failed");
	vmwrite(VMCS_LINK_POINTER, (uint64_t)region);
	vmwrite(VMCS_VMREAD_BITMAP, l0_page);
	vmwrite(VMCS_VMWRITE_BITMAP, l0_page);
	mhv_l2_call(vm, l2_vmread_vmwrite, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMREAD with the VMREAD bitmap at nestbed's memory", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason (VMREAD)", VMX_EXIT_VMREAD, e.reason);
	EXPECT_EQ(run, "L2 RIP at the VMREAD", (uint64_t)l2_vmread_vmwrite + 5, e.rip);
	mhv_advance_rip(vm, 3);
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMWRITE with the VMWRITE bitmap at nestbed's memory", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason (VMWRITE)", VMX_EXIT_VMWRITE, e.reason);
	EXPECT_EQ(run, "L2 RIP at the VMWRITE", (uint64_t)l2_vmread_vmwrite + 8, e.rip);
	mhv_advance_rip(vm, 3);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	MHV_CHECK(l0_canary_same(run, &canary, "after L2's VMREAD and VMWRITE"));

	/* 3: the link pointer at the local APIC's page: its registers are not a VMCS (and
	 * L2's VMWRITEs must never reach its ICR) */
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMREAD_BITMAP, (uint64_t)mhv_scratch_page(1));
	vmwrite(VMCS_VMWRITE_BITMAP, (uint64_t)mhv_scratch_page(2));
	uint64_t apic = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
	vmwrite(VMCS_LINK_POINTER, apic);
	mhv_l2_call(vm, l2_cpuid, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH with the VMCS link pointer at the local APIC", &e);
	if (e.kind != MHV_EXIT_INVALID_STATE)
		return probe_fail(run, "VMLAUNCH with the link pointer at the local APIC (%#llx): expected "
				  "VM-entry failure 33, observed %s", (unsigned long long)apic,
				  mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "exit qualification (VMCS link pointer at the APIC)", QUAL_LINK_POINTER, e.qualification);
	vmclear(vm->vmcs_pa); /* no clear current VMCS left behind (vminsn/vmcs_shadow.c) */
	return l0_canary_same(run, &canary, "after the link pointer at the local APIC");
}
PROBE("isolation/vmcs-shadow-l0", vmcs_shadow_l0);
