/* entry/...: VM-entry consistency checks. A bad guest state or control makes SVM's
 * VMRUN exit with VMEXIT_INVALID (-1; the low 32 bits are compared: QEMU writes
 * 00000000FFFFFFFFh, Bochs a 64-bit -1), APM vol.2 15.5.1; VMX's VM entry fails with
 * VMfailValid and a VM-instruction error number (controls and host state, SDM vol.3C
 * 27.2) or with a VM-entry failure exit, reason 33 with bit 31 (guest state, 27.3).
 * Neutral names where both vendors check the same thing. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define CR4_PAE  (1ull << 5)
#define CR0_NW   (1ull << 29)
#define CR0_CD   (1ull << 30)
#define EFER_SVME_BIT (1ull << 12)

MHV_L2_ASM(l2_nop, "nop");

static enum probe_status expect_invalid_state(struct probe_run *run, const struct mhv_exit *e,
					      uint64_t vmx_qualification)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_INVALID_STATE));
	if (e->vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification of the VM-entry failure", vmx_qualification,
			  e->qualification);
	return PROBE_PASS;
}

static enum probe_status expect_vmfail_valid(struct probe_run *run, const struct mhv_exit *e,
					     uint32_t error)
{
	char observed[320];
	mhv_describe_exit(e, observed, sizeof(observed));
	if (e->kind != MHV_EXIT_VMFAIL || e->vmfail != VMX_FAIL_VALID)
		return probe_fail(run, "expected VMfailValid with VM-instruction error %u, "
				  "observed %s", error, observed);
	EXPECT_EQ(run, "VM-instruction error", error, e->vm_insn_error);
	return PROBE_PASS;
}

static enum probe_status start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	mhv_l2_call(*vm, l2_nop, NULL);
	return PROBE_PASS;
}

/* entry/guest-long-mode-without-pae: 64-bit guest (SVM EFER.LME and CR0.PG; VMX
 * "IA-32e mode guest") with CR4.PAE = 0: APM vol.2 15.5.1 "EFER.LME and CR0.PG are
 * both set and CR4.PAE is zero"; SDM vol.3C 27.3.1.1 "CR4.PAE must be 1". */
static enum probe_status long_mode_without_pae(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) & ~CR4_PAE);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/guest-long-mode-without-pae", long_mode_without_pae);

/* entry/guest-cs-l-and-d: CS.L and CS.D both set in long mode (APM: "...CS.L and CS.D
 * are both set"; SDM 27.3.1.2: "if IA-32e mode guest and L is 1, D/B must be 0"). */
static enum probe_status cs_l_and_d(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->cs.attrib |= 1u << 10; /* D/B */
	else
		vmwrite(VMCS_GUEST_CS_AR, VMX_AR_CODE64 | (1u << 14));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/guest-cs-l-and-d", cs_l_and_d);

/* entry/guest-dr7-high: DR7[63:32] not zero (APM 15.5.1; SDM 27.3.1.1 with "load debug
 * controls"). */
static enum probe_status dr7_high(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	if (vm->vendor == MHV_VENDOR_VMX) {
		uint64_t entry = vmread(VMCS_ENTRY_CONTROLS) | ENTRY_LOAD_DEBUG;
		uint64_t caps = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
		if (!((caps >> 32) & ENTRY_LOAD_DEBUG))
			return probe_skip(run, "VMX: the load-debug-controls entry control is not "
					  "available");
		vmwrite(VMCS_ENTRY_CONTROLS, entry);
	}
	mhv_set(vm, MHV_REG_DR7, 0x400 | (1ull << 32));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/guest-dr7-high", dr7_high);

/* entry/guest-cr4-reserved: a reserved CR4 bit (31) set (APM 15.5.1 "any MBZ bit of
 * CR4"; SDM 27.3.1.1: CR4 must respect IA32_VMX_CR4_FIXED1). */
static enum probe_status cr4_reserved(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | (1ull << 31));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/guest-cr4-reserved", cr4_reserved);

/* entry/guest-efer-reserved: EFER bit 63 (reserved) set (APM 15.5.1 "any MBZ bit of
 * EFER"; SDM 27.3.1.1 with "load IA32_EFER": reserved bits must be 0). */
static enum probe_status efer_reserved(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	if (vm->vendor == MHV_VENDOR_VMX && !(vmread(VMCS_ENTRY_CONTROLS) & ENTRY_LOAD_EFER))
		return probe_skip(run, "VMX: the load-IA32_EFER entry control is not in use");
	mhv_set(vm, MHV_REG_EFER, mhv_get(vm, MHV_REG_EFER) | (1ull << 63));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/guest-efer-reserved", efer_reserved);

/* entry/inject-exception-vector-over-31: injecting a hardware exception with vector 40h
 * (APM 15.20: illegal EVENTINJ -> VMEXIT_INVALID; SDM 27.2.1.3: vector at most 31 for
 * a hardware exception -> VMfailValid 7, invalid control field). */
static enum probe_status inject_bad_vector(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_inject(vm, MHV_EVENT_HW_EXCEPTION, 0x40, false, 0, 0);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	if (vm->vendor == MHV_VENDOR_VMX)
		return expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_CONTROL);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/inject-exception-vector-over-31", inject_bad_vector);

/* entry/inject-reserved-type: event type 1 is reserved in EVENTINJ and in the VM-entry
 * interruption information (APM 15.20; SDM 27.2.1.3). */
static enum probe_status inject_reserved_type(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_inject(vm, (enum mhv_event_type)1, 0x20, false, 0, 0);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	if (vm->vendor == MHV_VENDOR_VMX)
		return expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_CONTROL);
	return expect_invalid_state(run, &e, 0);
}
PROBE("entry/inject-reserved-type", inject_reserved_type);

/* SVM-only checks of APM vol.2 15.5.1. */
typedef void (*svm_breaker)(struct svm_vmcb *v);

static enum probe_status svm_invalid(struct probe_run *run, svm_breaker breaker)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "a VMRUN consistency check"));
	breaker(vm->vmcb);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRUN", &e);
	return expect_invalid_state(run, &e, 0);
}

static void asid_zero(struct svm_vmcb *v) { v->guest_asid = 0; }
static void no_vmrun_intercept(struct svm_vmcb *v) { v->intercept_misc2 &= ~SVM_INTERCEPT_VMRUN; }
static void svme_clear(struct svm_vmcb *v) { v->efer &= ~EFER_SVME_BIT; }
static void nw_without_cd(struct svm_vmcb *v) { v->cr0 = (v->cr0 & ~CR0_CD) | CR0_NW; }
static void cr0_high(struct svm_vmcb *v) { v->cr0 |= 1ull << 32; }

static enum probe_status svm_asid_zero(struct probe_run *run) { return svm_invalid(run, asid_zero); }
PROBE("entry/svm-asid-zero", svm_asid_zero);
static enum probe_status svm_no_vmrun_intercept(struct probe_run *run)
{
	return svm_invalid(run, no_vmrun_intercept);
}
PROBE("entry/svm-no-vmrun-intercept", svm_no_vmrun_intercept);
static enum probe_status svm_svme_clear(struct probe_run *run) { return svm_invalid(run, svme_clear); }
PROBE("entry/svm-guest-efer-svme-clear", svm_svme_clear);
static enum probe_status svm_nw_without_cd(struct probe_run *run)
{
	return svm_invalid(run, nw_without_cd);
}
PROBE("entry/svm-cr0-nw-without-cd", svm_nw_without_cd);
static enum probe_status svm_cr0_high(struct probe_run *run) { return svm_invalid(run, cr0_high); }
PROBE("entry/svm-cr0-high-bits", svm_cr0_high);

/* VMX-only checks. */
static enum probe_status vmx_start(struct probe_run *run, struct mhv_vm **vm, const char *why)
{
	MHV_CHECK(start(run, vm));
	return mhv_require_vendor(run, MHV_VENDOR_VMX, why);
}

/* A pin-based control that must be 0 set to 1: VMfailValid 7 (SDM 27.2.1.1). */
static enum probe_status vmx_bad_control(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "VM-execution control checks"));
	uint64_t caps = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	uint32_t must_be_zero = ~(uint32_t)(caps >> 32);
	if (!must_be_zero)
		return probe_skip(run, "every pin-based control may be 1");
	uint32_t bit = must_be_zero & -must_be_zero;
	vmwrite(VMCS_PIN_CONTROLS, vmread(VMCS_PIN_CONTROLS) | bit);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH", &e);
	return expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_CONTROL);
}
PROBE("entry/vmx-bad-control", vmx_bad_control);

/* Host CR4 without VMXE: VMfailValid 8, invalid host-state field (SDM 27.2.2). */
static enum probe_status vmx_bad_host_state(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "host-state checks"));
	vmwrite(VMCS_HOST_CR4, vmread(VMCS_HOST_CR4) & ~CR4_VMXE);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH", &e);
	return expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_HOST);
}
PROBE("entry/vmx-bad-host-state", vmx_bad_host_state);

/* A VMCS link pointer that is not FFFFFFFF_FFFFFFFFh and does not point at a VMCS with
 * the right revision: VM-entry failure, reason 33, exit qualification 4 (SDM 27.3.1.5,
 * 27.8). */
static enum probe_status vmx_link_pointer(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "the VMCS link pointer"));
	vmwrite(VMCS_LINK_POINTER, (uint64_t)mhv_scratch_page(0)); /* revision 0 there */
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH", &e);
	return expect_invalid_state(run, &e, 4);
}
PROBE("entry/vmx-link-pointer", vmx_link_pointer);

/* VMLAUNCH of a launched VMCS: VMfailValid 4 (SDM 31.3 VMLAUNCH). */
MHV_L2_ASM(l2_cpuid_nop, "cpuid\n\tnop");

static enum probe_status vmx_launch_launched(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "VMLAUNCH/VMRESUME"));
	mhv_l2_call(vm, l2_cpuid_nop, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_CPUID));
	mhv_advance_rip(vm, 2);
	vm->launched = false; /* VMLAUNCH again */
	mhv_run(vm, &e);
	mhv_diag_exit("second VMLAUNCH", &e);
	return expect_vmfail_valid(run, &e, VMXERR_VMLAUNCH_NONCLEAR);
}
PROBE("entry/vmx-launch-launched", vmx_launch_launched);

/* VMRESUME of a VMCS never launched: VMfailValid 5. */
static enum probe_status vmx_resume_unlaunched(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "VMLAUNCH/VMRESUME"));
	vm->launched = true; /* VMRESUME */
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMRESUME", &e);
	return expect_vmfail_valid(run, &e, VMXERR_VMRESUME_NONLAUNCHED);
}
PROBE("entry/vmx-resume-unlaunched", vmx_resume_unlaunched);

/* "enable VPID" with VPID 0 (the host's): VMfailValid 7 (SDM vol.3C 27.2.1.1). The SVM
 * counterpart is entry/svm-asid-zero. */
static enum probe_status vmx_vpid_zero(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "VPID checks"));
	uint64_t caps = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	if (!(vmread(VMCS_PROC_CONTROLS) & PROC_SECONDARY) || !((caps >> 32) & PROC2_VPID))
		return probe_skip(run, "VMX: the enable-VPID control is not available");
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VPID);
	vmwrite(VMCS_VPID, 0);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH", &e);
	return expect_vmfail_valid(run, &e, VMXERR_ENTRY_INVALID_CONTROL);
}
PROBE("entry/vmx-vpid-zero", vmx_vpid_zero);

/* A VM-entry MSR-load area whose only entry is an x2APIC MSR (800h-8FFh may not be
 * loaded this way): VM-entry failure, reason 34 with bit 31, exit qualification = the
 * failing entry's number, 1 (SDM vol.3C 27.4, 27.8). */
static enum probe_status vmx_msr_load_fail(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, "the VM-entry MSR-load area"));
	uint64_t *area = mhv_scratch_page(0);
	area[0] = 0x808; /* index; reserved bits 63:32 zero */
	area[1] = 0;     /* value */
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)area);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_ENTRY_MSR));
	EXPECT_EQ(run, "VMX exit qualification (the failing MSR-load entry, 1-based)", 1,
		  e.qualification);
	return PROBE_PASS;
}
PROBE("entry/vmx-msr-load-fail", vmx_msr_load_fail);

/* The MSRPM base beyond the physical address width: VMEXIT_INVALID (APM vol.2 15.5.1:
 * "MSRPM_BASE_PA or IOPM_BASE_PA ... greater than or equal to the maximum supported
 * physical address"). */
static void msrpm_too_high(struct svm_vmcb *v)
{
	uint32_t width = cpuid(0x80000008u).eax & 0xff;
	v->msrpm_base_pa = 1ull << width;
}

static enum probe_status svm_msrpm_too_high(struct probe_run *run)
{
	return svm_invalid(run, msrpm_too_high);
}
PROBE("entry/svm-msrpm-beyond-maxphyaddr", svm_msrpm_too_high);
