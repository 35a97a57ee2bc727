/* tdp/vmx-pml-full: page-modification logging (SDM vol.3C 29.3.6). With EPT accessed and
 * dirty flags (EPTP bit 6) and "enable PML", a guest write that sets the dirty flag of
 * an EPT leaf entry logs the guest-physical address of its 4 KiB page at PML[index] and
 * decrements the index; a write that would log with the index outside 0-511 is a
 * page-modification-log-full VM exit (reason 62) before the write, fault-like, with
 * qualification 0 (bit 12: NMI unblocking, 28.2.1). Here every EPT leaf starts with A and
 * D set but those of two pages: L2 writes the first (logged at PML[0], index 0 -> FFFFh)
 * and then the second (exit). SKIP on SVM, and where the CPU lacks EPT A/D or PML. */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define VMX_EXIT_PML_FULL   62          /* SDM vol.3D appendix C */
#define PROC2_ENABLE_PML    (1u << 17)  /* vol.3C 25.6.2 Table 25-7 */
#define VMCS_PML_ADDRESS    0x200e      /* vol.3D B.2.1 */
#define VMCS_PML_INDEX      0x0812      /* vol.3D B.1.1 */
#define EPTP_AD_ENABLE      (1ull << 6) /* vol.3C 25.6.11 */
#define EPT_CAP_AD          (1ull << 21) /* vol.3D A.10 */
#define EPT_ACCESSED        (1ull << 8) /* vol.3C 29.3.5 */
#define EPT_DIRTY           (1ull << 9)

/* Sets A and D in every present EPT leaf (2 MiB or 4 KiB) and A in the tables above. */
static void set_all_ad(uint64_t eptp)
{
	uint64_t *pml4 = (uint64_t *)(eptp & TDP_ADDR_MASK);
	for (unsigned i = 0; i < 512; i++) {
		if (!(pml4[i] & EPT_R))
			continue;
		pml4[i] |= EPT_ACCESSED;
		uint64_t *pdpt = (uint64_t *)(pml4[i] & TDP_ADDR_MASK);
		for (unsigned j = 0; j < 512; j++) {
			if (!(pdpt[j] & EPT_R))
				continue;
			pdpt[j] |= EPT_ACCESSED | ((pdpt[j] & EPT_PS) ? EPT_DIRTY : 0);
			if (pdpt[j] & EPT_PS)
				continue;
			uint64_t *pd = (uint64_t *)(pdpt[j] & TDP_ADDR_MASK);
			for (unsigned k = 0; k < 512; k++) {
				if (!(pd[k] & EPT_R))
					continue;
				pd[k] |= EPT_ACCESSED | ((pd[k] & EPT_PS) ? EPT_DIRTY : 0);
				if (pd[k] & EPT_PS)
					continue;
				uint64_t *pt = (uint64_t *)(pd[k] & TDP_ADDR_MASK);
				for (unsigned l = 0; l < 512; l++)
					if (pt[l] & EPT_R)
						pt[l] |= EPT_ACCESSED | EPT_DIRTY;
			}
		}
	}
}

MHV_L2_ASM(l2_two_writes, "movl $1, (%rdi)\n\tmovl $2, (%rsi)");        /* 6, 6 */

static enum probe_status pml_full(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMX page-modification logging"));
	mhv_exit_asserted(MHV_VENDOR_VMX, VMX_EXIT_PML_FULL);
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!(cap & EPT_CAP_AD))
		return probe_skip(run, "no EPT accessed/dirty flags (IA32_VMX_EPT_VPID_CAP = %#llx, "
				  "bit 21 clear)", (unsigned long long)cap);
	uint64_t proc2_ok = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
	if (!(proc2_ok & PROC2_ENABLE_PML))
		return probe_skip(run, "no 'enable PML' (IA32_VMX_PROCBASED_CTLS2 allowed-1 %#llx)",
				  (unsigned long long)proc2_ok);
	uint32_t *first = mhv_scratch_page(0), *second = mhv_scratch_page(1);
	uint64_t *log = mhv_scratch_page(2);
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)first, TDP_RWX));
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)second, TDP_RWX));
	set_all_ad(vm->eptp);
	*mhv_tdp_entry(vm, (uint64_t)first) &= ~(EPT_ACCESSED | EPT_DIRTY);
	*mhv_tdp_entry(vm, (uint64_t)second) &= ~(EPT_ACCESSED | EPT_DIRTY);
	vmwrite(VMCS_EPTP, vm->eptp | EPTP_AD_ENABLE);
	vmwrite(VMCS_PML_ADDRESS, (uint64_t)log);
	vmwrite(VMCS_PML_INDEX, 0);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_ENABLE_PML);
	mhv_tdp_changed(vm);
	mhv_l2_call(vm, l2_two_writes, first);
	vm->regs.rsi = (uint64_t)second;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("two writes to clean pages, PML index 0", &e);
	diag("PML[0] %#llx, PML index %#llx", (unsigned long long)log[0],
	     (unsigned long long)vmread(VMCS_PML_INDEX));
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", VMX_EXIT_PML_FULL, e.reason);
	EXPECT_EQ(run, "L2 RIP at the exit (the second write: fault-like)",
		  (uint64_t)l2_two_writes + 6, e.rip);
	EXPECT_EQ(run, "VMX exit qualification", 0, e.qualification);
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	EXPECT_EQ(run, "PML[0] (the first page's guest-physical address)", (uint64_t)first, log[0]);
	EXPECT_EQ(run, "PML index after one entry (0 - 1, 16 bits)", 0xffff,
		  vmread(VMCS_PML_INDEX) & 0xffff);
	EXPECT_EQ(run, "first page (written)", 1, *first);
	EXPECT_EQ(run, "second page (not written: the exit came before)", 0, *second);
	EXPECT_EQ(run, "EPT dirty flag of the first page", EPT_DIRTY,
		  *mhv_tdp_entry(vm, (uint64_t)first) & EPT_DIRTY);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_ENABLE_PML);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "second page after PML was turned off", 2, *second);
	return PROBE_PASS;
}
PROBE("tdp/vmx-pml-full", pml_full);
