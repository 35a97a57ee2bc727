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

void cpuid_brand_string(char out[49])
{
	out[0] = '\0';
	if (cpuid_max_extended_leaf() < 0x80000004u)
		return;
	char raw[49];
	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002u + i);
		memcpy(raw + 16 * i + 0, &r.eax, 4);
		memcpy(raw + 16 * i + 4, &r.ebx, 4);
		memcpy(raw + 16 * i + 8, &r.ecx, 4);
		memcpy(raw + 16 * i + 12, &r.edx, 4);
	}
	raw[48] = '\0';
	const char *start = raw;
	while (*start == ' ')
		start++;
	strlcpy(out, start, 49);
}

void cpuid_hypervisor_signature(char out[13])
{
	out[0] = '\0';
	if (!cpu_hypervisor_present())
		return;
	struct cpuid_regs r = cpuid(0x40000000u);
	memcpy(out + 0, &r.ebx, 4);
	memcpy(out + 4, &r.ecx, 4);
	memcpy(out + 8, &r.edx, 4);
	out[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (out[i] && (out[i] < 0x20 || out[i] > 0x7e))
			out[i] = '?';
}
