#include "core/cpuid_policy.h"

void cpuid_policy_apply(const struct cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
			uint64_t guest_cr4, struct cpuid_result *r)
{
	switch (leaf) {
	case 1:
		r->ecx |= CPUID_1_ECX_HYPERVISOR;
		r->ecx = (r->ecx & ~CPUID_1_ECX_OSXSAVE) |
			 ((guest_cr4 & POLICY_CR4_OSXSAVE) ? CPUID_1_ECX_OSXSAVE : 0);
		if (!p->expose_vmx)
			r->ecx &= ~CPUID_1_ECX_VMX_BIT;
		break;
	case 7:
		if (subleaf == 0)
			r->ecx = (r->ecx & ~CPUID_7_ECX_OSPKE) |
				 ((guest_cr4 & POLICY_CR4_PKE) ? CPUID_7_ECX_OSPKE : 0);
		break;
	case 0x80000001u:
		if (!p->expose_svm)
			r->ecx &= ~CPUID_80000001_ECX_SVM_BIT;
		break;
	case CPUID_SVM_FEATURES_LEAF:
		if (!p->expose_svm) {
			r->eax = r->ebx = r->ecx = r->edx = 0;
		} else {
			r->ebx = p->svm_nasid;
			r->edx = p->svm_features;
		}
		break;
	case CPUID_HYPERVISOR_BASE: {
		const char *sig = NESTBED_CPUID_SIGNATURE;
		r->eax = CPUID_HYPERVISOR_BASE + 1; /* highest hypervisor leaf */
		r->ebx = (uint32_t)sig[0] | (uint32_t)sig[1] << 8 | (uint32_t)sig[2] << 16 | (uint32_t)sig[3] << 24;
		r->ecx = (uint32_t)sig[4] | (uint32_t)sig[5] << 8 | (uint32_t)sig[6] << 16 | (uint32_t)sig[7] << 24;
		r->edx = (uint32_t)sig[8] | (uint32_t)sig[9] << 8 | (uint32_t)sig[10] << 16 | (uint32_t)sig[11] << 24;
		break;
	}
	case CPUID_HYPERVISOR_BASE + 1:
		r->eax = NESTBED_CPUID_ABI;
		r->ebx = r->ecx = r->edx = 0;
		break;
	default:
		/* Other hypervisor leaves do not exist under nestbed. */
		if (leaf > CPUID_HYPERVISOR_BASE + 1 && leaf <= CPUID_HYPERVISOR_BASE + 0xFF)
			r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	}
}
