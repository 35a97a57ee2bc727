/* intercept/task-switch: a JMP to a TSS descriptor in a 32-bit L2 (task switches do not
 * exist in 64-bit mode). VMX: a task switch always exits (SDM vol.3C 26.1.2), reason 9,
 * the qualification the TSS selector in bits 15:0 and the source in bits 31:30 (2: JMP;
 * 28.2.1 Table 28-2), the instruction length of the JMP (28.2.4). SVM: the task-switch
 * intercept (VMCB 00Ch bit 29), exit code 7Dh, EXITINFO1 the TSS selector, EXITINFO2
 * bit 38 set for a JMP (APM vol.2 15.9 and Table 15-8... "task switch" EXITINFO).
 * The exit comes before the switch: L2's state, TR included, is what it was. L1 does not
 * emulate the switch; the probe ends at the exit. exception/ts below raises #TS the
 * same way. */
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define TSS_SELECTOR 0x30
#define TSS32_LIMIT  0x67                     /* a 32-bit TSS is 104 bytes (SDM vol.3A 8.2.1) */
#define TSS32_AVAILABLE_DPL0_PRESENT 0x89     /* descriptor bits 47:40: P, type 9 */
#define VMX_TASK_SOURCE_JMP 2u                /* qualification bits 31:30 */
#define SVM_TASK_INFO2_JMP (1ull << 38)       /* EXITINFO2: the switch was caused by JMP */
#define SVM_TASK_INFO2_IRET (1ull << 36)

/* LJMP ptr16:32 to the TSS (EA imm32 imm16: 7 bytes), HLT if it ever returns. */
MHV_L2_ASM32(l2_jmp_tss, "ljmp $0x30, $0\n\thlt");

struct l2_gdtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t tss_descriptor(uint32_t base, uint32_t limit)
{
	return limit | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)TSS32_AVAILABLE_DPL0_PRESENT << 40) | ((uint64_t)(base >> 24) << 56);
}

/* L2's GDT: L1's 32-bit code and data descriptors, and a TSS at 30h with this limit. */
static void l2_gdt_with_tss(struct mhv_vm *vm, uint32_t limit)
{
	struct l2_gdtr gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	uint64_t *gdt = mhv_scratch_page(1);
	uint8_t *tss = mhv_scratch_page(2);
	for (unsigned i = 0; i < 4096; i++)
		tss[i] = 0;
	const uint64_t *l1_gdt = (const uint64_t *)gdtr.base;
	for (unsigned i = 0; i < TSS_SELECTOR / 8; i++)
		gdt[i] = (i * 8u <= gdtr.limit) ? l1_gdt[i] : 0;
	gdt[TSS_SELECTOR / 8] = tss_descriptor((uint32_t)(uint64_t)tss, limit);
	if (vm->vendor == MHV_VENDOR_SVM) {
		vm->vmcb->gdtr.base = (uint64_t)gdt;
		vm->vmcb->gdtr.limit = TSS_SELECTOR + 7;
	} else {
		vmwrite(VMCS_GUEST_GDTR_BASE, (uint64_t)gdt);
		vmwrite(VMCS_GUEST_GDTR_LIMIT, TSS_SELECTOR + 7);
	}
}

/* Runs L2 to its first exit. On SVM, #VMEXIT does not restore TR and LDTR (they are
 * VMSAVE/VMLOAD state, APM vol.2 15.5.2): a CPU that lets the task switch happen (QEMU,
 * which ignores the intercept) would leave L1 with L2's new task register. L1 keeps its
 * own with VMSAVE before and VMLOAD after (L1's memory is identity-mapped). */
static void run_keeping_tr(struct mhv_vm *vm, struct mhv_exit *e)
{
	uint64_t save_area = (uint64_t)mhv_scratch_page(3);
	if (vm->vendor == MHV_VENDOR_SVM)
		__asm__ volatile("vmsave" ::"a"(save_area) : "memory");
	mhv_run(vm, e);
	if (vm->vendor == MHV_VENDOR_SVM)
		__asm__ volatile("vmload" ::"a"(save_area) : "memory");
}

static enum probe_status task_switch(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_PROT32, MHV_TDP);
	mhv_exit_asserted(vm->vendor, vm->vendor == MHV_VENDOR_SVM ? SVM_EXIT_TASK_SWITCH
								: VMX_EXIT_TASK_SWITCH);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	l2_gdt_with_tss(vm, TSS32_LIMIT);
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_TASK_SWITCH;
	mhv_l2_enter(vm, l2_jmp_tss);
	struct mhv_exit e;
	run_keeping_tr(vm, &e);
	mhv_diag_exit("task switch", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TASK_SWITCH));
	EXPECT_EQ(run, "L2 RIP at the exit (the JMP)", (uint64_t)l2_jmp_tss, e.rip);
	if (e.vendor == MHV_VENDOR_VMX) {
		EXPECT_EQ(run, "VMX exit qualification (selector 30h, source JMP)",
			  TSS_SELECTOR | (VMX_TASK_SOURCE_JMP << 30), e.qualification);
		EXPECT_EQ(run, "VMX VM-exit instruction length (LJMP ptr16:32)", 7, e.insn_len);
	} else {
		EXPECT_EQ(run, "SVM EXITINFO1 (the TSS selector)", TSS_SELECTOR, e.exitinfo1);
		EXPECT_EQ(run, "SVM EXITINFO2 bits 36 and 38 (IRET, JMP)", SVM_TASK_INFO2_JMP,
			  e.exitinfo2 & (SVM_TASK_INFO2_JMP | SVM_TASK_INFO2_IRET));
	}
	return PROBE_PASS;
}
PROBE("intercept/task-switch", task_switch);

/* exception/ts: #TS(new TSS selector) when the new TSS's limit is below 67h, a check the
 * task switch makes before it saves anything (SDM vol.3A 8.3 step 2, Table 8-1): SVM
 * with the #TS intercept (exit 4Ah, EXITINFO1 the error code 30h: EXT 0, the JMP is an
 * instruction) and without the task-switch intercept. On VMX every task switch exits
 * first (SDM vol.3C 26.1.2), so no L2 can raise #TS: SKIP. */
#define TSS32_TOO_SHORT 0x20

static enum probe_status ts_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_PROT32, MHV_TDP);
	if (vm->vendor == MHV_VENDOR_VMX)
		return probe_skip(run, "VMX: a task switch always exits before its checks (SDM "
				  "vol.3C 26.1.2): an L2 cannot raise #TS");
	mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_EXCEPTION_BASE + EXC_TS);
	mhv_intercept_exception(vm, EXC_TS, true);
	l2_gdt_with_tss(vm, TSS32_TOO_SHORT);
	mhv_l2_enter(vm, l2_jmp_tss);
	struct mhv_exit e;
	run_keeping_tr(vm, &e);
	mhv_diag_exit("#TS", &e);
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_TS, true, TSS_SELECTOR, (uint64_t)l2_jmp_tss));
	return mhv_expect_no_vectoring(run, &e);
}
PROBE("exception/ts", ts_probe);
