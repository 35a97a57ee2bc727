/* What the guest sees of CPUID: the host's values, except what nestbed hides or adds.
 * Pure, host-tested. */
#ifndef NESTBED_CPUID_POLICY_H
#define NESTBED_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_HYPERVISOR_BASE 0x40000000u  /* the leaves hypervisors own (SDM vol.2A CPUID) */
#define CPUID_1_ECX_HYPERVISOR (1u << 31)  /* "running under a hypervisor" */
#define CPUID_1_ECX_VMX_BIT (1u << 5)
#define CPUID_80000001_ECX_SVM_BIT (1u << 2)
#define CPUID_SVM_FEATURES_LEAF 0x8000000Au
#define CPUID_1_ECX_OSXSAVE (1u << 27)  /* mirrors CR4.OSXSAVE (SDM vol.2A CPUID) */
#define CPUID_7_ECX_OSPKE (1u << 4)     /* mirrors CR4.PKE */
#define POLICY_CR4_OSXSAVE (1ull << 18)
#define POLICY_CR4_PKE (1ull << 22)
#define NESTBED_CPUID_SIGNATURE "NestbedL0Hv\0" /* 12 bytes in EBX, ECX, EDX */
#define NESTBED_CPUID_ABI 1

struct cpuid_policy {
	bool expose_vmx; /* the nested layer offers VT-x to the guest */
	bool expose_svm; /* the nested layer offers AMD-V to the guest */
	/* CPUID 8000_000Ah EDX as nestbed emulates it for the guest (nested SVM only). */
	uint32_t svm_features;
	uint32_t svm_nasid;
};

struct cpuid_result {
	uint32_t eax, ebx, ecx, edx;
};

/* Turns the host's result for (leaf, subleaf) into what the guest sees. The bits that
 * mirror control-register state (OSXSAVE, OSPKE) follow the guest's CR4, not nestbed's. */
void cpuid_policy_apply(const struct cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
			uint64_t guest_cr4, struct cpuid_result *r);

#endif
