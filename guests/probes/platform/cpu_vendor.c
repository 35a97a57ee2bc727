/* platform/cpu-vendor: the CPU says it is Intel or AMD (CPUID leaf 0), the two
 * vendors whose virtualization nestbed targets. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/probe.h"

static enum probe_status cpu_vendor_probe(struct probe_run *run)
{
	char vendor[13];
	cpuid_vendor_string(vendor);
	struct cpuid_regs leaf0 = cpuid(CPUID_LEAF_VENDOR);
	bool hypervisor = cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_HYPERVISOR;

	diag("CPUID.0: vendor '%s', max basic leaf %#x, max extended leaf %#x, hypervisor bit %d",
	     vendor, leaf0.eax, cpuid_max_extended_leaf(), hypervisor);
	char brand[49];
	cpuid_brand_string(brand);
	char hv[13];
	cpuid_hypervisor_signature(hv);
	diag("brand '%s'; hypervisor leaf 40000000h signature '%s'", brand, hv);
	if (cpu_vendor() == CPU_VENDOR_OTHER)
		return probe_fail(run, "expected vendor '" CPUID_VENDOR_INTEL "' or '"
				  CPUID_VENDOR_AMD "', observed '%s'", vendor);
	return PROBE_PASS;
}
PROBE("platform/cpu-vendor", cpu_vendor_probe);
