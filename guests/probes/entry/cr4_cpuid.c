/* entry/cr4-reserved-by-cpuid: a CR4 bit whose feature the CPU's CPUID does not list is
 * reserved (APM vol.2 3.1.3: reserved CR4 bits MBZ; SDM vol.3A 2.5, and IA32_VMX_CR4_FIXED1
 * reports the bits the CPU has, SDM vol.3D A.8), so VMRUN with it in the guest's CR4 exits
 * with VMEXIT_INVALID (APM 15.5.1 "any MBZ bit of CR4 is set") and a VM entry fails with
 * reason 33 (SDM vol.3C 27.3.1.1). The probe takes the first such bit of the list. */
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/mhv.h"

MHV_L2_ASM(l2_nop, "nop");

struct cr4_feature {
	const char *name;
	unsigned cr4_bit;
	uint32_t leaf;
	char reg;          /* 'b', 'c' or 'd' */
	unsigned cpuid_bit;
};

static const struct cr4_feature features[] = {
	{ "UMIP", 11, 7, 'c', 2 },      { "PKE (PKU)", 22, 7, 'c', 3 },
	{ "LA57", 12, 7, 'c', 16 },     { "PKS", 24, 7, 'c', 31 },
	{ "PCIDE (PCID)", 17, 1, 'c', 17 }, { "FSGSBASE", 16, 7, 'b', 0 },
	{ "SMEP", 20, 7, 'b', 7 },      { "SMAP", 21, 7, 'b', 20 },
	{ "UINTR", 25, 7, 'd', 5 },
};

static bool has_feature(const struct cr4_feature *f)
{
	if (f->leaf > cpuid(0).eax)
		return false;
	struct cpuid_regs r = f->leaf == 7 ? cpuid_subleaf(7, 0) : cpuid(f->leaf);
	uint32_t word = f->reg == 'b' ? r.ebx : f->reg == 'c' ? r.ecx : r.edx;
	return (word >> f->cpuid_bit) & 1;
}

static enum probe_status cr4_reserved_by_cpuid(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	const struct cr4_feature *absent = NULL;
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]) && !absent; i++)
		if (!has_feature(&features[i]))
			absent = &features[i];
	if (!absent)
		return probe_skip(run, "CPUID lists every CR4 feature the probe knows");
	diag("CR4.%s (bit %u): CPUID.%xh.%cX[%u] = 0", absent->name, absent->cr4_bit, absent->leaf,
	     absent->reg - 'a' + 'A', absent->cpuid_bit);
	mhv_l2_call(vm, l2_nop, NULL);
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | (1ull << absent->cr4_bit));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VM entry", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INVALID_STATE));
	if (e.vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification of the VM-entry failure", 0, e.qualification);
	return PROBE_PASS;
}
PROBE("entry/cr4-reserved-by-cpuid", cr4_reserved_by_cpuid);
