/* intercept/...: descriptor-table instructions (SVM 66h-69h, APM vol.2 15.9; VMX
 * "descriptor-table exiting", reasons 46/47 with the instruction identity in the
 * instruction information, SDM vol.3C 28.2.5 Tables 28-10/28-11; the store forms and
 * the load forms, SVM 6Ah-6Dh), ICEBP, CPUID without
 * its intercept, and SVM-only intercepts (PUSHF, POPF, INTn with its vector in EXITINFO1
 * under DecodeAssists, IRET). */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

MHV_L2_ASM(l2_sgdt, "sgdt (%rdi)");   /* 3 */
MHV_L2_ASM(l2_sidt, "sidt (%rdi)");   /* 3 */
MHV_L2_ASM(l2_sldt, "sldt %eax");      /* 3 */
MHV_L2_ASM(l2_str, "str %eax");        /* 3 */
/* The load forms: the intercept comes before the load (APM vol.2 15.9: the instruction
 * is not executed; SDM vol.3C 26.1.3 descriptor-table exiting), so the operands' values
 * do not matter: L1 skips them. */
MHV_L2_ASM(l2_lgdt, "lgdt (%rdi)");   /* 3 */
MHV_L2_ASM(l2_lidt, "lidt (%rdi)");   /* 3 */
MHV_L2_ASM(l2_lldt, "xor %eax, %eax\n\tlldt %ax");   /* 2, 3 */
MHV_L2_ASM(l2_ltr, "xor %eax, %eax\n\tltr %ax");     /* 2, 3 */
MHV_L2_ASM(l2_icebp, ".byte 0xf1");   /* 1 */
MHV_L2_ASM(l2_cpuid, "xor %eax, %eax\n\tcpuid");
MHV_L2_ASM(l2_pushf, "pushfq\n\tpopfq");         /* 0, 1 */
MHV_L2_ASM(l2_popf, "pushfq\n\tpopfq");          /* 1, 1 */
MHV_L2_ASM(l2_intn, "int $0x81");                /* 2 */
MHV_L2_ASM(l2_iret, "mov %ss, %eax\n\tpush %rax\n\tpush %rsp\n\taddq $8, (%rsp)\n\tpushfq\n\t"
		    "mov %cs, %eax\n\tpush %rax\n\tlea 1f(%rip), %rax\n\tpush %rax\n\t"
		    "iret_site:\n\tiretq\n1:");

static enum probe_status descriptor_at(struct probe_run *run, void (*code)(void *),
				       unsigned offset, uint64_t svm_code, uint32_t vmx_reason,
				       unsigned identity)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_DESCRIPTOR, true));
	uint64_t *table = mhv_scratch_page(0);
	table[0] = table[1] = 0;
	mhv_l2_call(vm, code, table);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("descriptor-table access", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_DESCRIPTOR, (uint64_t)code + offset, 3));
	if (e.vendor == MHV_VENDOR_SVM) {
		EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", svm_code, e.exitcode);
	} else {
		EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", vmx_reason, e.reason);
		EXPECT_EQ(run, "VMX instruction information bits 29:28 (instruction identity)",
			  identity, (e.insn_info >> 28) & 3);
	}
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status descriptor(struct probe_run *run, void (*code)(void *),
				    uint64_t svm_code, uint32_t vmx_reason, unsigned identity)
{
	return descriptor_at(run, code, 0, svm_code, vmx_reason, identity);
}

static enum probe_status sgdt(struct probe_run *run)
{
	return descriptor(run, l2_sgdt, SVM_EXIT_GDTR_READ, VMX_EXIT_GDTR_IDTR, 0);
}
PROBE("intercept/sgdt", sgdt);

static enum probe_status sidt(struct probe_run *run)
{
	return descriptor(run, l2_sidt, SVM_EXIT_IDTR_READ, VMX_EXIT_GDTR_IDTR, 1);
}
PROBE("intercept/sidt", sidt);

static enum probe_status sldt(struct probe_run *run)
{
	return descriptor(run, l2_sldt, SVM_EXIT_LDTR_READ, VMX_EXIT_LDTR_TR, 0);
}
PROBE("intercept/sldt", sldt);

static enum probe_status str(struct probe_run *run)
{
	return descriptor(run, l2_str, SVM_EXIT_TR_READ, VMX_EXIT_LDTR_TR, 1);
}
PROBE("intercept/str", str);

/* VMX instruction identity, Tables 28-10/28-11: LGDT 2, LIDT 3; LLDT 2, LTR 3. */
static enum probe_status lgdt(struct probe_run *run)
{
	return descriptor(run, l2_lgdt, SVM_EXIT_GDTR_WRITE, VMX_EXIT_GDTR_IDTR, 2);
}
PROBE("intercept/lgdt", lgdt);

static enum probe_status lidt(struct probe_run *run)
{
	return descriptor(run, l2_lidt, SVM_EXIT_IDTR_WRITE, VMX_EXIT_GDTR_IDTR, 3);
}
PROBE("intercept/lidt", lidt);

static enum probe_status lldt(struct probe_run *run)
{
	return descriptor_at(run, l2_lldt, 2, SVM_EXIT_LDTR_WRITE, VMX_EXIT_LDTR_TR, 2);
}
PROBE("intercept/lldt", lldt);

static enum probe_status ltr(struct probe_run *run)
{
	return descriptor_at(run, l2_ltr, 2, SVM_EXIT_TR_WRITE, VMX_EXIT_LDTR_TR, 3);
}
PROBE("intercept/ltr", ltr);

/* ICEBP (F1): SVM's ICEBP intercept (88h, APM vol.2 Table C-1); VMX: #DB in the
 * exception bitmap, interruption type 5 "privileged software exception", length 1
 * (SDM vol.3C 25.9.2). */
static enum probe_status icebp(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->intercept_misc2 |= SVM_INTERCEPT_ICEBP;
	else
		mhv_intercept_exception(vm, EXC_DB, true);
	mhv_l2_call(vm, l2_icebp, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("ICEBP", &e);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_icebp, e.rip);
	if (e.vendor == MHV_VENDOR_SVM) {
		EXPECT_EXIT(run, MHV_VENDOR_SVM,
			    "SVM EXITCODE (ICEBP)", SVM_EXIT_ICEBP, e.exitcode);
		if (mhv_has(MHV_FEATURE_NEXT_RIP))
			EXPECT_EQ(run, "SVM next_rip", (uint64_t)l2_icebp + 1, e.next_rip);
	} else {
		EXPECT_EXIT(run, MHV_VENDOR_VMX,
			    "VMX exit reason", VMX_EXIT_EXCEPTION_NMI, e.reason);
		EXPECT_EQ(run, "VMX VM-exit interruption information (type 5, #DB)",
			  VMX_INTR_VALID | (VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION << VMX_INTR_TYPE_SHIFT) |
				  EXC_DB,
			  e.intr_info & ~VMX_INTR_NMI_UNBLOCK);
		EXPECT_EQ(run, "VMX VM-exit instruction length", 1, e.insn_len);
	}
	return PROBE_PASS;
}
PROBE("intercept/icebp", icebp);

/* CPUID without its intercept runs in L2 (SVM); VMX cannot turn the exit off. */
static enum probe_status cpuid_not_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, false));
	mhv_l2_call(vm, l2_cpuid, NULL);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/cpuid-not-intercepted", cpuid_not_intercepted);

/* SVM-only instruction intercepts without a VMX counterpart. With DecodeAssists,
 * da_info1 is the EXITINFO1 the APM gives the exit (negative: none to check). */
static enum probe_status svm_only_info(struct probe_run *run, uint32_t misc1_bit,
				       void (*code)(void *), unsigned offset, unsigned len,
				       uint64_t exitcode, int64_t da_info1)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX has no such exiting control"));
	vm->vmcb->intercept_misc1 |= misc1_bit;
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("SVM intercept", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", exitcode, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)code + offset, e.rip);
	if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", (uint64_t)code + offset + len, e.next_rip);
	if (da_info1 >= 0 && mhv_has(MHV_FEATURE_DECODE_ASSISTS))
		EXPECT_EQ(run, "SVM EXITINFO1 (DecodeAssists)", (uint64_t)da_info1, e.exitinfo1);
	return PROBE_PASS;
}

static enum probe_status svm_only(struct probe_run *run, uint32_t misc1_bit,
				  void (*code)(void *), unsigned offset, unsigned len,
				  uint64_t exitcode)
{
	return svm_only_info(run, misc1_bit, code, offset, len, exitcode, -1);
}

static enum probe_status svm_pushf(struct probe_run *run)
{
	return svm_only(run, SVM_INTERCEPT_PUSHF, l2_pushf, 0, 1, SVM_EXIT_PUSHF);
}
PROBE("intercept/svm-pushf", svm_pushf);

static enum probe_status svm_popf(struct probe_run *run)
{
	return svm_only(run, SVM_INTERCEPT_POPF, l2_popf, 1, 1, SVM_EXIT_POPF);
}
PROBE("intercept/svm-popf", svm_popf);

/* With DecodeAssists, EXITINFO1 is INTn's vector (APM vol.2 15.33.2, table 15-4). */
static enum probe_status svm_intn(struct probe_run *run)
{
	return svm_only_info(run, SVM_INTERCEPT_INTN, l2_intn, 0, 2, SVM_EXIT_SWINT, 0x81);
}
PROBE("intercept/svm-intn", svm_intn);

static enum probe_status svm_iret(struct probe_run *run)
{
	extern const char iret_site[];
	return svm_only(run, SVM_INTERCEPT_IRET, l2_iret,
			(unsigned)((uint64_t)iret_site - (uint64_t)l2_iret), 2, SVM_EXIT_IRET);
}
PROBE("intercept/svm-iret", svm_iret);
