/* exception/...: exceptions in L2 through the exception intercepts (SVM exit code
 * 40h+vector, EXITINFO1 the error code, EXITINFO2 CR2 for #PF, APM vol.2 15.12;
 * VMX exception bitmap, exit reason 0 with the VM-exit interruption information and
 * error code, the qualification for #PF and #DB, SDM vol.3C 25.9.2 and 28.2.1), and
 * exceptions that are not intercepted reaching L2's own IDT. */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define UNMAPPED 0x112345678ull /* above the 4 GiB identity map: not present */
#define CR2_MARK 0xc2c2c2c2ull
#define DR6_BS   (1ull << 14)

MHV_L2_ASM(l2_ud2, "ud2");                                                     /* 0 */
MHV_L2_ASM(l2_bad_selector, "mov $0x40, %eax\n\tmov %eax, %ds");                /* 5 */
MHV_L2_ASM(l2_pf_read, "movabs $0x112345678, %rax\n\tmov (%rax), %rbx");         /* 10 */
MHV_L2_ASM(l2_pf_write, "movabs $0x112345678, %rax\n\tmov %rbx, (%rax)");        /* 10 */
MHV_L2_ASM(l2_int3, "int3");                                                   /* 0, 1 */
MHV_L2_ASM(l2_divide, "xor %ecx, %ecx\n\tdiv %ecx");                            /* 2 */
MHV_L2_ASM(l2_fnop, "fnop");                                                  /* 0 */
MHV_L2_ASM(l2_single_step, "pushfq\n\torq $0x100, (%rsp)\n\tpopfq\n\tnop\n\tnop"); /* 11 */

static enum probe_status run_intercepted(struct probe_run *run, void (*code)(void *),
					 unsigned vector, struct mhv_vm **vm_out,
					 struct mhv_exit *e)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, vector, true);
	mhv_set(vm, MHV_REG_CR2, CR2_MARK);
	mhv_l2_call(vm, code, NULL);
	mhv_run(vm, e);
	mhv_diag_exit(exception_mnemonic(vector), e);
	*vm_out = vm;
	return PROBE_PASS;
}

static enum probe_status ud_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_ud2, EXC_UD, &vm, &e));
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_UD, false, 0, (uint64_t)l2_ud2));
	return mhv_expect_no_vectoring(run, &e);
}
PROBE("exception/ud", ud_probe);

/* #GP with the selector as error code: MOV to DS of selector 40h, beyond the GDT limit
 * (SDM vol.3A 6.15 "Interrupt 13"). */
static enum probe_status gp_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_bad_selector, EXC_GP, &vm, &e));
	return mhv_expect_exception(run, &e, EXC_GP, true, 0x40, (uint64_t)l2_bad_selector + 5);
}
PROBE("exception/gp-error-code", gp_probe);

static enum probe_status check_pf(struct probe_run *run, struct mhv_vm *vm,
				  const struct mhv_exit *e, uint32_t error_code, uint64_t rip)
{
	MHV_CHECK(mhv_expect_exception(run, e, EXC_PF, true, error_code, rip));
	if (e->vendor == MHV_VENDOR_SVM)
		EXPECT_EQ(run, "SVM EXITINFO2 (the faulting address)", UNMAPPED, e->exitinfo2);
	else
		EXPECT_EQ(run, "VMX exit qualification (the faulting address)", UNMAPPED,
			  e->qualification);
	/* The exit comes instead of the delivery: L2's CR2 is not written (APM vol.2
	 * 15.12.15; SDM vol.3C 28.1). */
	EXPECT_EQ(run, "L2's CR2 after the exit", CR2_MARK, mhv_get(vm, MHV_REG_CR2));
	return PROBE_PASS;
}

static enum probe_status pf_read_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_pf_read, EXC_PF, &vm, &e));
	return check_pf(run, vm, &e, 0, (uint64_t)l2_pf_read + 10);
}
PROBE("exception/pf-read", pf_read_probe);

static enum probe_status pf_write_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_pf_write, EXC_PF, &vm, &e));
	return check_pf(run, vm, &e, PF_ERROR_WRITE, (uint64_t)l2_pf_write + 10);
}
PROBE("exception/pf-write", pf_write_probe);

/* #BP from INT3: the exit's RIP is the INT3 itself (SDM vol.3C 28.3.3: "references the
 * INT3"; VMX type 6 software exception with instruction length 1; SVM nRIP the next
 * instruction, APM vol.2 15.7.1). */
static enum probe_status bp_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_int3, EXC_BP, &vm, &e));
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_BP, false, 0, (uint64_t)l2_int3));
	if (e.vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX VM-exit instruction length", 1, e.insn_len);
	else if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", (uint64_t)l2_int3 + 1, e.next_rip);
	return PROBE_PASS;
}
PROBE("exception/bp", bp_probe);

static enum probe_status de_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_divide, EXC_DE, &vm, &e));
	return mhv_expect_exception(run, &e, EXC_DE, false, 0, (uint64_t)l2_divide + 2);
}
PROBE("exception/de", de_probe);

/* #NM: an x87 instruction with CR0.TS = 1 (SDM vol.3A 6.15 "Interrupt 7"). */
static enum probe_status nm_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_NM, true);
	mhv_set(vm, MHV_REG_CR0, (mhv_get(vm, MHV_REG_CR0) | (1ull << 3)) & ~(1ull << 2)); /* TS, !EM */
	mhv_l2_call(vm, l2_fnop, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#NM", &e);
	return mhv_expect_exception(run, &e, EXC_NM, false, 0, (uint64_t)l2_fnop);
}
PROBE("exception/nm", nm_probe);

/* #DB from single-stepping: POPF sets TF, the trap comes after the next instruction
 * (the NOP at +10), with RIP after it. VMX reports DR6-like bits in the exit
 * qualification: BS (bit 14), SDM vol.3C 28.2.1 Table 28-1. */
static enum probe_status db_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_CHECK(run_intercepted(run, l2_single_step, EXC_DB, &vm, &e));
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_DB, false, 0, (uint64_t)l2_single_step + 11));
	if (e.vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification (DR6 bits: BS)", DR6_BS, e.qualification);
	EXPECT_EQ(run, "L2 RFLAGS.TF at the exit", 0x100, e.rflags & 0x100);
	return PROBE_PASS;
}
PROBE("exception/db-single-step", db_probe);

/* exception/not-intercepted: without the intercept, #UD is delivered through L2's IDT:
 * L2's handler sees vector 6 and the UD2's address. */
static enum probe_status not_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_GP, true); /* a different one */
	mhv_l2_call(vm, l2_ud2, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("after #UD in L2", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector seen by L2's handler", EXC_UD, mhv_l2_event.vector);
	EXPECT_EQ(run, "RIP pushed for L2's handler", (uint64_t)l2_ud2, mhv_l2_event.rip);
	EXPECT_EQ(run, "L2 events", 1, mhv_l2_event.count);
	return PROBE_PASS;
}
PROBE("exception/not-intercepted", not_intercepted);

/* exception/pf-error-code-filter: VMX only: with #PF in the exception bitmap, a #PF
 * exits only if (error code & PFEC_MASK) == PFEC_MATCH (SDM vol.3C 26.2): mask = match
 * = W lets a write fault exit and delivers a read fault to L2. */
static enum probe_status pf_filter(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "SVM has no #PF error-code filter"));
	struct mhv_exit e;
	for (int write = 0; write <= 1; write++) {
		MHV_START(run, vm, MHV_MODE_LONG, 0);
		mhv_intercept_exception(vm, EXC_PF, true);
		vmwrite(VMCS_PF_ERROR_MASK, PF_ERROR_WRITE);
		vmwrite(VMCS_PF_ERROR_MATCH, PF_ERROR_WRITE);
		mhv_l2_call(vm, write ? l2_pf_write : l2_pf_read, NULL);
		mhv_run(vm, &e);
		mhv_diag_exit(write ? "write #PF" : "read #PF", &e);
		if (write) {
			MHV_CHECK(mhv_expect_exception(run, &e, EXC_PF, true, PF_ERROR_WRITE,
						       (uint64_t)l2_pf_write + 10));
		} else {
			MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
			EXPECT_EQ(run, "vector delivered to L2 (read fault)", EXC_PF,
				  mhv_l2_event.vector);
			EXPECT_EQ(run, "L2's CR2 for the read fault", UNMAPPED, mhv_l2_event.cr2);
		}
	}
	return PROBE_PASS;
}
PROBE("exception/pf-error-code-filter", pf_filter);
