/* entry/vmx-recheck-*: the VM-entry checks apply to every entry, not only the first. L2
 * runs to an intercepted CPUID, L1 breaks one field and executes VMRESUME: the entry must
 * fail as a first entry with that field would (SDM vol.3C 27.2-27.3), and succeed again
 * once L1 puts the field back. Under nestbed this is the attack on a nested layer that
 * keeps the verdict of earlier checks (nested/vmx/vmcs12_check_cache.c): a VMCS12 that
 * passed once, then changed through a path the layer must watch (a VMWRITE into the
 * shadow VMCS without an exit, one that exits, a field the last exit left in VMCS02),
 * must never enter. VT-x only for now: on AMD-V the VMRUN that follows a VMEXIT_INVALID
 * with the field put back does not reach L2's second CPUID on either emulator (QEMU 7.2
 * delivers #UD in L2, Bochs exits with code 80h), which an SVM twin must explain first. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/vmx.h"

#define CR4_PAE        (1ull << 5)
#define RFLAGS_FIXED_1 (1ull << 1)
#define AR_UNUSABLE    (1ull << 16)

MHV_L2_ASM(l2_cpuid_twice, "cpuid\n\tcpuid\n\tnop");

/* L2 stopped at its first CPUID, which L1 moved past. */
static enum probe_status first_exit(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMCS fields changed between two entries"));
	MHV_CHECK(mhv_intercept(run, *vm, MHV_INTERCEPT_CPUID, true));
	mhv_l2_call(*vm, l2_cpuid_twice, NULL);
	struct mhv_exit e;
	mhv_run(*vm, &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid_twice, 2));
	mhv_advance_rip(*vm, 2);
	return PROBE_PASS;
}

/* With the field back: the second CPUID exits, and L2 returns. */
static enum probe_status second_exit(struct probe_run *run, struct mhv_vm *vm)
{
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("entry with the field restored", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid_twice + 2, 2));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status expect_vmfail_valid(struct probe_run *run, const struct mhv_exit *e, uint32_t error)
{
	char observed[320];
	mhv_describe_exit(e, observed, sizeof(observed));
	if (e->kind != MHV_EXIT_VMFAIL || e->vmfail != VMX_FAIL_VALID)
		return probe_fail(run, "expected VMfailValid with VM-instruction error %u on the entry after an "
				  "exit, observed %s", error, observed);
	EXPECT_EQ(run, "VM-instruction error", error, e->vm_insn_error);
	return PROBE_PASS;
}

static enum probe_status expect_invalid_state(struct probe_run *run, const struct mhv_exit *e)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_INVALID_STATE));
	if (e->vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification of the VM-entry failure", 0, e->qualification);
	return PROBE_PASS;
}

/* entry/vmx-recheck-guest-cr4-pae: CR4.PAE cleared in a 64-bit L2 after an exit (SDM
 * 27.3.1.1), as entry/guest-long-mode-without-pae does before the first entry; guest CR4
 * is a field L1 writes without an exit under nestbed's VMCS shadowing. */
static enum probe_status recheck_guest_cr4(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(first_exit(run, &vm));
	uint64_t cr4 = mhv_get(vm, MHV_REG_CR4);
	mhv_set(vm, MHV_REG_CR4, cr4 & ~CR4_PAE);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("entry without CR4.PAE", &e);
	MHV_CHECK(expect_invalid_state(run, &e));
	mhv_set(vm, MHV_REG_CR4, cr4);
	return second_exit(run, vm);
}
PROBE("entry/vmx-recheck-guest-cr4-pae", recheck_guest_cr4);

/* entry/vmx-recheck-rflags: guest RFLAGS bit 1 cleared (SDM 27.3.1.4: reserved bit 1
 * must be 1): a shadowed field nestbed pulls at VMRESUME. */
static enum probe_status vmx_recheck_rflags(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(first_exit(run, &vm));
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
	vmwrite(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_FIXED_1);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRESUME with RFLAGS bit 1 clear", &e);
	MHV_CHECK(expect_invalid_state(run, &e));
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
	return second_exit(run, vm);
}
PROBE("entry/vmx-recheck-rflags", vmx_recheck_rflags);

/* entry/vmx-recheck-tr-unusable: guest TR marked unusable (SDM 27.3.1.2: TR's unusable
 * bit must be 0): a segment field the exit may leave in nestbed's VMCS02 until L1 asks. */
static enum probe_status vmx_recheck_tr(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(first_exit(run, &vm));
	uint64_t ar = vmread(VMCS_GUEST_TR_AR);
	vmwrite(VMCS_GUEST_TR_AR, ar | AR_UNUSABLE);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRESUME with TR unusable", &e);
	MHV_CHECK(expect_invalid_state(run, &e));
	vmwrite(VMCS_GUEST_TR_AR, ar);
	return second_exit(run, vm);
}
PROBE("entry/vmx-recheck-tr-unusable", vmx_recheck_tr);

/* entry/vmx-recheck-control: a pin-based control that must be 0 set after an exit:
 * VMfailValid 7 (SDM 27.2.1.1); the pin-based controls are shadowed under nestbed. */
static enum probe_status vmx_recheck_control(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(first_exit(run, &vm));
	uint32_t must_be_zero = ~(uint32_t)(rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) >> 32);
	if (!must_be_zero)
		return probe_skip(run, "every pin-based control may be 1");
	uint64_t pin = vmread(VMCS_PIN_CONTROLS);
	vmwrite(VMCS_PIN_CONTROLS, pin | (must_be_zero & -must_be_zero));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRESUME with a reserved pin-based control", &e);
	MHV_CHECK(expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_CONTROL));
	vmwrite(VMCS_PIN_CONTROLS, pin);
	return second_exit(run, vm);
}
PROBE("entry/vmx-recheck-control", vmx_recheck_control);

/* entry/vmx-recheck-host-state: host CR4 without VMXE after an exit: VMfailValid 8 (SDM
 * 27.2.2); a field whose VMWRITE exits under nestbed. */
static enum probe_status vmx_recheck_host_state(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(first_exit(run, &vm));
	uint64_t cr4 = vmread(VMCS_HOST_CR4);
	vmwrite(VMCS_HOST_CR4, cr4 & ~CR4_VMXE);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRESUME with host CR4.VMXE clear", &e);
	MHV_CHECK(expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_HOST));
	vmwrite(VMCS_HOST_CR4, cr4);
	return second_exit(run, vm);
}
PROBE("entry/vmx-recheck-host-state", vmx_recheck_host_state);
