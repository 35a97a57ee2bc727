#include "nested/vmx/nvmx_caps.h"

#include "vmx/vmcs.h"

/* The controls nestbed emulates for L1 (everything else is offered as "must be 0"). The
 * VMX-preemption timer goes to VMCS02 as L1 sets it, only where the CPU can save its
 * value at an exit: nestbed's own exits of L2 must not restart L1's count (25.5.1, 27.3.4). */
#define PIN_OFFERED (VMX_PIN_EXTERNAL_INTR_EXITING | VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS | \
		     VMX_PIN_PREEMPTION_TIMER)
/* TPR shadow: VMCS02 uses L1's virtual-APIC page itself (L1-physical = host-physical),
 * which must be L1's RAM (nvmx_entry.c). */
#define PROC_OFFERED (VMX_PROC_TPR_SHADOW | VMX_PROC_INTR_WINDOW_EXITING | VMX_PROC_TSC_OFFSETTING | VMX_PROC_HLT_EXITING | \
		      VMX_PROC_INVLPG_EXITING | VMX_PROC_MWAIT_EXITING | VMX_PROC_RDPMC_EXITING | \
		      VMX_PROC_RDTSC_EXITING | VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING | \
		      VMX_PROC_CR8_LOAD_EXITING | VMX_PROC_CR8_STORE_EXITING | VMX_PROC_NMI_WINDOW_EXITING | \
		      VMX_PROC_MOV_DR_EXITING | VMX_PROC_UNCOND_IO_EXITING | VMX_PROC_USE_IO_BITMAPS | \
		      VMX_PROC_MONITOR_TRAP_FLAG | VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_MONITOR_EXITING | \
		      VMX_PROC_PAUSE_EXITING | VMX_PROC_ACTIVATE_SECONDARY)
#define PROC2_RDRAND_EXITING (1u << 11) /* table 24-7 */
#define PROC2_RDSEED_EXITING (1u << 16)
/* VMCS shadowing for L1's guests: emulated, L2's VMREAD/VMWRITE always exit to nestbed
 * (nvmx_l2_vmcs_shadow.c), which lets L2 write exit-information fields of the shadow
 * VMCS exactly where it offers IA32_VMX_MISC[29] (MISC_KEEP). */
/* PAUSE-loop exiting goes to VMCS02 as L1 sets it (nestbed never uses it itself); VM
 * functions are offered with none enabled (IA32_VMX_VMFUNC 0): every VMFUNC in L2 with
 * the control is exit 59, L1's (25.5.6). */
#define PROC2_OFFERED (VMX_PROC2_ENABLE_EPT | VMX_PROC2_DESC_TABLE_EXITING | VMX_PROC2_ENABLE_RDTSCP | \
		       VMX_PROC2_ENABLE_VPID | VMX_PROC2_WBINVD_EXITING | VMX_PROC2_UNRESTRICTED_GUEST | \
		       PROC2_RDRAND_EXITING | VMX_PROC2_ENABLE_INVPCID | PROC2_RDSEED_EXITING | \
		       VMX_PROC2_ENABLE_XSAVES | VMX_PROC2_PAUSE_LOOP_EXITING | VMX_PROC2_ENABLE_VMFUNC | \
		       VMX_PROC2_VMCS_SHADOWING | APICV_OFFERED)
/* APIC virtualization (chapter 30) but x2APIC mode (nestbed intercepts the x2APIC ICR)
 * and posted interrupts: the APIC-access address is compared after EPT translation, and
 * VMCS02's EPT maps L2's addresses to L1's, which are host addresses, so L1's value
 * works as it is; the exits (43, 44, 45, 56) are L1's. */
#define APICV_OFFERED (VMX_PROC2_VIRTUALIZE_APIC | VMX_PROC2_APIC_REGISTER_VIRT | \
		       VMX_PROC2_VIRTUAL_INTR_DELIVERY)
#define EXIT_OFFERED (VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS | VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | \
		      VMX_EXIT_CTL_ACK_INTR_ON_EXIT | VMX_EXIT_CTL_SAVE_IA32_PAT | VMX_EXIT_CTL_LOAD_IA32_PAT | \
		      VMX_EXIT_CTL_SAVE_IA32_EFER | VMX_EXIT_CTL_LOAD_IA32_EFER | \
		      VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER)
#define ENTRY_OFFERED (VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS | VMX_ENTRY_CTL_IA32E_MODE_GUEST | \
		       VMX_ENTRY_CTL_LOAD_IA32_PAT | VMX_ENTRY_CTL_LOAD_IA32_EFER)

/* IA32_VMX_BASIC, A.1: the CPU's revision, region size, memory type, INS/OUTS info,
 * TRUE controls and error-code rule; never the dual-monitor treatment. */
#define BASIC_DUAL_MONITOR (1ull << 49)
#define BASIC_ADDR_WIDTH_32 (1ull << 48)
/* IA32_VMX_MISC, A.6: keep the preemption-timer rate (the CPU's timer counts for L1),
 * the LMA store, the HLT and wait-for-SIPI activity states (a SIPI to L2 waiting for
 * one is exit 4 to L1: the CPU's own, reflected), CR3 targets, MSR-list size, VMWRITE to
 * exit-information fields and zero-length injection; drop the shutdown state, SMM, PT,
 * MSEG. */
#define MISC_KEEP (0x1full | (1ull << 5) | (1ull << 6) | VMX_MISC_ACTIVITY_WAIT_SIPI | \
		   (0x1ffull << 16) | (7ull << 25) | (1ull << 29) | (1ull << 30))
/* IA32_VMX_EPT_VPID_CAP, A.10: 4-level walks, UC/WB, 2M/1G pages, INVEPT and INVVPID with
 * their types; not execute-only entries (the shadow EPT always grants read), not 5-level,
 * not A/D flags (not propagated to L1's tables). */
#define EPT_VPID_KEEP (VMX_EPT_CAP_WALK_4 | VMX_EPT_CAP_MEMTYPE_UC | VMX_EPT_CAP_MEMTYPE_WB | \
		       VMX_EPT_CAP_2M_PAGES | VMX_EPT_CAP_1G_PAGES | VMX_EPT_CAP_INVEPT | \
		       VMX_EPT_CAP_INVEPT_SINGLE | VMX_EPT_CAP_INVEPT_ALL | VMX_VPID_CAP_INVVPID | \
		       (1ull << 40) | VMX_VPID_CAP_INVVPID_SINGLE | VMX_VPID_CAP_INVVPID_ALL | (1ull << 43))
#define VMCS_ENUM_INDEX_SHIFT 1

/* allowed-0 as the CPU has it (a control the CPU needs at 1 stays 1), allowed-1 limited
 * to what nestbed emulates (and at least the allowed-0 bits, A.3). */
static uint64_t limit(uint64_t hw, uint32_t offered)
{
	uint32_t allowed0 = (uint32_t)hw;
	uint32_t allowed1 = ((uint32_t)(hw >> 32) & offered) | allowed0;
	return ((uint64_t)allowed1 << 32) | allowed0;
}

static void set(struct nvmx_offer *o, uint32_t msr, uint64_t value)
{
	o->msr[msr - NVMX_CAP_MSR_FIRST] = value;
	o->exists[msr - NVMX_CAP_MSR_FIRST] = true;
}

void nvmx_offer_build(const struct vmx_caps *hw, unsigned maxphyaddr, unsigned vmcs_enum_index,
		      struct nvmx_offer *out)
{
	for (unsigned i = 0; i < NVMX_CAP_MSR_COUNT; i++) {
		out->msr[i] = 0;
		out->exists[i] = false;
	}
	bool true_ctls = (hw->basic & VMX_BASIC_TRUE_CTLS) != 0;
	uint32_t pin_offered = PIN_OFFERED, exit_offered = EXIT_OFFERED;
	if (!((hw->exit >> 32) & VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER)) {
		pin_offered &= ~VMX_PIN_PREEMPTION_TIMER;
		exit_offered &= ~VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER;
	}
	uint64_t basic = hw->basic & ~(BASIC_DUAL_MONITOR | BASIC_ADDR_WIDTH_32);
	set(out, MSR_IA32_VMX_BASIC, basic);
	set(out, MSR_IA32_VMX_PINBASED_CTLS, limit(hw->pinbased, pin_offered));
	set(out, MSR_IA32_VMX_PROCBASED_CTLS, limit(hw->procbased, PROC_OFFERED));
	set(out, MSR_IA32_VMX_EXIT_CTLS, limit(hw->exit, exit_offered));
	set(out, MSR_IA32_VMX_ENTRY_CTLS, limit(hw->entry, ENTRY_OFFERED));
	set(out, MSR_IA32_VMX_MISC, hw->misc & MISC_KEEP);
	set(out, MSR_IA32_VMX_CR0_FIXED0, hw->cr0_fixed0);
	set(out, MSR_IA32_VMX_CR0_FIXED1, hw->cr0_fixed1);
	set(out, MSR_IA32_VMX_CR4_FIXED0, hw->cr4_fixed0);
	set(out, MSR_IA32_VMX_CR4_FIXED1, hw->cr4_fixed1);
	set(out, MSR_IA32_VMX_VMCS_ENUM, (uint64_t)vmcs_enum_index << VMCS_ENUM_INDEX_SHIFT);
	bool secondary = (hw->procbased >> 32) & VMX_PROC_ACTIVATE_SECONDARY;
	uint64_t proc2 = secondary ? limit(hw->procbased2, PROC2_OFFERED) : 0;
	if (secondary)
		set(out, MSR_IA32_VMX_PROCBASED_CTLS2, proc2);
	uint64_t ept_vpid = hw->ept_vpid & EPT_VPID_KEEP;
	if (proc2 & ((uint64_t)(VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID) << 32))
		set(out, MSR_IA32_VMX_EPT_VPID_CAP, ept_vpid);
	if (true_ctls) {
		set(out, MSR_IA32_VMX_TRUE_PINBASED_CTLS, limit(hw->true_pinbased, pin_offered));
		set(out, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, limit(hw->true_procbased, PROC_OFFERED));
		set(out, MSR_IA32_VMX_TRUE_EXIT_CTLS, limit(hw->true_exit, exit_offered));
		set(out, MSR_IA32_VMX_TRUE_ENTRY_CTLS, limit(hw->true_entry, ENTRY_OFFERED));
	}
	/* IA32_VMX_VMFUNC exists where "enable VM functions" is offered, with no function. */
	if (proc2 & ((uint64_t)VMX_PROC2_ENABLE_VMFUNC << 32))
		set(out, MSR_IA32_VMX_VMFUNC, 0);

	struct nvmx_caps *c = &out->caps;
	const uint64_t *m = out->msr;
#define OFFERED(msr) m[(msr) - NVMX_CAP_MSR_FIRST]
	c->basic = basic;
	c->pinbased = OFFERED(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = OFFERED(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = OFFERED(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = OFFERED(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->procbased2 = proc2;
	c->misc = OFFERED(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = hw->cr0_fixed0;
	c->cr0_fixed1 = hw->cr0_fixed1;
	c->cr4_fixed0 = hw->cr4_fixed0;
	c->cr4_fixed1 = hw->cr4_fixed1;
	c->ept_vpid_cap = ept_vpid;
	c->vmfunc = 0;
	c->maxphyaddr = maxphyaddr;
	c->sgx = c->rtm = c->bus_lock_detect = false; /* L1's CPUID: the caller knows it (nvmx_vcpu_init) */
#undef OFFERED
}

int nvmx_offer_read(const struct nvmx_offer *o, uint32_t msr, uint64_t *value)
{
	if (msr < NVMX_CAP_MSR_FIRST || msr > NVMX_CAP_MSR_LAST || !o->exists[msr - NVMX_CAP_MSR_FIRST])
		return -1;
	*value = o->msr[msr - NVMX_CAP_MSR_FIRST];
	return 0;
}
