/* tdp/ept-misconfig-leaf: EPT misconfigurations of a leaf entry (SDM vol.3C 29.3.3.1),
 * the VT-x twin of tdp/npt-reserved-pml4e's leaf case: an entry that is writable but
 * not readable (bits 2:0 = 010b and 110b), and one with an address bit at MAXPHYADDR
 * (bits 51:MAXPHYADDR are reserved, 29.3.2 Table 29-6), give exit 49 with the
 * guest-physical address of L2's read; an execute-only entry (100b) is a
 * misconfiguration unless IA32_VMX_EPT_VPID_CAP[0] allows it, and then the read is an
 * EPT violation (exit 48, qualification: read, the entry's X, linear address valid,
 * final translation, 28.2.1 Table 28-7). L2 then runs to its end with the entry
 * restored. SKIP on SVM (NPT has no such encodings: tdp/npt-reserved-pml4e). */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define OFFSET 0x128
#define EPT_RWX_MASK 7ull          /* 29.3.2: bit 0 R, bit 1 W, bit 2 X (EPT_W, EPT_X: lib/tdp.h) */
#define EPT_WX (EPT_W | EPT_X)
#define EPT_CAP_EXECUTE_ONLY (1ull << 0)  /* vol.3D A.10 */
#define CPUID_ADDRESS_SIZES 0x80000008u   /* EAX[7:0] MAXPHYADDR */
#define EPT_ADDR_BITS 52

MHV_L2_ASM(l2_read, "mov 0x128(%rdi), %rax"); /* 7 bytes */

/* L2 reads page + 128h with the leaf set to `value`; the entry is restored after. */
static void read_with_leaf(struct mhv_vm *vm, uint64_t *leaf, uint64_t value, uint64_t pa,
			   struct mhv_exit *e, const char *what)
{
	uint64_t saved = *leaf;
	*leaf = value;
	mhv_tdp_changed(vm);
	mhv_l2_call(vm, l2_read, (void *)pa);
	mhv_run(vm, e);
	mhv_diag_exit(what, e);
	*leaf = saved;
	mhv_tdp_changed(vm);
}

static enum probe_status expect_misconfig(struct probe_run *run, const struct mhv_exit *e, uint64_t gpa)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_TDP_MISCONFIG));
	EXPECT_EQ(run, "VMX guest-physical address", gpa, e->guest_physical);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_read, e->rip);
	return PROBE_PASS;
}

static enum probe_status ept_misconfig_leaf(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "EPT misconfigurations"));
	uint64_t pa = (uint64_t)mhv_scratch_page(0);
	uint64_t *leaf = mhv_tdp_entry(vm, pa);
	if (!leaf)
		return probe_fail(run, "no leaf entry for %#llx", (unsigned long long)pa);
	uint64_t base = *leaf & ~EPT_RWX_MASK;
	struct mhv_exit e;

	read_with_leaf(vm, leaf, base | EPT_W, pa, &e, "leaf writable, not readable (010b)");
	MHV_CHECK(expect_misconfig(run, &e, pa + OFFSET));
	read_with_leaf(vm, leaf, base | EPT_WX, pa, &e, "leaf writable and executable, not readable (110b)");
	MHV_CHECK(expect_misconfig(run, &e, pa + OFFSET));

	unsigned maxphyaddr = cpuid(CPUID_ADDRESS_SIZES).eax & 0xff;
	if (maxphyaddr < EPT_ADDR_BITS) {
		read_with_leaf(vm, leaf, *leaf | (1ull << maxphyaddr), pa, &e, "leaf address bit MAXPHYADDR set");
		MHV_CHECK(expect_misconfig(run, &e, pa + OFFSET));
	}

	bool execute_only = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_EXECUTE_ONLY;
	read_with_leaf(vm, leaf, base | EPT_X, pa, &e, "leaf execute-only (100b)");
	if (!execute_only) {
		MHV_CHECK(expect_misconfig(run, &e, pa + OFFSET));
	} else {
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
		EXPECT_EQ(run, "VMX exit qualification (EPT violation of a read, entry X only)",
			  VMX_EPT_QUAL_READ | VMX_EPT_QUAL_EXECUTABLE | VMX_EPT_QUAL_LINEAR_VALID |
				  VMX_EPT_QUAL_FINAL,
			  e.qualification & ~VMX_EPT_QUAL_NMI_UNBLOCK);
		EXPECT_EQ(run, "VMX guest-physical address", pa + OFFSET, e.guest_physical);
	}
	/* restored: L2 runs to its end */
	mhv_l2_call(vm, l2_read, (void *)pa);
	return mhv_run_expect_done(run, vm);
}
PROBE("tdp/ept-misconfig-leaf", ept_misconfig_leaf);
