/* tdp/...: nested paging (SVM NPT, APM vol.2 15.25; VMX EPT, SDM vol.3C 29.3). L2 gets
 * an identity map of L1's memory; a probe takes rights away from one 4 KiB page and L2
 * touches it: the exit is a nested page fault (SVM 400h: EXITINFO1 a #PF-style error
 * code with bit 32 "final GPA" or bit 33 "guest page-table walk", EXITINFO2 the GPA,
 * APM vol.2 15.25.6) or an EPT violation (VMX 48: qualification with the access, the
 * entry's rights, linear-address-valid and final-translation bits, the GPA and the
 * guest-linear address, SDM vol.3C 28.2.1 Table 28-7). */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define OFFSET 0x128
#define PTE_ACCESSED (1ull << 5)

MHV_L2_ASM(l2_read, "mov 0x128(%rdi), %rax");               /* 7 bytes */
MHV_L2_ASM(l2_write, "mov %rax, 0x128(%rdi)");              /* 7 bytes */
MHV_L2_ASM(l2_fetch, "lea 0x100(%rdi), %rax\n\tcall *%rax");  /* jumps to page + 100h */
MHV_L2_ASM(l2_read_twice, "mov (%rdi), %rax\n\tcpuid\n\tmov (%rdi), %rax"); /* 3, 2, 3 */
MHV_L2_ASM(l2_read_c0000000, "mov $0xc0000000, %eax\n\tmov (%rax), %rax");  /* 5 */

enum access { READ, WRITE, FETCH };

static uint64_t svm_npf_info(enum access a, unsigned rights, bool walk)
{
	uint64_t info = SVM_NPF_USER | (walk ? SVM_NPF_TABLE_WALK : SVM_NPF_FINAL_GPA);
	/* The nested walker accesses guest page tables with locked read-modify-writes (for
	 * their A/D bits): a fault on one is reported as a write, even with every A bit
	 * already set (as AMD CPUs do and KVM expects; QEMU and Bochs agree). */
	if (walk)
		info |= SVM_NPF_WRITE;
	if (rights)
		info |= SVM_NPF_PRESENT;
	if (a == WRITE)
		info |= SVM_NPF_WRITE;
	if (a == FETCH)
		info |= SVM_NPF_FETCH;
	return info;
}

static uint64_t vmx_ept_qualification(enum access a, unsigned rights, bool walk)
{
	uint64_t q = VMX_EPT_QUAL_LINEAR_VALID | (walk ? 0 : VMX_EPT_QUAL_FINAL);
	q |= a == READ ? VMX_EPT_QUAL_READ : a == WRITE ? VMX_EPT_QUAL_WRITE : VMX_EPT_QUAL_FETCH;
	q |= (uint64_t)(rights & TDP_RWX) << 3; /* bits 5:3: the entry's R, W, X */
	return q;
}

static enum probe_status expect_tdp_fault(struct probe_run *run, const struct mhv_exit *e,
					  enum access a, unsigned rights, bool walk, uint64_t gpa,
					  uint64_t linear, uint64_t rip)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	if (e->vendor == MHV_VENDOR_SVM) {
		EXPECT_EQ(run, "SVM EXITINFO1 (NPF error code)", svm_npf_info(a, rights, walk),
			  e->exitinfo1);
		EXPECT_EQ(run, "SVM EXITINFO2 (guest-physical address)", gpa, e->exitinfo2);
	} else {
		EXPECT_EQ(run, "VMX exit qualification (EPT violation)",
			  vmx_ept_qualification(a, rights, walk),
			  e->qualification & ~VMX_EPT_QUAL_NMI_UNBLOCK);
		EXPECT_EQ(run, "VMX guest-physical address", gpa, e->guest_physical);
		EXPECT_EQ(run, "VMX guest-linear address", linear, e->guest_linear);
	}
	return PROBE_PASS;
}

static enum probe_status access_page(struct probe_run *run, enum access a, unsigned rights)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint8_t *page = mhv_scratch_page(0);
	uint64_t pa = (uint64_t)page;
	page[0x100] = 0xc3; /* RET, for the fetch */
	MHV_CHECK(mhv_tdp_set(run, vm, pa, rights));
	void (*code)(void *) = a == READ ? l2_read : a == WRITE ? l2_write : l2_fetch;
	mhv_l2_call(vm, code, page);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("nested page fault", &e);
	uint64_t gpa = a == FETCH ? pa + 0x100 : pa + OFFSET;
	uint64_t rip = a == FETCH ? pa + 0x100 : (uint64_t)code;
	MHV_CHECK(expect_tdp_fault(run, &e, a, rights, false, gpa, gpa, rip));
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	/* Give the rights back: the access now completes. */
	MHV_CHECK(mhv_tdp_set(run, vm, pa, TDP_RWX));
	return mhv_run_expect_done(run, vm);
}

static enum probe_status read_not_present(struct probe_run *run)
{
	return access_page(run, READ, 0);
}
PROBE("tdp/read-not-present", read_not_present);

static enum probe_status write_read_only(struct probe_run *run)
{
	return access_page(run, WRITE, TDP_R | TDP_X);
}
PROBE("tdp/write-read-only", write_read_only);

static enum probe_status fetch_no_execute(struct probe_run *run)
{
	return access_page(run, FETCH, TDP_R | TDP_W);
}
PROBE("tdp/fetch-no-execute", fetch_no_execute);

/* tdp/unmap-after-use: L2 reads a page, L1 takes it away at the next exit and flushes
 * (SVM TLB_CONTROL, VMX INVEPT): L2's second read must fault, not hit a stale
 * translation. */
static enum probe_status unmap_after_use(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint64_t pa = (uint64_t)mhv_scratch_page(1);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	mhv_l2_call(vm, l2_read_twice, (void *)pa);
	struct mhv_exit e;
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_read_twice + 3, 2));
	MHV_CHECK(mhv_tdp_set(run, vm, pa, 0));
	mhv_advance_rip(vm, 2);
	mhv_run(vm, &e);
	mhv_diag_exit("second read", &e);
	return expect_tdp_fault(run, &e, READ, 0, false, pa, pa, (uint64_t)l2_read_twice + 5);
}
PROBE("tdp/unmap-after-use", unmap_after_use);

/* tdp/guest-walk-fault: L2's own page-directory page is not mapped for it: reading a
 * linear address that needs it faults on the guest page-table walk (SVM EXITINFO1 bit
 * 33 instead of 32; VMX qualification bit 8 clear), at the PDE's guest-physical
 * address, with the linear address L2 was reading. */
static enum probe_status guest_walk_fault(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint64_t *pml4 = mhv_scratch_page(0), *pdpt = mhv_scratch_page(1), *pd = mhv_scratch_page(2);
	const uint64_t *host_pml4 = (const uint64_t *)(read_cr3() & TDP_ADDR_MASK);
	const uint64_t *host_pdpt = (const uint64_t *)(host_pml4[0] & TDP_ADDR_MASK);
	memcpy(pml4, host_pml4, 4096);
	memcpy(pdpt, host_pdpt, 4096);
	memcpy(pd, (const void *)(host_pdpt[3] & TDP_ADDR_MASK), 4096);
	/* Accessed bits set everywhere: the walk has nothing to write. */
	pml4[0] = (uint64_t)pdpt | (host_pml4[0] & ~TDP_ADDR_MASK) | PTE_ACCESSED;
	pdpt[3] = (uint64_t)pd | (host_pdpt[3] & ~TDP_ADDR_MASK) | PTE_ACCESSED;
	for (unsigned i = 0; i < 512; i++)
		pd[i] |= PTE_ACCESSED;
	mhv_set(vm, MHV_REG_CR3, (uint64_t)pml4);
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)pd, 0));
	mhv_l2_call(vm, l2_read_c0000000, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("walk fault", &e);
	return expect_tdp_fault(run, &e, READ, 0, true, (uint64_t)pd, 0xc0000000,
				(uint64_t)l2_read_c0000000 + 5);
}
PROBE("tdp/guest-walk-fault", guest_walk_fault);

/* tdp/fault-during-delivery: L2's IDT page is not mapped for it and L1 injects #UD:
 * reading the gate faults, and the exit reports the injected event as being delivered
 * (SVM EXITINTINFO; VMX IDT-vectoring information). */
MHV_L2_ASM(l2_nops, "nop\n\tnop");

static enum probe_status fault_during_delivery(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	extern struct { uint64_t low, high; } mhv_l2_idt[256];
	uint64_t idt = (uint64_t)mhv_l2_idt;
	MHV_CHECK(mhv_tdp_set(run, vm, idt, 0));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_inject(vm, MHV_EVENT_HW_EXCEPTION, EXC_UD, false, 0, 0);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("fault reading the IDT gate", &e);
	uint64_t gate = idt + EXC_UD * 16;
	MHV_CHECK(expect_tdp_fault(run, &e, READ, 0, false, gate, gate, (uint64_t)l2_nops));
	if (e.vendor == MHV_VENDOR_SVM)
		EXPECT_EQ(run, "SVM EXITINTINFO (the injected #UD)",
			  SVM_EVENT_VALID | (SVM_EVENT_TYPE_EXCEPTION << SVM_EVENT_TYPE_SHIFT) | EXC_UD,
			  e.exitintinfo);
	else
		EXPECT_EQ(run, "VMX IDT-vectoring information (the injected #UD)",
			  VMX_INTR_VALID | (VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_TYPE_SHIFT) | EXC_UD,
			  e.idt_vectoring_info);
	return PROBE_PASS;
}
PROBE("tdp/fault-during-delivery", fault_during_delivery);

/* tdp/bad-entry: a leaf entry no walk may use. SVM: a reserved bit (51, above
 * MAXPHYADDR) set: NPF with EXITINFO1.RSV and P (APM vol.2 15.25.6). VMX: write
 * without read is an EPT misconfiguration, exit 49 with the GPA (SDM vol.3C 29.3.3.1). */
static enum probe_status bad_entry(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, MHV_TDP);
	uint64_t pa = (uint64_t)mhv_scratch_page(0);
	uint64_t *entry = mhv_tdp_entry(vm, pa);
	if (!entry)
		return probe_fail(run, "no leaf entry for %#llx", (unsigned long long)pa);
	if (vm->vendor == MHV_VENDOR_SVM)
		*entry |= 1ull << 51;
	else
		*entry = pa | EPT_MEMTYPE_WB | EPT_W;
	mhv_l2_call(vm, l2_read, (void *)pa);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("bad entry", &e);
	if (e.vendor == MHV_VENDOR_SVM) {
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
		EXPECT_EQ(run, "SVM EXITINFO1 (NPF error code)",
			  SVM_NPF_PRESENT | SVM_NPF_RSVD | SVM_NPF_USER | SVM_NPF_FINAL_GPA,
			  e.exitinfo1);
		EXPECT_EQ(run, "SVM EXITINFO2 (guest-physical address)", pa + OFFSET, e.exitinfo2);
	} else {
		MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_MISCONFIG));
		EXPECT_EQ(run, "VMX guest-physical address", pa + OFFSET, e.guest_physical);
	}
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_read, e.rip);
	return PROBE_PASS;
}
PROBE("tdp/bad-entry", bad_entry);
