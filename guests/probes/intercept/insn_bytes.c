/* The guest instruction bytes of SVM DecodeAssists (CPUID 8000_000Ah EDX[7]): on an
 * intercepted #PF or a nested page fault of a data access, the #VMEXIT stores the bytes
 * at L2's CS:RIP in the VMCB (0D0h: how many, 0D1h: the bytes), always 15 unless
 * fetching them faults; an instruction-fetch fault gives none, and every other
 * intercept clears the count (APM vol.2 15.33.4, table 15-6). SVM only: VMX has no
 * such field. */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/tdp.h"

#define UNMAPPED 0x112345678ull /* above the 4 GiB identity map: not present */
#define INSN_BYTES_DEFAULT 15   /* "the default number of bytes is always 15" */
#define COUNT_POISON 0x0e       /* a count no #VMEXIT leaves in place */

MHV_L2_ASM(l2_pf_data, "movabs $0x112345678, %rax\n\tmov (%rax), %rbx");   /* 10, 3 */
MHV_L2_ASM(l2_pf_fetch, "movabs $0x112345678, %rax\n\tcall *%rax");       /* fault at UNMAPPED */
MHV_L2_ASM(l2_npf_data, "mov 0x128(%rdi), %rax");                        /* 7 */
MHV_L2_ASM(l2_npf_fetch, "lea 0x100(%rdi), %rax\n\tcall *%rax");          /* fault at page + 100h */
MHV_L2_ASM(l2_cpuid, "xor %eax, %eax\n\tcpuid");                         /* 2, 2 */

static enum probe_status start(struct probe_run *run, struct mhv_vm **vm, unsigned options)
{
	MHV_START(run, *vm, MHV_MODE_LONG, options);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX has no guest instruction bytes"));
	return mhv_require(run, MHV_FEATURE_DECODE_ASSISTS);
}

/* The VMCB says `count` bytes and they are L2's code at rip. */
static enum probe_status expect_bytes(struct probe_run *run, const struct mhv_vm *vm,
				      uint64_t rip, unsigned count)
{
	EXPECT_EQ(run, "SVM guest instruction bytes fetched (VMCB 0D0h)", count,
		  vm->vmcb->insn_bytes_fetched);
	const uint8_t *code = (const uint8_t *)rip;
	for (unsigned i = 0; i < count; i++)
		if (vm->vmcb->insn_bytes[i] != code[i])
			return probe_fail(run, "SVM guest instruction byte %u (VMCB 0D1h + %u): "
					  "expected %#x, observed %#x", i, i, code[i],
					  vm->vmcb->insn_bytes[i]);
	return PROBE_PASS;
}

/* exception/pf-insn-bytes: a read of a not-present page, #PF intercepted: 15 bytes from
 * the faulting MOV on. */
static enum probe_status pf_insn_bytes(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm, 0));
	mhv_intercept_exception(vm, EXC_PF, true);
	vm->vmcb->insn_bytes_fetched = COUNT_POISON;
	mhv_l2_call(vm, l2_pf_data, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#PF (data read)", &e);
	uint64_t rip = (uint64_t)l2_pf_data + 10;
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_PF, true, 0, rip));
	return expect_bytes(run, vm, rip, INSN_BYTES_DEFAULT);
}
PROBE("exception/pf-insn-bytes", pf_insn_bytes);

/* exception/pf-fetch-no-insn-bytes: a jump to a not-present page, #PF intercepted: the
 * fault is the fetch itself, no bytes. */
static enum probe_status pf_fetch_no_insn_bytes(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm, 0));
	mhv_intercept_exception(vm, EXC_PF, true);
	vm->vmcb->insn_bytes_fetched = 0; /* a fetch fault "provides no additional information" */
	mhv_l2_call(vm, l2_pf_fetch, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#PF (fetch)", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM,
		    "SVM EXITCODE (#PF)", SVM_EXIT_EXCEPTION_BASE + EXC_PF, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit (the unmapped target)", UNMAPPED, e.rip);
	EXPECT_EQ(run, "SVM EXITINFO2 (the faulting address)", UNMAPPED, e.exitinfo2);
	return expect_bytes(run, vm, e.rip, 0);
}
PROBE("exception/pf-fetch-no-insn-bytes", pf_fetch_no_insn_bytes);

/* tdp/read-insn-bytes: a read of a page L1's nested page table leaves out: 15 bytes from
 * the faulting MOV on. */
static enum probe_status npf_insn_bytes(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm, MHV_TDP));
	uint8_t *page = mhv_scratch_page(0);
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)page, 0));
	vm->vmcb->insn_bytes_fetched = COUNT_POISON;
	mhv_l2_call(vm, l2_npf_data, page);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("nested page fault (data read)", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_npf_data, e.rip);
	MHV_CHECK(expect_bytes(run, vm, e.rip, INSN_BYTES_DEFAULT));
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)page, TDP_RWX));
	return mhv_run_expect_done(run, vm);
}
PROBE("tdp/read-insn-bytes", npf_insn_bytes);

/* tdp/fetch-no-insn-bytes: a call into a page L1's nested page table makes
 * non-executable: the fault is the fetch, no bytes. */
static enum probe_status npf_fetch_no_insn_bytes(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm, MHV_TDP));
	uint8_t *page = mhv_scratch_page(0);
	page[0x100] = 0xc3; /* RET */
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)page, TDP_R | TDP_W));
	vm->vmcb->insn_bytes_fetched = 0;
	mhv_l2_call(vm, l2_npf_fetch, page);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("nested page fault (fetch)", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)page + 0x100, e.rip);
	MHV_CHECK(expect_bytes(run, vm, e.rip, 0));
	MHV_CHECK(mhv_tdp_set(run, vm, (uint64_t)page, TDP_RWX));
	return mhv_run_expect_done(run, vm);
}
PROBE("tdp/fetch-no-insn-bytes", npf_fetch_no_insn_bytes);

/* intercept/insn-bytes-cleared: any other intercept (here CPUID) clears the count
 * ("bits 7:0 ... to zero, to indicate an invalid condition"). */
static enum probe_status insn_bytes_cleared(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm, 0));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	vm->vmcb->insn_bytes_fetched = COUNT_POISON;
	mhv_l2_call(vm, l2_cpuid, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CPUID", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid + 2, 2));
	EXPECT_EQ(run, "SVM guest instruction bytes fetched (VMCB 0D0h)", 0,
		  vm->vmcb->insn_bytes_fetched);
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/insn-bytes-cleared", insn_bytes_cleared);
