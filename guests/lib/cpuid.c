#include "lib/cpuid.h"

#include "core/string.h"
#include "lib/cpu.h"

void cpuid_vendor_string(char out[13])
{
	struct cpuid_regs r = cpuid(CPUID_LEAF_VENDOR);
	memcpy(out + 0, &r.ebx, 4);
	memcpy(out + 4, &r.edx, 4);
	memcpy(out + 8, &r.ecx, 4);
	out[12] = '\0';
}

enum cpu_vendor cpu_vendor(void)
{
	char vendor[13];
	cpuid_vendor_string(vendor);
	if (strcmp(vendor, CPUID_VENDOR_INTEL) == 0)
		return CPU_VENDOR_INTEL;
	if (strcmp(vendor, CPUID_VENDOR_AMD) == 0)
		return CPU_VENDOR_AMD;
	return CPU_VENDOR_OTHER;
}

uint32_t cpuid_max_extended_leaf(void)
{
	uint32_t max = cpuid(CPUID_LEAF_EXT_MAX).eax;
	/* Without the extended range, CPUs echo a basic leaf's data: keep only sane values. */
	return (max & 0xffff0000u) == CPUID_LEAF_EXT_MAX ? max : 0;
}

bool cpu_has_vmx(void)
{
	return (cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_VMX) != 0;
}

bool cpu_has_svm(void)
{
	if (cpuid_max_extended_leaf() < CPUID_LEAF_EXT_FEATURES)
		return false;
	return (cpuid(CPUID_LEAF_EXT_FEATURES).ecx & CPUID_80000001_ECX_SVM) != 0;
}

bool cpu_hypervisor_present(void)
{
	return (cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_HYPERVISOR) != 0;
}
