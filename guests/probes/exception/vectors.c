/* exception/...: the exception vectors exception.c does not raise, each through its
 * intercept (SVM exit code 40h+vector with EXITINFO1 the error code, APM vol.2 15.12;
 * VMX exception bitmap, exit reason 0 with the VM-exit interruption information and
 * error code, SDM vol.3C 25.2 and 28.2.2), and what comes when the delivery itself
 * fails: #DF, then the triple fault (SVM SHUTDOWN 7Fh, APM vol.2 15.11; VMX exit
 * reason 2, SDM vol.3C 26.2... 28.2 "triple fault"). Each asserts the exit, the
 * interruption type and error code, the RIP L2 was at and (VMX) the instruction length
 * of a software exception.
 *
 * What L2 needs for a vector:
 *   #OF  INTO with OF = 1: INTO is invalid in 64-bit mode, so a 32-bit L2 (nested paging)
 *   #BR  BOUND with the index out of bounds: likewise 32-bit only
 *   #NP  MOV to DS of a data descriptor with P = 0 (an L2 GDT of its own), error code
 *        the selector (SDM vol.3A 6.15 "Interrupt 11")
 *   #SS  a memory operand based on RBP (SS segment) with a non-canonical address: #SS(0)
 *        (SDM vol.3A 6.15 "Interrupt 12", 64-bit mode)
 *   #MF  an unmasked x87 exception (0/0: invalid operation), then FWAIT with CR0.NE = 1
 *   #XM  an unmasked SIMD exception (DIVSS 0/0) with CR4.OSFXSR and OSXMMEXCPT
 *   #DF  an IDT limit of 0: #UD cannot be delivered (#GP), nor can that #GP (#DF)
 *   #TS  intercept/task_switch.c (a 32-bit task switch to a TSS whose limit is too small)
 *   #AC  an unaligned read at CPL 3 with CR0.AM and RFLAGS.AC (a 32-bit L2 whose CS and
 *        SS have DPL 3)
 *   #CP  an indirect JMP to a target without ENDBR64 under CET indirect branch tracking
 *        (Intel only: SKIP on AMD)
 *   #MC  SKIP: software cannot raise it
 * #VE is not probed here: it needs EPT-violation #VE, a VMX feature neither emulator
 * offers. */
#include "lib/cpu.h"
#include "lib/deviations.h"
#include "lib/exception.h"
#include "lib/layout.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)

#define X87_CW_UNMASKED 0x0340 /* FCW: all exception masks (bits 5:0) clear, PC 11b */
#define MXCSR_UNMASKED  0x0000 /* MXCSR: all exception masks (bits 12:7) clear */
#define MXCSR_DEFAULT   0x1f80 /* its reset value, SDM vol.1 10.2.3 */

/* INTO at 8 (CE, one byte), then HLT at 9. */
MHV_L2_ASM32(l2_into, "mov $0x7fffffff, %eax\n\tadd $1, %eax\n\tinto\n\thlt");
/* BOUND at 5 (62 03: 2 bytes) of EAX against the bounds at (EBX), then HLT at 7. No
 * absolute address in the code: the EFI build is position-independent. */
MHV_L2_ASM32(l2_bound, "mov $5, %eax\n\tbound %eax, (%ebx)\n\thlt");
/* MOV to DS of selector 30h at 5 (8E D8: 2 bytes). */
MHV_L2_ASM(l2_load_np, "mov $0x30, %eax\n\tmov %eax, %ds");
/* MOV from a non-canonical RBP-based address at 10 (48 8B 45 00: 4 bytes). */
MHV_L2_ASM(l2_stack_noncanonical, "movabs $0x8000000000000000, %rbp\n\tmov (%rbp), %rax");
/* FNINIT, FLDCW (%rdi), FLDZ, FDIV ST(0),ST (0/0: IE pending), FWAIT at 8. */
MHV_L2_ASM(l2_x87_fault, "fninit\n\tfldcw (%rdi)\n\tfldz\n\tfdiv %st(0), %st\n\tfwait");
/* LDMXCSR (%rdi), XORPS, DIVSS 0/0 at 6 (4 bytes), then MXCSR back from 4(%rdi). */
MHV_L2_ASM(l2_simd_fault, "ldmxcsr (%rdi)\n\txorps %xmm0, %xmm0\n\tdivss %xmm0, %xmm0\n\t"
			  "ldmxcsr 4(%rdi)");
MHV_L2_ASM(l2_ud2_df, "ud2");

/* The L2 RIP of an exit, and the VMX instruction length of INTO. */
static enum probe_status expect_vector(struct probe_run *run, const struct mhv_exit *e,
				       unsigned vector, bool has_error, uint32_t error,
				       uint64_t rip)
{
	MHV_CHECK(mhv_expect_exception(run, e, vector, has_error, error, rip));
	return mhv_expect_no_vectoring(run, e);
}

static enum probe_status finish_prot32(struct probe_run *run, struct mhv_vm *vm,
				       unsigned skip, uint64_t hlt_rip)
{
	mhv_advance_rip(vm, skip);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("HLT", &e);
	return mhv_expect_insn(run, &e, MHV_EXIT_HLT, hlt_rip, 1);
}

/* #OF from INTO: a trap, reported like INT3 (exception.c): the exit's RIP is the INTO
 * itself (VMX: type 6 software exception, instruction length 1, SDM vol.3C 28.2.2 and
 * 28.2.4; SVM: nRIP the next instruction, APM vol.2 15.7.1). */
static enum probe_status of_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_PROT32, MHV_TDP);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_intercept_exception(vm, EXC_OF, true);
	mhv_l2_enter(vm, l2_into);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#OF", &e);
	uint64_t into = (uint64_t)l2_into + 8;
	MHV_CHECK(expect_vector(run, &e, EXC_OF, false, 0, into));
	if (e.vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX VM-exit instruction length", 1, e.insn_len);
	else if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", into + 1, e.next_rip);
	return finish_prot32(run, vm, 1, into + 1);
}
PROBE("exception/of", of_probe);

/* #BR from BOUND: a fault, RIP the BOUND, no error code (SDM vol.3A 6.15 "Interrupt 5"). */
static enum probe_status br_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_PROT32, MHV_TDP);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_intercept_exception(vm, EXC_BR, true);
	mhv_l2_enter(vm, l2_bound);
	uint32_t *bounds = mhv_scratch_page(1);
	bounds[0] = 0;
	bounds[1] = 2;
	vm->regs.rbx = (uint64_t)bounds;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#BR", &e);
	uint64_t bound = (uint64_t)l2_bound + 5;
	MHV_CHECK(expect_vector(run, &e, EXC_BR, false, 0, bound));
	return finish_prot32(run, vm, 2, bound + 2);
}
PROBE("exception/br", br_probe);

/* L2's own GDT: L1's descriptors (code, data, TSS) and at 30h a data segment with P = 0. */
struct l2_descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define NP_SELECTOR 0x30
#define NP_DESCRIPTOR 0x00cf12000000ffffull /* read/write data, DPL 0, P = 0, 4 GiB */

static void set_l2_gdt(struct mhv_vm *vm, uint64_t base, uint16_t limit)
{
	if (vm->vendor == MHV_VENDOR_SVM) {
		vm->vmcb->gdtr.base = base;
		vm->vmcb->gdtr.limit = limit;
	} else {
		vmwrite(VMCS_GUEST_GDTR_BASE, base);
		vmwrite(VMCS_GUEST_GDTR_LIMIT, limit);
	}
}

static void set_l2_idt_limit(struct mhv_vm *vm, uint16_t limit)
{
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->idtr.limit = limit;
	else
		vmwrite(VMCS_GUEST_IDTR_LIMIT, limit);
}

/* #NP(selector): MOV to DS checks the descriptor's P bit after its type (SDM vol.3A 5.4.1
 * and "MOV" in vol.2B): error code 30h (index 6, TI 0, IDT 0, EXT 0). */
static enum probe_status np_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_NP, true);
	struct l2_descriptor_pointer gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	uint64_t *gdt = mhv_scratch_page(1);
	const uint64_t *l1_gdt = (const uint64_t *)gdtr.base;
	for (unsigned i = 0; i < NP_SELECTOR / 8; i++)
		gdt[i] = (i * 8u <= gdtr.limit) ? l1_gdt[i] : 0;
	gdt[NP_SELECTOR / 8] = NP_DESCRIPTOR;
	set_l2_gdt(vm, (uint64_t)gdt, NP_SELECTOR + 7);
	mhv_l2_call(vm, l2_load_np, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#NP", &e);
	MHV_CHECK(expect_vector(run, &e, EXC_NP, true, NP_SELECTOR, (uint64_t)l2_load_np + 5));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("exception/np", np_probe);

/* #SS(0): an SS-based reference to a non-canonical address in 64-bit mode. */
static enum probe_status ss_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_SS, true);
	mhv_l2_call(vm, l2_stack_noncanonical, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#SS", &e);
	MHV_CHECK(expect_vector(run, &e, EXC_SS, true, 0, (uint64_t)l2_stack_noncanonical + 10));
	mhv_advance_rip(vm, 4);
	return mhv_run_expect_done(run, vm);
}
PROBE("exception/ss", ss_probe);

/* #MF: with CR0.NE = 1 a pending unmasked x87 exception is reported at the next waiting
 * x87 instruction (FWAIT) as #MF, no error code (SDM vol.1 8.7, vol.3A 6.15 "Interrupt
 * 16"). The x87 state is L1's too (neither VMRUN nor VM entry switches it): L1 clears it. */
static enum probe_status mf_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_MF, true);
	mhv_set(vm, MHV_REG_CR0, (mhv_get(vm, MHV_REG_CR0) | CR0_NE | CR0_MP) & ~(CR0_TS | CR0_EM));
	uint16_t *cw = mhv_scratch_page(1);
	*cw = X87_CW_UNMASKED;
	mhv_l2_call(vm, l2_x87_fault, cw);
	struct mhv_exit e;
	mhv_run(vm, &e);
	__asm__ volatile("fnclex\n\tfninit");
	mhv_diag_exit("#MF", &e);
	MHV_CHECK(expect_vector(run, &e, EXC_MF, false, 0, (uint64_t)l2_x87_fault + 8));
	mhv_advance_rip(vm, 1);
	return mhv_run_expect_done(run, vm);
}
PROBE("exception/mf", mf_probe);

/* #XM: an unmasked SIMD floating-point exception with CR4.OSXMMEXCPT = 1 (SDM vol.3A 6.15
 * "Interrupt 19"): a fault on the DIVSS, no error code. L2 puts MXCSR back itself. */
static enum probe_status xm_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_XM, true);
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_OSFXSR | CR4_OSXMMEXCPT);
	mhv_set(vm, MHV_REG_CR0, (mhv_get(vm, MHV_REG_CR0) | CR0_MP) & ~(CR0_TS | CR0_EM));
	uint32_t *mxcsr = mhv_scratch_page(1);
	mxcsr[0] = MXCSR_UNMASKED;
	mxcsr[1] = MXCSR_DEFAULT;
	mhv_l2_call(vm, l2_simd_fault, mxcsr);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#XM", &e);
	MHV_CHECK(expect_vector(run, &e, EXC_XM, false, 0, (uint64_t)l2_simd_fault + 6));
	mhv_advance_rip(vm, 4);
	return mhv_run_expect_done(run, vm);
}
PROBE("exception/xm", xm_probe);

/* #DF: with an IDT limit of 0, the #UD cannot be delivered (#GP, error code 33h: vector
 * 6, IDT, EXT), nor can that #GP: #DF with error code 0 (SDM vol.3A 6.15 "Interrupt 8",
 * Table 6-5: contributory after contributory). RIP stays at the UD2. */
static enum probe_status df_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_exception(vm, EXC_DF, true);
	set_l2_idt_limit(vm, 0);
	mhv_l2_call(vm, l2_ud2_df, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#DF", &e);
	return mhv_expect_exception(run, &e, EXC_DF, true, 0, (uint64_t)l2_ud2_df);
}
PROBE("exception/df", df_probe);

/* The triple fault: the same without the #DF intercept: #DF cannot be delivered either,
 * and the CPU shuts down; SVM exits with SHUTDOWN (7Fh, its intercept set), VMX with
 * exit reason 2, qualification 0 (SDM vol.3C 28.2.1). The state after it is undefined
 * (APM vol.2 15.11): the VM is not run again. Bochs 2.7's AMD-V takes no #VMEXIT for it:
 * it stops the whole emulator ("3rd (13) exception with no resolution", a panic), bare
 * and under nestbed alike, so the probe SKIPs there (guests/README.md). */
static enum probe_status triple_fault_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (vm->vendor == MHV_VENDOR_SVM && platform_cpu_is_bochs()) {
		mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_SHUTDOWN);
		return probe_skip(run, "Bochs 2.7's AMD-V panics at a triple fault in the guest "
				  "instead of #VMEXIT SHUTDOWN (7Fh): the run would end here");
	}
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_SHUTDOWN, true));
	set_l2_idt_limit(vm, 0);
	mhv_l2_call(vm, l2_ud2_df, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("triple fault", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_SHUTDOWN));
	if (e.vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification", 0, e.qualification);
	return PROBE_PASS;
}
PROBE("exception/triple-fault", triple_fault_probe);

/* Named in the exit table (SVM 40h+vector; VMX reason 0) though not raised here. */
static enum probe_status not_yet(struct probe_run *run, unsigned vector, const char *why)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_exit_asserted(vm->vendor, vm->vendor == MHV_VENDOR_SVM
					      ? SVM_EXIT_EXCEPTION_BASE + vector
					      : VMX_EXIT_EXCEPTION_NMI);
	return probe_skip(run, "%s", why);
}

/* #AC(0): an unaligned 4-byte read at CPL 3 with CR0.AM = 1 and RFLAGS.AC = 1 (SDM vol.3A
 * 6.15 "Interrupt 17"; APM vol.2 8.2.18). L2 is 32-bit without paging, made CPL 3 by its
 * segment registers' hidden state alone (CS and SS with DPL 3: VMX takes the CPL from
 * SS.DPL, SDM vol.3C 27.3.2... 28.3.1; SVM from the VMCB's CPL byte, APM vol.2 15.5.1):
 * no descriptor and no user page is needed. The probe ends at the exit. */
#define CR0_AM       (1ull << 18)
#define RFLAGS_AC    (1ull << 18)
#define DPL3         (3u << 5)     /* access rights / attribute bits 6:5 */
#define USER_CS      (GDT_CODE32 | 3)
#define USER_SS      (GDT_DATA | 3)

/* MOV EBX, [EAX] at 0 (8B 18: 2 bytes) with EAX odd; HLT if it ever completes. */
MHV_L2_ASM32(l2_unaligned_read, "mov (%eax), %ebx\n\thlt");

static enum probe_status ac_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_PROT32, MHV_TDP);
	mhv_intercept_exception(vm, EXC_AC, true);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_l2_enter(vm, l2_unaligned_read);
	vm->regs.rax = (uint64_t)mhv_scratch_page(1) + 1;
	mhv_set(vm, MHV_REG_CR0, mhv_get(vm, MHV_REG_CR0) | CR0_AM);
	mhv_set(vm, MHV_REG_RFLAGS, mhv_get(vm, MHV_REG_RFLAGS) | RFLAGS_AC);
	if (vm->vendor == MHV_VENDOR_SVM) {
		vm->vmcb->cs.selector = USER_CS;
		vm->vmcb->cs.attrib |= DPL3;
		vm->vmcb->ss.selector = USER_SS;
		vm->vmcb->ss.attrib |= DPL3;
		vm->vmcb->cpl = 3;
	} else {
		vmwrite(VMCS_GUEST_CS_SEL, USER_CS);
		vmwrite(VMCS_GUEST_CS_AR, vmread(VMCS_GUEST_CS_AR) | DPL3);
		vmwrite(VMCS_GUEST_SS_SEL, USER_SS);
		vmwrite(VMCS_GUEST_SS_AR, vmread(VMCS_GUEST_SS_AR) | DPL3);
	}
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("#AC", &e);
	return expect_vector(run, &e, EXC_AC, true, 0, (uint64_t)l2_unaligned_read);
}
PROBE("exception/ac", ac_probe);


/* #MC: only a machine check raises it (RDMSR/WRMSR of MCi_STATUS does not); neither
 * emulator injects one. */
static enum probe_status mc_probe(struct probe_run *run)
{
	return not_yet(run, EXC_MC, "#MC comes from a hardware error: software cannot raise it, "
			  "and neither QEMU nor Bochs injects one into a guest here");
}
PROBE("exception/mc", mc_probe);

/* #CP(ENDBRANCH): with CET indirect branch tracking on (CR4.CET, IA32_S_CET.ENDBR_EN at
 * CPL 0), an indirect JMP whose target is not ENDBR64 raises #CP with error code 3 at
 * the target (SDM vol.1 18.3.1, vol.3A 6.15 "Interrupt 21"). IA32_S_CET is not switched
 * by VM entry here, so L1 sets it for L2; L1's own CR4.CET is 0, which keeps CET off in
 * L1 meanwhile. AMD's CET has no indirect branch tracking: SKIP there. */
#define CPUID_7_EDX_IBT   (1u << 20)   /* SDM vol.2A Table 3-8 */
#define MSR_IA32_S_CET    0x6a2u       /* SDM vol.4 Table 2-2 */
#define S_CET_ENDBR_EN    (1ull << 2)
#define CR4_CET           (1ull << 23)
#define CR0_WP            (1ull << 16)
#define CP_ENDBRANCH      3            /* #CP error code */

/* LEA of the target (7 bytes), JMP *%rax (2 bytes), the target at 9: a NOP, not ENDBR64. */
MHV_L2_ASM(l2_jmp_no_endbr, "lea 1f(%rip), %rax\n\tjmp *%rax\n1:\tnop");

static enum probe_status cp_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_exit_asserted(vm->vendor, vm->vendor == MHV_VENDOR_SVM
					      ? SVM_EXIT_EXCEPTION_BASE + EXC_CP
					      : VMX_EXIT_EXCEPTION_NMI);
	if (!(cpuid_subleaf(7, 0).edx & CPUID_7_EDX_IBT))
		return probe_skip(run, "#CP(ENDBRANCH) needs CET indirect branch tracking: "
				  "CPUID.(7,0):EDX[20] is 0");
	if (vm->vendor == MHV_VENDOR_VMX &&
	    !(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & CR4_CET))
		return probe_skip(run, "IA32_VMX_CR4_FIXED1 does not allow CR4.CET in L2");
	mhv_intercept_exception(vm, EXC_CP, true);
	mhv_set(vm, MHV_REG_CR0, mhv_get(vm, MHV_REG_CR0) | CR0_WP);
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_CET);
	wrmsr(MSR_IA32_S_CET, S_CET_ENDBR_EN);
	mhv_l2_call(vm, l2_jmp_no_endbr, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	wrmsr(MSR_IA32_S_CET, 0);
	mhv_diag_exit("#CP", &e);
	return expect_vector(run, &e, EXC_CP, true, CP_ENDBRANCH, (uint64_t)l2_jmp_no_endbr + 9);
}
PROBE("exception/cp", cp_probe);
