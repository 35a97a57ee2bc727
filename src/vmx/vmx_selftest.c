/* The backend's L0 self-test: a VMCS the CPU must refuse is refused and reported with
 * its VM-instruction error, through the same code the real entry path uses. */
#include "vmx/vmx.h"

#include "core/console.h"
#include "core/format.h"
#include "core/memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"

#define HLT_OPCODE 0xf4
#define WHY_SIZE 200

static struct vmx_vcpu scratch_vcpu;

static unsigned lowest_bit(uint32_t v)
{
	return (unsigned)__builtin_ctz(v);
}

void vmx_selftest(struct machine *m, void (*result)(bool ok, const char *why))
{
	char why[WHY_SIZE];
	struct pcpu cpu = { .index = 0 }; /* the self-test runs before the machine's CPUs exist */
	if (vmx_cpu_init(m, &cpu)) {
		result(false, "cannot enter VMX operation (see above)");
		return;
	}
	/* The scratch guest would start on a HLT in nestbed's own memory, which EPT does not
	 * map: should the CPU wrongly accept the entry, the guest exits at once. */
	uint64_t code = alloc_frames_zeroed(1, FRAME_SIZE);
	if (!code) {
		result(false, "out of memory for the scratch guest");
		return;
	}
	*(uint8_t *)phys_to_virt(code) = HLT_OPCODE;
	struct guest_start start = { .mode = GUEST_START_PROTECTED32, .rip = code };
	struct vcpu_state st;
	struct vmx_vcpu *vv = &scratch_vcpu;
	if (vmx_vmcs_create(m, vv, &start, &st)) {
		result(false, "cannot build the scratch VMCS (see above)");
		return;
	}

	/* 26.2.1.1: a pin-based control whose allowed 0-setting is 1 must be 1. With no such
	 * bit, set one whose allowed 1-setting is 0 instead: the same check refuses it. */
	uint64_t cap = vmx_control_cap(&m->caps.vmx_caps, VMX_CTLS_PIN);
	uint32_t must_be_one = vmx_allowed0(cap), must_be_zero = ~vmx_allowed1(cap);
	uint32_t bad;
	const char *how;
	if (must_be_one) {
		bad = vv->pin & ~(1u << lowest_bit(must_be_one));
		how = "cleared a must-be-one bit";
	} else if (must_be_zero) {
		bad = vv->pin | (1u << lowest_bit(must_be_zero));
		how = "set a must-be-zero bit";
	} else {
		result(false, "every pin-based control is free: no invalid setting to try");
		return;
	}
	vmcs_write(VMCS_PIN_BASED_CTLS, bad);
	kprintf("nestbed: vmx selftest: VMLAUNCH with pin-based controls %#x instead of %#x (%s; "
		"capability %#llx): expecting VMfailValid, error %u\n", bad, vv->pin, how,
		(unsigned long long)cap, VMX_ERROR_ENTRY_INVALID_CONTROL);

	struct gprs gprs = { 0 };
	enum vmx_result r = vmx_enter_guest(vv, &gprs);
	uint64_t error = 0;
	if (r == VMX_OK) {
		uint32_t reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
		format_buf(why, sizeof(why), "the CPU accepted pin-based controls %#x and entered the "
			   "guest (exit reason %#x, %s)", bad, reason,
			   vmx_exit_reason_name(reason & VMX_EXIT_REASON_BASIC_MASK));
	} else if (r == VMX_FAIL_INVALID) {
		format_buf(why, sizeof(why), "VMLAUNCH gave VMfailInvalid, expected VMfailValid %u",
			   VMX_ERROR_ENTRY_INVALID_CONTROL);
	} else {
		(void)vmcs_read_checked(VMCS_VM_INSTRUCTION_ERROR, &error);
		format_buf(why, sizeof(why), "VMLAUNCH: VMfailValid, VM-instruction error %llu (%s)",
			   (unsigned long long)error, vmx_instruction_error_name((uint32_t)error));
	}
	(void)vmclear(vv->vmcs_pa);
	result(r == VMX_FAIL_VALID && error == VMX_ERROR_ENTRY_INVALID_CONTROL, why);
}
