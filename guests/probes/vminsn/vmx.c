/* vminsn/vmx-...: VMX instructions in L1 (VMX root) and their outcomes (VMsucceed,
 * VMfailInvalid, VMfailValid with the VM-instruction error number of SDM vol.3C 31.4
 * Table 31-1); the same instructions executed by L2 are in vmx_l2.c. SKIP on SVM. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/vmx.h"

static const char *result_name(enum vmx_result r)
{
	return r == VMX_OK ? "VMsucceed" : r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid";
}

static enum probe_status vmx_start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	return mhv_require_vendor(run, MHV_VENDOR_VMX, "a VMX instruction");
}

static enum probe_status expect_result(struct probe_run *run, const char *what,
				       enum vmx_result r, enum vmx_result expected, uint32_t error)
{
	if (r != expected)
		return probe_fail(run, "%s: expected %s, observed %s", what, result_name(expected),
				  result_name(r));
	if (expected == VMX_FAIL_VALID)
		EXPECT_EQ(run, "VM-instruction error", error, vmread(VMCS_VM_INSN_ERROR));
	return PROBE_PASS;
}

/* A VMCS region whose revision identifier is wrong. */
static enum probe_status vmptrld_bad_revision(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	uint32_t *page = mhv_scratch_page(0);
	page[0] = mhv_vmx_revision() ^ 1;
	MHV_CHECK(expect_result(run, "VMPTRLD of a region with revision id + 1",
				vmptrld((uint64_t)page), VMX_FAIL_VALID, VMXERR_VMPTRLD_BAD_REVISION));
	uint64_t current;
	vmptrst(&current);
	EXPECT_EQ(run, "current VMCS after the failed VMPTRLD", vm->vmcs_pa, current);
	return PROBE_PASS;
}
PROBE("vminsn/vmx-vmptrld-bad-revision", vmptrld_bad_revision);

static enum probe_status vmptrld_vmxon(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	return expect_result(run, "VMPTRLD of the VMXON region", vmptrld(mhv_vmx_vmxon_pa()),
			     VMX_FAIL_VALID, VMXERR_VMPTRLD_VMXON_PTR);
}
PROBE("vminsn/vmx-vmptrld-vmxon-region", vmptrld_vmxon);

static enum probe_status vmclear_vmxon(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	return expect_result(run, "VMCLEAR of the VMXON region", vmclear(mhv_vmx_vmxon_pa()),
			     VMX_FAIL_VALID, VMXERR_VMCLEAR_VMXON_PTR);
}
PROBE("vminsn/vmx-vmclear-vmxon-region", vmclear_vmxon);

static enum probe_status vmclear_unaligned(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	return expect_result(run, "VMCLEAR of an address not 4 KiB aligned",
			     vmclear((uint64_t)mhv_scratch_page(0) + 8), VMX_FAIL_VALID,
			     VMXERR_VMCLEAR_INVALID_ADDR);
}
PROBE("vminsn/vmx-vmclear-unaligned", vmclear_unaligned);

static enum probe_status vmptrld_unaligned(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	return expect_result(run, "VMPTRLD of an address not 4 KiB aligned",
			     vmptrld((uint64_t)mhv_scratch_page(0) + 8), VMX_FAIL_VALID,
			     VMXERR_VMPTRLD_INVALID_ADDR);
}
PROBE("vminsn/vmx-vmptrld-unaligned", vmptrld_unaligned);

/* Encoding 1000h: bit 12 is reserved in every field encoding (SDM vol.3D B). */
static enum probe_status vmread_unsupported(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	uint64_t value;
	return expect_result(run, "VMREAD of field 1000h", vmread_checked(0x1000, &value),
			     VMX_FAIL_VALID, VMXERR_UNSUPPORTED_FIELD);
}
PROBE("vminsn/vmx-vmread-unsupported-field", vmread_unsupported);

/* VMWRITE to the exit reason (a read-only field): VMfailValid 13, unless
 * IA32_VMX_MISC[29] allows writing exit-information fields (then it succeeds). */
static enum probe_status vmwrite_read_only(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	bool any = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY;
	enum vmx_result r = vmwrite_checked(VMCS_EXIT_REASON, 0x1234);
	if (!any)
		return expect_result(run, "VMWRITE of the exit reason (IA32_VMX_MISC[29] = 0)", r,
				     VMX_FAIL_VALID, VMXERR_VMWRITE_READONLY);
	MHV_CHECK(expect_result(run, "VMWRITE of the exit reason (IA32_VMX_MISC[29] = 1)", r,
				VMX_OK, 0));
	EXPECT_EQ(run, "exit reason read back", 0x1234, vmread(VMCS_EXIT_REASON));
	return PROBE_PASS;
}
PROBE("vminsn/vmx-vmwrite-read-only-field", vmwrite_read_only);

static enum probe_status vmxon_in_root(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	return expect_result(run, "VMXON in VMX root operation", vmxon(mhv_vmx_vmxon_pa()),
			     VMX_FAIL_VALID, VMXERR_VMXON_IN_ROOT);
}
PROBE("vminsn/vmx-vmxon-in-root", vmxon_in_root);

/* VMPTRST stores the current-VMCS pointer; after VMCLEAR of the current VMCS it is
 * FFFFFFFF_FFFFFFFFh and VMLAUNCH fails with VMfailInvalid (no current VMCS). */
static enum probe_status vmptrst_vmclear(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	uint64_t current = 0;
	MHV_CHECK(expect_result(run, "VMPTRST", vmptrst(&current), VMX_OK, 0));
	EXPECT_EQ(run, "current-VMCS pointer", vm->vmcs_pa, current);
	MHV_CHECK(expect_result(run, "VMCLEAR of the current VMCS", vmclear(vm->vmcs_pa), VMX_OK, 0));
	vmptrst(&current);
	EXPECT_EQ(run, "current-VMCS pointer after VMCLEAR", ~0ull, current);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH without a current VMCS", &e);
	if (e.kind != MHV_EXIT_VMFAIL || e.vmfail != VMX_FAIL_INVALID)
		return probe_fail(run, "VMLAUNCH without a current VMCS: expected VMfailInvalid, "
				  "observed %s", mhv_exit_kind_name(e.kind));
	return PROBE_PASS;
}
PROBE("vminsn/vmx-vmptrst-vmclear", vmptrst_vmclear);

/* VMCLEAR sets the launch state to clear: VMRESUME after VMCLEAR + VMPTRLD fails with
 * VMfailValid 5. */
MHV_L2_ASM(l2_cpuid, "cpuid");

static enum probe_status vmclear_launch_state(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm));
	mhv_l2_call(vm, l2_cpuid, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_CPUID));
	MHV_CHECK(expect_result(run, "VMCLEAR", vmclear(vm->vmcs_pa), VMX_OK, 0));
	MHV_CHECK(expect_result(run, "VMPTRLD", vmptrld(vm->vmcs_pa), VMX_OK, 0));
	mhv_advance_rip(vm, 2);
	mhv_run(vm, &e); /* vm->launched is still true: VMRESUME */
	mhv_diag_exit("VMRESUME after VMCLEAR", &e);
	if (e.kind != MHV_EXIT_VMFAIL || e.vmfail != VMX_FAIL_VALID)
		return probe_fail(run, "VMRESUME after VMCLEAR: expected VMfailValid 5, observed %s",
				  mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "VM-instruction error", VMXERR_VMRESUME_NONLAUNCHED, e.vm_insn_error);
	return PROBE_PASS;
}
PROBE("vminsn/vmx-vmclear-launch-state", vmclear_launch_state);
