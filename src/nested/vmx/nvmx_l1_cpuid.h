/* The VT-x nestbed offers follows the CPUID L1 sees: a CR4 bit is allowed to be 1 in
 * VMX operation (IA32_VMX_CR4_FIXED1, SDM vol.3D A.8) only when L1's CPUID shows the
 * feature it controls (SDM vol.3A 2.5), and the physical-address width of the checks
 * (CR3, addresses of VMCS12, SDM vol.3C 26.2-26.3) is L1's MAXPHYADDR. KVM's
 * nested_vmx_cr_fixed1_bits_update does the same. Pure, host-tested. */
#ifndef NESTBED_NVMX_L1_CPUID_H
#define NESTBED_NVMX_L1_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "nested/vmx/nvmx_caps.h"

/* The leaves it reads, as nestbed's CPUID policy gives them to L1 (0 where L1's highest
 * leaf is below). */
struct nvmx_l1_cpuid {
	uint32_t leaf1_ecx, leaf1_edx;               /* CPUID.01H */
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;    /* CPUID.(EAX=07H,ECX=0) */
	uint32_t leaf7_1_eax;                        /* CPUID.(EAX=07H,ECX=1) */
	bool has_80000008;                           /* the highest extended leaf reaches it */
	uint32_t leaf80000008_eax;                   /* bits 7:0 MAXPHYADDR */
};

/* The CR4 bits L1's CPUID allows (PCE, which every CPU with RDPMC has, always). */
uint64_t nvmx_cr4_allowed_by_cpuid(const struct nvmx_l1_cpuid *c);

/* MAXPHYADDR (SDM vol.3A 4.1.4): CPUID.80000008H:EAX[7:0], else 36 with PAE, 32 without;
 * kept within 32..52. */
unsigned nvmx_maxphyaddr_by_cpuid(const struct nvmx_l1_cpuid *c);

/* Narrows an offer built from the CPU (nvmx_offer_build) to L1's CPUID: IA32_VMX_CR4_FIXED1
 * (and its copy in caps) loses the bits whose feature L1 lacks, never a FIXED0 bit; the
 * physical-address width and the SGX, RTM and bus-lock-detection flags of caps follow
 * L1's leaves. */
void nvmx_offer_follow_cpuid(struct nvmx_offer *o, const struct nvmx_l1_cpuid *c);

#endif
