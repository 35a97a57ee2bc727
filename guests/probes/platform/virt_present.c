/* platform/virt-present: the CPU offers hardware virtualization, VMX on Intel
 * (CPUID.1:ECX.VMX) or SVM on AMD (CPUID.8000_0001h:ECX.SVM). Under a hypervisor
 * (CPUID.1:ECX[31]) that does not offer nested virtualization, that is a missing
 * feature of the hypervisor: reported as SKIP with the reason, not as a pass. */
#include "lib/cpuid.h"
#include "lib/probe.h"

static enum probe_status virt_present_probe(struct probe_run *run)
{
	bool vmx = cpu_has_vmx(), svm = cpu_has_svm();

	diag("CPUID.1:ECX.VMX[bit 5] = %d, CPUID.80000001h:ECX.SVM[bit 2] = %d", vmx, svm);
	if (!vmx && !svm && cpu_hypervisor_present())
		return probe_skip(run, "a hypervisor is present (CPUID.1:ECX[31]) and offers "
				  "neither VMX nor SVM to its guest");
	switch (cpu_vendor()) {
	case CPU_VENDOR_INTEL:
		if (!vmx)
			return probe_fail(run, "Intel CPU: expected CPUID.1:ECX.VMX = 1, observed 0");
		diag("VMX present");
		return PROBE_PASS;
	case CPU_VENDOR_AMD:
		if (!svm)
			return probe_fail(run, "AMD CPU: expected CPUID.80000001h:ECX.SVM = 1, "
					  "observed 0");
		diag("SVM present");
		return PROBE_PASS;
	case CPU_VENDOR_OTHER:
	default:
		if (!vmx && !svm)
			return probe_fail(run, "expected VMX or SVM, observed neither");
		diag("%s present (vendor neither Intel nor AMD)", vmx ? "VMX" : "SVM");
		return PROBE_PASS;
	}
}
PROBE("platform/virt-present", virt_present_probe);
