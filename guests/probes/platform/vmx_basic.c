/* platform/vmx-basic: IA32_VMX_BASIC describes a usable VMCS (SDM vol.3D A.1):
 * revision id non-zero, bit 31 clear, region size in 1..4096 bytes. */
#include "lib/cpuid.h"
#include "lib/msr.h"
#include "lib/probe.h"

#define VMCS_SIZE_MAX 4096 /* SDM vol.3D A.1: "never greater than 4096" */

static const char *memory_type_name_vmx(unsigned type)
{
	switch (type) {
	case 0: return "UC";
	case 6: return "WB";
	default: return "reserved";
	}
}

static enum probe_status vmx_basic_probe(struct probe_run *run)
{
	if (cpu_vendor() != CPU_VENDOR_INTEL)
		return probe_skip(run, "not an Intel CPU: IA32_VMX_BASIC does not apply");
	if (!cpu_has_vmx())
		return probe_skip(run, "VMX absent (CPUID.1:ECX.VMX = 0)");

	uint64_t feature_control;
	if (rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &feature_control))
		diag("IA32_FEATURE_CONTROL = %#llx (lock %d, VMX inside SMX %d, VMX outside SMX %d)",
		     (unsigned long long)feature_control,
		     !!(feature_control & FEATURE_CONTROL_LOCK),
		     !!(feature_control & FEATURE_CONTROL_VMX_INSIDE_SMX),
		     !!(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX));
	else
		diag("IA32_FEATURE_CONTROL: RDMSR raised #GP");

	uint64_t basic;
	if (!rdmsr_safe(MSR_IA32_VMX_BASIC, &basic))
		return probe_fail(run, "VMX present: expected RDMSR IA32_VMX_BASIC (%#x) to work, "
				  "observed #GP", MSR_IA32_VMX_BASIC);

	uint32_t revision = basic & VMX_BASIC_REVISION_MASK;
	uint32_t vmcs_size = (basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK;
	unsigned memtype = (basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK;
	diag("IA32_VMX_BASIC = %#llx: revision %#x, VMCS size %u, memory type %u (%s), "
	     "32-bit addresses %d, INS/OUTS info %d, true controls %d",
	     (unsigned long long)basic, revision, vmcs_size, memtype,
	     memory_type_name_vmx(memtype), !!(basic & VMX_BASIC_ADDR_32BIT),
	     !!(basic & VMX_BASIC_INS_OUTS_INFO), !!(basic & VMX_BASIC_TRUE_CONTROLS));

	if (revision == 0)
		return probe_fail(run, "expected a non-zero VMCS revision id, observed 0 "
				  "(IA32_VMX_BASIC = %#llx)", (unsigned long long)basic);
	if (basic & VMX_BASIC_BIT31)
		return probe_fail(run, "expected bit 31 clear, observed set (IA32_VMX_BASIC = %#llx)",
				  (unsigned long long)basic);
	if (vmcs_size == 0 || vmcs_size > VMCS_SIZE_MAX)
		return probe_fail(run, "expected VMCS size in 1..%d, observed %u", VMCS_SIZE_MAX,
				  vmcs_size);
	return PROBE_PASS;
}
PROBE("platform/vmx-basic", vmx_basic_probe);
