/* tdp/npt-reserved-pml4e, tdp/npt-fetch-flag: the details of a nested page fault's
 * error code (SVM EXITINFO1, APM vol.2 15.25.6: a #PF error code, 8.4.2) and their VT-x
 * twins (EPT misconfiguration, exit 49, SDM vol.3C 29.3.3.1; the EPT-violation
 * qualification, 28.2.1 Table 28-7). */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/svm.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

extern struct tdp mhv_tdp;

#define OFFSET 0x128
/* APM vol.2 5.3.3, Figure 5-18: bits 8:7 of a PML4E are MBZ. */
#define NPT_PML4E_MBZ_7 (1ull << 7)
#define NPT_PML4E_MBZ_8 (1ull << 8)
/* SDM vol.3C 29.3.2 Table 29-1: bits 7:3 of an EPT PML4E are reserved. */
#define EPT_PML4E_RSVD_7 (1ull << 7)
/* SDM vol.3C 29.3.7 Table 29-8 / 29.3.3.1: EPT memory type 2 is reserved. */
#define EPT_MEMTYPE_MASK_ (7ull << 3)
#define EPT_MEMTYPE_RSVD_2 (2ull << 3)
#define EFER_NXE_ (1ull << 11) /* APM vol.2 3.1.7 */

MHV_L2_ASM(l2_nd_read, "mov 0x128(%rdi), %rax");                 /* 7 bytes */
MHV_L2_ASM(l2_nd_fetch, "lea 0x100(%rdi), %rax\n\tcall *%rax");  /* jumps to page + 100h */

/* A reserved bit in the PML4E that maps everything (PML4[0]): the first access of L2,
 * the walk of its own page tables for its first fetch (its CR3 is L1's), faults at
 * its PML4 entry. SVM: NPF with P and RSV (and the walk's write bit, bit 33: see
 * tdp/guest-walk-fault). VMX: EPT misconfiguration with that GPA. */
static enum probe_status pml4e_case(struct probe_run *run, struct mhv_vm *vm, uint64_t bit)
{
	uint64_t saved = mhv_tdp.root[0];
	uint64_t gpa = read_cr3() & TDP_ADDR_MASK; /* L2's PML4E for its code (index 0) */
	mhv_tdp.root[0] |= bit;
	mhv_tdp_changed(vm);
	mhv_l2_call(vm, l2_nd_read, mhv_scratch_page(0));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("reserved bit in the PML4E", &e);
	mhv_tdp.root[0] = saved;
	mhv_tdp_changed(vm);
	if (e.vendor == MHV_VENDOR_SVM) {
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
		EXPECT_EQ(run, "SVM EXITINFO1 (NPF error code)",
			  SVM_NPF_PRESENT | SVM_NPF_WRITE | SVM_NPF_USER | SVM_NPF_RSVD |
				  SVM_NPF_TABLE_WALK,
			  e.exitinfo1);
		EXPECT_EQ(run, "SVM EXITINFO2 (guest-physical address)", gpa, e.exitinfo2);
	} else {
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_MISCONFIG));
		EXPECT_EQ(run, "VMX guest-physical address", gpa, e.guest_physical);
	}
	return PROBE_PASS;
}

static enum probe_status npt_reserved_pml4e(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	if (vm->vendor == MHV_VENDOR_SVM) {
		MHV_CHECK(pml4e_case(run, vm, NPT_PML4E_MBZ_7));
		MHV_CHECK(pml4e_case(run, vm, NPT_PML4E_MBZ_8));
	} else {
		MHV_CHECK(pml4e_case(run, vm, EPT_PML4E_RSVD_7));
		/* An unsupported memory type in a leaf (29.3.3.1): misconfiguration at the
		 * final GPA of the read. */
		uint64_t pa = (uint64_t)mhv_scratch_page(0);
		uint64_t *leaf = mhv_tdp_entry(vm, pa);
		if (!leaf)
			return probe_fail(run, "no leaf entry for %#llx", (unsigned long long)pa);
		uint64_t saved = *leaf;
		*leaf = (saved & ~EPT_MEMTYPE_MASK_) | EPT_MEMTYPE_RSVD_2;
		mhv_tdp_changed(vm);
		mhv_l2_call(vm, l2_nd_read, (void *)pa);
		struct mhv_exit e;
		mhv_run(vm, &e);
		mhv_diag_exit("reserved memory type", &e);
		*leaf = saved;
		mhv_tdp_changed(vm);
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_MISCONFIG));
		EXPECT_EQ(run, "VMX guest-physical address (memory type 2)", pa + OFFSET,
			  e.guest_physical);
		EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_nd_read, e.rip);
	}
	/* The entries restored: L2 now runs to its end. */
	mhv_l2_call(vm, l2_nd_read, mhv_scratch_page(0));
	return mhv_run_expect_done(run, vm);
}
PROBE("tdp/npt-reserved-pml4e", npt_reserved_pml4e);

/* One fault on a page L2 may not touch; returns the exit. */
static void touch(struct mhv_vm *vm, bool fetch, uint64_t pa, struct mhv_exit *e)
{
	mhv_l2_call(vm, fetch ? l2_nd_fetch : l2_nd_read, (void *)pa);
	mhv_run(vm, e);
	mhv_diag_exit(fetch ? "fetch fault" : "read fault", e);
}

/* SVM: the I/D bit (4) of EXITINFO1 is set for a fetch only when NX or SMEP is enabled
 * for the walk (8.4.2), and a nested walk is the host's (15.25.5: hEFER.NXE, the L1's
 * EFER at VMRUN; L2's own EFER.NXE stays 1 here). VMX: qualification bit 2 for a
 * fetch, bits 0 and 1 clear, bits 5:3 the entry's rights (28.2.1). */
static enum probe_status npt_fetch_flag(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint8_t *page = mhv_scratch_page(0);
	uint64_t pa = (uint64_t)page;
	page[0x100] = 0xc3; /* RET */
	struct mhv_exit e;
	if (vm->vendor == MHV_VENDOR_VMX) {
		const unsigned rights[] = { 0, TDP_R, TDP_R | TDP_W };
		for (unsigned i = 0; i < 3; i++) {
			MHV_CHECK(mhv_tdp_set(run, vm, pa, rights[i]));
			touch(vm, true, pa, &e);
			MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
			EXPECT_EQ(run, "VMX exit qualification (fetch)",
				  VMX_EPT_QUAL_FETCH | VMX_EPT_QUAL_LINEAR_VALID | VMX_EPT_QUAL_FINAL |
					  ((uint64_t)rights[i] << 3),
				  e.qualification & ~VMX_EPT_QUAL_NMI_UNBLOCK);
			EXPECT_EQ(run, "VMX guest-physical address", pa + 0x100, e.guest_physical);
		}
		MHV_CHECK(mhv_tdp_set(run, vm, pa, TDP_RWX));
		return mhv_run_expect_done(run, vm);
	}
	uint64_t efer = rdmsr(MSR_EFER);
	if (!(efer & EFER_NXE_))
		return probe_skip(run, "no NX on this CPU: EFER.NXE is 0 (the case with NXE = 1 cannot run)");
	MHV_CHECK(mhv_tdp_set(run, vm, pa, 0));
	const uint64_t base = SVM_NPF_USER | SVM_NPF_FINAL_GPA;
	/* NXE = 1: a fetch has I/D, a read has not. */
	touch(vm, true, pa, &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "SVM EXITINFO1 (fetch, host EFER.NXE = 1)", base | SVM_NPF_FETCH, e.exitinfo1);
	EXPECT_EQ(run, "SVM EXITINFO2", pa + 0x100, e.exitinfo2);
	touch(vm, false, pa, &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "SVM EXITINFO1 (read, host EFER.NXE = 1)", base, e.exitinfo1);
	/* NXE = 0 in L1 (the host of the nested walk), 1 in L2: a fetch has no I/D. The
	 * identity map has no NX bit set, so nothing becomes reserved. */
	wrmsr(MSR_EFER, efer & ~EFER_NXE_);
	touch(vm, true, pa, &e);
	wrmsr(MSR_EFER, efer);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "SVM EXITINFO1 (fetch, host EFER.NXE = 0)", base, e.exitinfo1);
	EXPECT_EQ(run, "SVM EXITINFO2", pa + 0x100, e.exitinfo2);
	MHV_CHECK(mhv_tdp_set(run, vm, pa, TDP_RWX));
	return mhv_run_expect_done(run, vm);
}
PROBE("tdp/npt-fetch-flag", npt_fetch_flag);
