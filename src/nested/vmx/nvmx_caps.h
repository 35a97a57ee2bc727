/* The VT-x nestbed offers L1: the IA32_VMX_* capability MSRs (SDM vol.3 appendix A)
 * derived from the CPU's own values minus what nestbed does not emulate. Pure,
 * host-tested. */
#ifndef NESTBED_NVMX_CAPS_H
#define NESTBED_NVMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_caps.h"
#include "nested/vmx/vmcs12_check.h"

#define NVMX_CAP_MSR_FIRST MSR_IA32_VMX_BASIC
#define NVMX_CAP_MSR_LAST MSR_IA32_VMX_VMFUNC
#define NVMX_CAP_MSR_COUNT (NVMX_CAP_MSR_LAST - NVMX_CAP_MSR_FIRST + 1)

struct nvmx_offer {
	uint64_t msr[NVMX_CAP_MSR_COUNT];   /* by MSR - IA32_VMX_BASIC */
	bool exists[NVMX_CAP_MSR_COUNT];    /* RDMSR of an absent one raises #GP (A.1) */
	struct nvmx_caps caps;              /* the same, as the entry checks read them */
};

/* From the CPU's capability MSRs; vmcs_enum_index is the highest field index nestbed
 * supports (vmcs12_highest_index). */
void nvmx_offer_build(const struct vmx_caps *hw, unsigned maxphyaddr, unsigned vmcs_enum_index,
		      struct nvmx_offer *out);

/* 0 and the value, or -1 for an MSR the virtual CPU does not have (#GP). */
int nvmx_offer_read(const struct nvmx_offer *o, uint32_t msr, uint64_t *value);

#endif
