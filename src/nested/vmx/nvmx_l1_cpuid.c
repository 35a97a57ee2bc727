#include "nested/vmx/nvmx_l1_cpuid.h"

#include <stddef.h>

#include "core/cpu_caps.h"
#include "core/x86.h"

/* CPUID.01H (SDM vol.2A table 3-10, 3-11) */
#define L1_EDX_VME (1u << 1)
#define L1_EDX_DE (1u << 2)
#define L1_EDX_PSE (1u << 3)
#define L1_EDX_TSC (1u << 4)
#define L1_EDX_PAE (1u << 6)
#define L1_EDX_MCE (1u << 7)
#define L1_EDX_PGE (1u << 13)
#define L1_EDX_FXSR (1u << 24)
#define L1_EDX_SSE (1u << 25)
#define L1_ECX_VMX (1u << 5)
#define L1_ECX_SMX (1u << 6)
#define L1_ECX_PCID (1u << 17)
#define L1_ECX_XSAVE (1u << 26)
/* CPUID.(EAX=07H,ECX=0) */
#define L7_EBX_FSGSBASE (1u << 0)
#define L7_EBX_SGX (1u << 2)
#define L7_EBX_SMEP (1u << 7)
#define L7_EBX_RTM (1u << 11)
#define L7_EBX_SMAP (1u << 20)
#define L7_ECX_UMIP (1u << 2)
#define L7_ECX_PKU (1u << 3)
#define L7_ECX_CET_SS (1u << 7)
#define L7_ECX_LA57 (1u << 16)
#define L7_ECX_KL (1u << 23)
#define L7_ECX_BUS_LOCK_DETECT (1u << 24)
#define L7_ECX_PKS (1u << 31)
#define L7_EDX_UINTR (1u << 5)
#define L7_EDX_CET_IBT (1u << 20)
/* CPUID.(EAX=07H,ECX=1) */
#define L71_EAX_LAM (1u << 26)
#define MAXPHYADDR_MASK 0xffu
#define MAXPHYADDR_NO_LEAF_PAE 36u
#define MAXPHYADDR_NO_LEAF 32u
#define MAXPHYADDR_MAX 52u

struct cr4_feature {
	uint64_t cr4;
	const uint32_t *reg; /* the CPUID register, or NULL: always allowed */
	uint32_t bit;
};

uint64_t nvmx_cr4_allowed_by_cpuid(const struct nvmx_l1_cpuid *c)
{
	const struct cr4_feature table[] = {
		{ CR4_VME, &c->leaf1_edx, L1_EDX_VME },        { CR4_PVI, &c->leaf1_edx, L1_EDX_VME },
		{ CR4_TSD, &c->leaf1_edx, L1_EDX_TSC },        { CR4_DE, &c->leaf1_edx, L1_EDX_DE },
		{ CR4_PSE, &c->leaf1_edx, L1_EDX_PSE },        { CR4_PAE, &c->leaf1_edx, L1_EDX_PAE },
		{ CR4_MCE, &c->leaf1_edx, L1_EDX_MCE },        { CR4_PGE, &c->leaf1_edx, L1_EDX_PGE },
		{ CR4_PCE, NULL, 0 },                          { CR4_OSFXSR, &c->leaf1_edx, L1_EDX_FXSR },
		{ CR4_OSXMMEXCPT, &c->leaf1_edx, L1_EDX_SSE }, { CR4_UMIP, &c->leaf7_ecx, L7_ECX_UMIP },
		{ CR4_LA57, &c->leaf7_ecx, L7_ECX_LA57 },      { CR4_VMXE, &c->leaf1_ecx, L1_ECX_VMX },
		{ CR4_SMXE, &c->leaf1_ecx, L1_ECX_SMX },       { CR4_FSGSBASE, &c->leaf7_ebx, L7_EBX_FSGSBASE },
		{ CR4_PCIDE, &c->leaf1_ecx, L1_ECX_PCID },     { CR4_OSXSAVE, &c->leaf1_ecx, L1_ECX_XSAVE },
		{ CR4_KL, &c->leaf7_ecx, L7_ECX_KL },          { CR4_SMEP, &c->leaf7_ebx, L7_EBX_SMEP },
		{ CR4_SMAP, &c->leaf7_ebx, L7_EBX_SMAP },      { CR4_PKE, &c->leaf7_ecx, L7_ECX_PKU },
		{ CR4_CET, &c->leaf7_ecx, L7_ECX_CET_SS },     { CR4_CET, &c->leaf7_edx, L7_EDX_CET_IBT },
		{ CR4_PKS, &c->leaf7_ecx, L7_ECX_PKS },        { CR4_UINTR, &c->leaf7_edx, L7_EDX_UINTR },
		{ CR4_LAM_SUP, &c->leaf7_1_eax, L71_EAX_LAM },
	};
	uint64_t allowed = 0;
	for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!table[i].reg || (*table[i].reg & table[i].bit))
			allowed |= table[i].cr4;
	return allowed;
}

unsigned nvmx_maxphyaddr_by_cpuid(const struct nvmx_l1_cpuid *c)
{
	if (!c->has_80000008)
		return (c->leaf1_edx & L1_EDX_PAE) ? MAXPHYADDR_NO_LEAF_PAE : MAXPHYADDR_NO_LEAF;
	unsigned width = c->leaf80000008_eax & MAXPHYADDR_MASK;
	if (width < MAXPHYADDR_NO_LEAF)
		return MAXPHYADDR_NO_LEAF;
	return width > MAXPHYADDR_MAX ? MAXPHYADDR_MAX : width;
}

void nvmx_offer_follow_cpuid(struct nvmx_offer *o, const struct nvmx_l1_cpuid *c)
{
	struct nvmx_caps *caps = &o->caps;
	caps->cr4_fixed1 = (caps->cr4_fixed1 & nvmx_cr4_allowed_by_cpuid(c)) | caps->cr4_fixed0;
	o->msr[MSR_IA32_VMX_CR4_FIXED1 - NVMX_CAP_MSR_FIRST] = caps->cr4_fixed1;
	caps->maxphyaddr = nvmx_maxphyaddr_by_cpuid(c);
	caps->sgx = (c->leaf7_ebx & L7_EBX_SGX) != 0;
	caps->rtm = (c->leaf7_ebx & L7_EBX_RTM) != 0;
	caps->bus_lock_detect = (c->leaf7_ecx & L7_ECX_BUS_LOCK_DETECT) != 0;
}
