/* vminsn/svm-l2-*-not-intercepted: SVM instructions L2 executes when L1 does not
 * intercept them run as the APM defines them (APM vol.2 15.5.2, 15.17, 15.33.1): VMLOAD
 * and VMSAVE on the VMCB at rAX, a physical address of L1 (the host, for L2's
 * instruction, without virtual VMLOAD/VMSAVE: KVM's CVE-2021-3656 fix), CLGI and STGI
 * on the GIF, with no exit; #UD where L2's EFER.SVME is clear, which L1 gets as exit 46h
 * when it intercepts #UD. SKIP on VMX. QEMU 7.2 exits for an unintercepted VMLOAD or
 * VMSAVE of a guest without nested paging (its virtual_vm_load_save_enabled), so the
 * VMLOAD probe runs its L2 with nested paging (identity but for one page, which tells
 * L1-physical from L2-physical rAX apart). */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/svm.h"
#include "lib/tdp.h"

#define MSR_STAR           0xc0000081u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_LSTAR          0xc0000082u
#define VMCB_LSTAR 0x608
#define EFER_SVME_BIT      (1ull << 12)
#define STAR_VALUE   0x0023001000000000ull
#define KGSBASE_VALUE 0x0000123456789000ull
#define VMCB_STAR 0x600
#define VMCB_KERNEL_GS_BASE 0x620

/* rdi: page A, page B = A + 4096. VMSAVE to A, change STAR and KernelGsBase there,
 * VMLOAD A, VMSAVE to B. */
MHV_L2_ASM(l2_vmsave_vmload,
	   "mov %rdi, %rax\n\tvmsave %rax\n\t"
	   "movabs $0x0023001000000000, %rcx\n\tmov %rcx, 0x600(%rdi)\n\t"
	   "movabs $0x0000123456789000, %rcx\n\tmov %rcx, 0x620(%rdi)\n\t"
	   "vmload %rax\n\t"
	   "lea 4096(%rdi), %rax\n\tvmsave %rax");
MHV_L2_ASM(l2_clgi_stgi, "clgi\n\tnop\n\tstgi");
/* EFER.SVME cleared by L2 (rdi: EFER without it), then VMSAVE */
MHV_L2_ASM(l2_svme_clear_vmsave,
	   "mov $0xc0000080, %ecx\n\tmov %rdi, %rax\n\tmov %rdi, %rdx\n\tshr $32, %rdx\n\twrmsr\n\t"
	   "mov %rsi, %rax\n\tvmsave %rax");

static enum probe_status start_with(struct probe_run *run, struct mhv_vm **vm, unsigned options)
{
	MHV_START(run, *vm, MHV_MODE_LONG, options);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "an SVM instruction"));
	return mhv_intercept(run, *vm, MHV_INTERCEPT_VM_INSN, false);
}

static enum probe_status start(struct probe_run *run, struct mhv_vm **vm)
{
	return start_with(run, vm, 0);
}

static enum probe_status vmload_vmsave(struct probe_run *run)
{
	struct mhv_vm *vm;
	/* with nested paging: QEMU 7.2 exits for an unintercepted VMLOAD/VMSAVE of a guest
	 * without it (its virtual_vm_load_save_enabled) */
	MHV_CHECK(start_with(run, &vm, MHV_TDP));
	uint64_t star = rdmsr(MSR_STAR), kgs = rdmsr(MSR_KERNEL_GS_BASE), lstar = rdmsr(MSR_LSTAR);
	uint8_t *a = mhv_scratch_page(1), *b = mhv_scratch_page(2);
	/* L2's page B (guest-physical) is L1's page C in L1's NPT: rAX is L1-physical, so
	 * L2's VMSAVE to B writes B, not C */
	uint8_t *c = mhv_scratch_page(3);
	uint64_t *leaf = mhv_tdp_entry(vm, (uint64_t)b);
	if (!leaf)
		return probe_fail(run, "no nested-paging leaf for %p", (void *)b);
	*leaf = (*leaf & ~TDP_ADDR_MASK) | (uint64_t)c;
	mhv_l2_call(vm, l2_vmsave_vmload, a);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2 ran VMSAVE, VMLOAD, VMSAVE", &e);
	/* the state stays in the CPU across #VMEXIT (15.5.2): L1 has L2's now */
	uint64_t star_after = rdmsr(MSR_STAR), kgs_after = rdmsr(MSR_KERNEL_GS_BASE);
	wrmsr(MSR_STAR, star);
	wrmsr(MSR_KERNEL_GS_BASE, kgs);
	MHV_CHECK(mhv_expect_done(run, &e));
	uint64_t b_star, b_kgs, a_lstar;
	memcpy(&b_star, b + VMCB_STAR, 8);
	memcpy(&b_kgs, b + VMCB_KERNEL_GS_BASE, 8);
	EXPECT_EQ(run, "STAR VMSAVE stored at L1-physical rAX after L2's VMLOAD", STAR_VALUE, b_star);
	uint64_t c_star;
	memcpy(&c_star, c + VMCB_STAR, 8);
	EXPECT_EQ(run, "STAR at the page L1's NPT maps rAX to (untouched)", 0, c_star);
	EXPECT_EQ(run, "KernelGsBase VMSAVE stored after L2's VMLOAD", KGSBASE_VALUE, b_kgs);
	/* the first VMSAVE stored the LSTAR L2 had: L1's, VMRUN does not load it */
	memcpy(&a_lstar, a + VMCB_LSTAR, 8);
	EXPECT_EQ(run, "LSTAR L2's first VMSAVE stored (L1's, not loaded by VMRUN)", lstar, a_lstar);
	EXPECT_EQ(run, "STAR in the CPU after the #VMEXIT", STAR_VALUE, star_after);
	EXPECT_EQ(run, "KernelGsBase in the CPU after the #VMEXIT", KGSBASE_VALUE, kgs_after);
	return PROBE_PASS;
}
PROBE("vminsn/svm-l2-vmload-not-intercepted", vmload_vmsave);

static enum probe_status clgi_stgi(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_l2_call(vm, l2_clgi_stgi, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2 ran CLGI, NOP, STGI", &e);
	return mhv_expect_done(run, &e);
}
PROBE("vminsn/svm-l2-clgi-not-intercepted", clgi_stgi);

/* L2 clears its EFER.SVME: its VMSAVE raises #UD (15.4), which an L1 that intercepts
 * #UD gets as exit 46h at the VMSAVE. (Not intercepted, the #UD reaches L2's handler,
 * whose VMMCALL report then raises #UD too with SVME clear on QEMU: not probed.) */
static enum probe_status svme_clear(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	uint64_t efer = mhv_get(vm, MHV_REG_EFER) & ~EFER_SVME_BIT;
	mhv_intercept_exception(vm, EXC_UD, true);
	mhv_l2_call(vm, l2_svme_clear_vmsave, (void *)efer);
	vm->regs.rsi = (uint64_t)mhv_scratch_page(1);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMSAVE with L2's EFER.SVME clear", &e);
	return mhv_expect_exception(run, &e, EXC_UD, false, 0, (uint64_t)l2_svme_clear_vmsave + 20);
}
PROBE("vminsn/svm-l2-svme-clear-ud", svme_clear);

/* L2's own CLGI holds a physical interrupt (APM vol.2 15.17: with GIF 0 interrupts are
 * held pending): L2 clears GIF, sends itself a fixed IPI, waits, sets GIF; the INTR exit
 * L1 intercepts comes only after STGI, at the instruction after it. */
#define GIF_TEST_VECTOR 0x43
#define ICR_SELF_FIXED (0x40000u | GIF_TEST_VECTOR) /* shorthand self, fixed (SDM 10.6.1) */
#define RIP_AFTER_STGI 34 /* clgi 3, two ICR writes 6 + 6, 16 NOPs, stgi 3 */
MHV_L2_ASM(l2_clgi_ipi_stgi,
	   "clgi\n\tmov %esi, 0x310(%rdi)\n\tmov %edx, 0x300(%rdi)\n\t"
	   ".fill 16, 1, 0x90\n\tstgi\n\tnop\n\tnop");

static volatile uint64_t gif_hooked_count, gif_hooked_vector;

static void gif_record_interrupt(uint64_t vector)
{
	gif_hooked_vector = vector;
	gif_hooked_count++;
	if (vector >= 32)
		lapic_eoi();
}

static enum probe_status clgi_holds_interrupt(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR, true));
	lapic_enable();
	mhv_l2_call(vm, l2_clgi_ipi_stgi, (void *)lapic_base());
	mhv_set(vm, MHV_REG_RFLAGS, 2 | 0x200);
	vm->regs.rsi = 0;
	vm->regs.rdx = ICR_SELF_FIXED;
	gif_hooked_count = 0;
	exception_set_interrupt_hook(gif_record_interrupt);
	struct mhv_exit e;
	mhv_run(vm, &e);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory"); /* L1 takes the interrupt */
	if (e.kind == MHV_EXIT_L2_EVENT && mhv_l2_event.vector >= 32)
		lapic_eoi(); /* taken in L2, whose handler does not end it: free the ISR bit */
	exception_set_interrupt_hook(NULL);
	mhv_diag_exit("interrupt sent with L2's GIF 0", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR));
	EXPECT_EQ(run, "L2 RIP at the INTR exit (after STGI, not before)",
		  (uint64_t)l2_clgi_ipi_stgi + RIP_AFTER_STGI, e.rip);
	EXPECT_EQ(run, "interrupts L1 took after the exit", 1, gif_hooked_count);
	EXPECT_EQ(run, "vector L1 took after the exit", GIF_TEST_VECTOR, gif_hooked_vector);
	return PROBE_PASS;
}
PROBE("vminsn/svm-l2-clgi-holds-interrupt", clgi_holds_interrupt);

/* event/v-intr-masking-holds-physical (SVM): with V_INTR_MASKING = 1 the guest's
 * RFLAGS.IF masks only virtual interrupts; physical ones are masked by the host's IF as
 * it was at VMRUN (APM vol.2 15.21.1). L1 runs L2 with its own IF 0, L2 with IF 1 and
 * no INTR intercept: L2's self-IPI is not delivered in L2 (L2 finishes), L1 takes it
 * after its STI. This is how nestbed holds interrupts while L2's GIF is 0. */
MHV_L2_ASM(l2_self_ipi_wait, "mov %esi, 0x310(%rdi)\n\tmov %edx, 0x300(%rdi)\n\t.fill 16, 1, 0x90");

static enum probe_status v_intr_masking_holds(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "V_INTR_MASKING is SVM's"));
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	lapic_enable();
	mhv_l2_call(vm, l2_self_ipi_wait, (void *)lapic_base());
	mhv_set(vm, MHV_REG_RFLAGS, 2 | 0x200);
	vm->vmcb->vintr |= SVM_VINTR_MASKING;
	vm->regs.rsi = 0;
	vm->regs.rdx = ICR_SELF_FIXED;
	gif_hooked_count = 0;
	exception_set_interrupt_hook(gif_record_interrupt);
	struct mhv_exit e;
	mhv_run(vm, &e);
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	if (e.kind == MHV_EXIT_L2_EVENT && mhv_l2_event.vector >= 32)
		lapic_eoi(); /* taken in L2, whose handler does not end it: free the ISR bit */
	exception_set_interrupt_hook(NULL);
	mhv_diag_exit("self-IPI with V_INTR_MASKING and host IF 0", &e);
	MHV_CHECK(mhv_expect_done(run, &e));
	EXPECT_EQ(run, "interrupts L1 took after the exit", 1, gif_hooked_count);
	return PROBE_PASS;
}
PROBE("event/v-intr-masking-holds-physical", v_intr_masking_holds);
