/* CPU detection: vendor, VMX or SVM, and their capabilities, printed once in a
 * stable, parseable form (`nestbed: cpu ...`, `nestbed: svm ...`, `nestbed: vmx ...`). */
#ifndef NESTBED_CPU_CAPS_H
#define NESTBED_CPU_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/x86.h"

/* CPUID bits: SDM vol.2A CPUID; APM vol.3 appendix E. */
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_ADDR_SIZE_LEAF 0x80000008u /* EAX[7:0] MAXPHYADDR (SDM vol.2A CPUID; APM vol.3 E.4.7) */
#define MAXPHYADDR_DEFAULT 36            /* without that leaf (SDM vol.3A 4.1.4) */
#define CPUID_80000001_ECX_SVM (1u << 2)
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)
#define CPUID_SVM_LEAF 0x8000000Au

/* MSRs: SDM vol.4 2.1; APM vol.2 15.30. */
#define MSR_IA32_FEATURE_CONTROL 0x3A
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_VMX_VMFUNC 0x491

#define VMX_BASIC_TRUE_CTLS (1ull << 55)
#define VMX_PROCBASED_ACTIVATE_SECONDARY (1ull << (32 + 31))
#define VMX_PROCBASED2_EPT (1ull << (32 + 1))
#define VMX_PROCBASED2_VPID (1ull << (32 + 5))
#define VMX_PROCBASED2_VMFUNC (1ull << (32 + 13))

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };

struct vmx_caps {
	uint64_t basic, pinbased, procbased, procbased2, exit, entry, misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum;
	uint64_t ept_vpid, vmfunc;
	uint64_t true_pinbased, true_procbased, true_exit, true_entry;
	uint64_t feature_control;
};

struct svm_caps {
	uint32_t revision, nasid, features;
	uint64_t vm_cr;
};

struct cpu_caps {
	char vendor_string[13];
	enum cpu_vendor vendor;
	uint32_t family, model, stepping;
	uint32_t max_leaf, max_ext_leaf;
	bool vmx, svm, page1gb, x2apic;
	unsigned maxphyaddr; /* physical-address width in bits */
	struct vmx_caps vmx_caps;
	struct svm_caps svm_caps;
};

void cpu_caps_detect(struct cpu_caps *c);
void cpu_caps_print(const struct cpu_caps *c);

#endif
