/* entry/cr4-fixed1-by-cpuid (VT-x): IA32_VMX_CR4_FIXED1 allows a CR4 bit in VMX operation
 * only where the CPUID of the same CPU shows the feature the bit controls (SDM vol.3A 2.5
 * with vol.2A CPUID; vol.3D A.8: FIXED1 reports the bits the processor allows to be 1),
 * and every such feature's bit is allowed; a VM entry whose guest CR4 sets a bit FIXED1
 * clears is a VM-entry failure, exit 33 with qualification 0 (vol.3C 27.3.1.1, 27.8).
 * Under nestbed this is the offer following L1's CPUID. AMD-V has no capability MSRs:
 * SKIP. */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define LEAF_FEATURES 1u
#define LEAF_EXTENDED 7u

enum reg { EBX, ECX, EDX, EAX_7_1 };

struct cr4_feature {
	unsigned cr4_bit;
	unsigned leaf;   /* 1 or 7 */
	enum reg reg;
	unsigned bit;
	const char *name;
};

/* SDM vol.3A 2.5 (CR4) against vol.2A tables 3-10, 3-11 and leaf 07H. CET (bit 23) is
 * allowed by either CET_SS or CET_IBT and left out here; PCE (bit 8) has no flag. */
static const struct cr4_feature features[] = {
	{ 0, LEAF_FEATURES, EDX, 1, "VME" },        { 1, LEAF_FEATURES, EDX, 1, "PVI (VME)" },
	{ 2, LEAF_FEATURES, EDX, 4, "TSD (TSC)" },  { 3, LEAF_FEATURES, EDX, 2, "DE" },
	{ 4, LEAF_FEATURES, EDX, 3, "PSE" },        { 5, LEAF_FEATURES, EDX, 6, "PAE" },
	{ 6, LEAF_FEATURES, EDX, 7, "MCE" },        { 7, LEAF_FEATURES, EDX, 13, "PGE" },
	{ 9, LEAF_FEATURES, EDX, 24, "OSFXSR (FXSR)" }, { 10, LEAF_FEATURES, EDX, 25, "OSXMMEXCPT (SSE)" },
	{ 11, LEAF_EXTENDED, ECX, 2, "UMIP" },      { 12, LEAF_EXTENDED, ECX, 16, "LA57" },
	{ 13, LEAF_FEATURES, ECX, 5, "VMXE (VMX)" }, { 14, LEAF_FEATURES, ECX, 6, "SMXE (SMX)" },
	{ 16, LEAF_EXTENDED, EBX, 0, "FSGSBASE" },  { 17, LEAF_FEATURES, ECX, 17, "PCIDE (PCID)" },
	{ 18, LEAF_FEATURES, ECX, 26, "OSXSAVE (XSAVE)" }, { 19, LEAF_EXTENDED, ECX, 23, "KL" },
	{ 20, LEAF_EXTENDED, EBX, 7, "SMEP" },      { 21, LEAF_EXTENDED, EBX, 20, "SMAP" },
	{ 22, LEAF_EXTENDED, ECX, 3, "PKE (PKU)" }, { 24, LEAF_EXTENDED, ECX, 31, "PKS" },
	{ 25, LEAF_EXTENDED, EDX, 5, "UINTR" },     { 28, LEAF_EXTENDED, EAX_7_1, 26, "LAM_SUP (LAM)" },
};

MHV_L2_ASM(l2_nop, "nop");

static bool has_feature(const struct cr4_feature *f)
{
	uint32_t max = cpuid_subleaf(0, 0).eax;
	if (f->leaf > max)
		return false;
	if (f->reg == EAX_7_1)
		return cpuid_subleaf(LEAF_EXTENDED, 0).eax >= 1 &&
		       ((cpuid_subleaf(LEAF_EXTENDED, 1).eax >> f->bit) & 1);
	struct cpuid_regs r = cpuid_subleaf(f->leaf, 0);
	uint32_t v = f->reg == EBX ? r.ebx : f->reg == ECX ? r.ecx : r.edx;
	return (v >> f->bit) & 1;
}

static enum probe_status cr4_fixed1_by_cpuid(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "AMD-V has no IA32_VMX_CR4_FIXED1"));
	uint64_t fixed0 = 0, fixed1 = 0;
	if (!rdmsr_safe(MSR_IA32_VMX_CR4_FIXED0, &fixed0) || !rdmsr_safe(MSR_IA32_VMX_CR4_FIXED1, &fixed1))
		return probe_fail(run, "RDMSR of IA32_VMX_CR4_FIXED0/1 raised #GP with VMX enabled");
	diag("IA32_VMX_CR4_FIXED0 %#llx FIXED1 %#llx", (unsigned long long)fixed0,
		   (unsigned long long)fixed1);
	const struct cr4_feature *absent = NULL;
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct cr4_feature *f = &features[i];
		bool allowed = (fixed1 >> f->cr4_bit) & 1, present = has_feature(f);
		if (allowed != present)
			return probe_fail(run, "IA32_VMX_CR4_FIXED1 bit %u (CR4.%s): expected %u (CPUID %s), observed %u",
					  f->cr4_bit, f->name, present, present ? "has it" : "lacks it", allowed);
		if (!present && !absent)
			absent = f;
	}
	if (!absent)
		return probe_skip(run, "CPUID shows every CR4 feature: no bit to refuse");
	mhv_l2_call(vm, l2_nop, NULL);
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | (1ull << absent->cr4_bit));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry with the bit set", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INVALID_STATE));
	EXPECT_EQ(run, "VMX exit qualification of the VM-entry failure", 0, e.qualification);
	return PROBE_PASS;
}
PROBE("entry/cr4-fixed1-by-cpuid", cr4_fixed1_by_cpuid);

/* entry/vmx-cr3-beyond-maxphyaddr (VT-x): guest CR3 with bit MAXPHYADDR set, the width
 * CPUID.80000008H:EAX[7:0] gives (SDM vol.3C 27.3.1.1: CR3 bits beyond the
 * processor's physical-address width must be 0): VM-entry failure, exit 33,
 * qualification 0; under nestbed the width is L1's CPUID's. */
#define LEAF_ADDRESS_SIZES 0x80000008u
#define MAXPHYADDR_MASK 0xffu

static enum probe_status cr3_beyond_maxphyaddr(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMRUN checks CR3's MBZ bits by the mode L2 enters (APM vol.2 15.5.1)"));
	if (cpuid_subleaf(0x80000000u, 0).eax < LEAF_ADDRESS_SIZES)
		return probe_skip(run, "no CPUID leaf 80000008H (MAXPHYADDR)");
	unsigned width = cpuid_subleaf(LEAF_ADDRESS_SIZES, 0).eax & MAXPHYADDR_MASK;
	if (width >= 52)
		return probe_skip(run, "MAXPHYADDR is 52: no CR3 bit lies beyond it");
	mhv_l2_call(vm, l2_nop, NULL);
	mhv_set(vm, MHV_REG_CR3, mhv_get(vm, MHV_REG_CR3) | (1ull << width));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry with CR3 bit MAXPHYADDR set", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INVALID_STATE));
	EXPECT_EQ(run, "VMX exit qualification of the VM-entry failure", 0, e.qualification);
	return PROBE_PASS;
}
PROBE("entry/vmx-cr3-beyond-maxphyaddr", cr3_beyond_maxphyaddr);
