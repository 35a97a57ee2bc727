/* event/...: interrupt windows and real interrupts while L2 runs. The interrupt window
 * exits when L2 can take an interrupt (SVM V_IRQ with the VINTR intercept, exit 64h,
 * APM vol.2 15.21.4; VMX interrupt-window exiting, reason 7, SDM vol.3C 26.7.5); a
 * physical interrupt or NMI exits with INTR (60h) / NMI (61h) or VMX reason 1 / 0 with
 * the NMI's interruption information. */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define RFLAGS_IF 0x200ull
#define TEST_VECTOR 0x41

MHV_L2_ASM(l2_sti_window, "sti\n\tnop\n\tnop\n\tnop");
MHV_L2_ASM(l2_nops, "nop\n\tnop\n\tnop\n\tnop");

/* STI opens the window only after the next instruction (the STI shadow): the exit
 * comes with RIP at the second instruction after STI. */
static enum probe_status interrupt_window_after_sti(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR_WINDOW, true));
	mhv_l2_call(vm, l2_sti_window, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("interrupt window", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR_WINDOW));
	EXPECT_EQ(run, "L2 RIP at the exit (after STI and its shadow)",
		  (uint64_t)l2_sti_window + 2, e.rip);
	EXPECT_EQ(run, "L2 RFLAGS.IF at the exit", RFLAGS_IF, e.rflags & RFLAGS_IF);
	return PROBE_PASS;
}
PROBE("event/interrupt-window-after-sti", interrupt_window_after_sti);

/* With IF already 1, the window is open at entry: the exit comes before the first
 * instruction. */
static enum probe_status interrupt_window_open(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR_WINDOW, true));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("interrupt window", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR_WINDOW));
	EXPECT_EQ(run, "L2 RIP at the exit (the entry RIP)", (uint64_t)l2_nops, e.rip);
	return PROBE_PASS;
}
PROBE("event/interrupt-window-open", interrupt_window_open);

static volatile uint64_t hooked_vector, hooked_count;

static void record_interrupt(uint64_t vector)
{
	hooked_vector = vector;
	hooked_count++;
	if (vector >= 32)
		lapic_eoi();
}

/* A self-IPI sent by L1 (interrupts off) is pending when L2 runs with IF = 1: the exit
 * is INTR before L2's first instruction. VMX acknowledges it on exit: the vector is in
 * the VM-exit interruption information (type 0). SVM leaves it pending: L1 takes it
 * after STI. */
static enum probe_status external_interrupt(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR, true));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	lapic_enable();
	hooked_count = 0;
	exception_set_interrupt_hook(record_interrupt);
	lapic_self_ipi(TEST_VECTOR);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("external interrupt", &e);
	bool acked = e.vendor == MHV_VENDOR_VMX && (e.intr_info & VMX_INTR_VALID);
	if (acked)
		lapic_eoi();
	else
		__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	exception_set_interrupt_hook(NULL);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR));
	EXPECT_EQ(run, "L2 RIP at the exit (the entry RIP)", (uint64_t)l2_nops, e.rip);
	if (e.vendor == MHV_VENDOR_VMX) {
		EXPECT_EQ(run, "VMX VM-exit interruption information (acknowledged on exit)",
			  VMX_INTR_VALID | TEST_VECTOR, e.intr_info);
	} else {
		EXPECT_EQ(run, "interrupts L1 took after the exit", 1, hooked_count);
		EXPECT_EQ(run, "vector L1 took after the exit", TEST_VECTOR, hooked_vector);
	}
	return PROBE_PASS;
}
PROBE("event/external-interrupt", external_interrupt);

/* VMX: with external-interrupt exiting, an interrupt exits whatever L2's RFLAGS.IF is
 * (SDM vol.3C 25.2: "RFLAGS.IF does not affect" it; 26.7.5). L2 here runs with IF = 0
 * and the self-IPI pending at entry: the exit comes before its first instruction. A
 * spinning L2 with IF = 0 relies on this to give its CPU back (KVM's kicks, its L1's
 * timer). AMD-V gates physical interrupts by L2's IF without V_INTR_MASKING and by L1's
 * with it (APM vol.2 15.21.1): no such rule to test. */
static enum probe_status external_interrupt_if0(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (vm->vendor != MHV_VENDOR_VMX)
		return probe_skip(run, "VMX only: AMD-V gates physical interrupts by an IF (APM vol.2 15.21.1)");
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR, true));
	mhv_l2_call(vm, l2_nops, NULL);
	mhv_set(vm, MHV_REG_RFLAGS, 2);
	lapic_enable();
	hooked_count = 0;
	exception_set_interrupt_hook(record_interrupt);
	lapic_self_ipi(TEST_VECTOR);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("external interrupt, L2 IF = 0", &e);
	if (e.intr_info & VMX_INTR_VALID)
		lapic_eoi();
	else
		__asm__ volatile("sti; nop; nop; cli" ::: "memory"); /* the IPI, still pending */
	exception_set_interrupt_hook(NULL);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_INTR));
	EXPECT_EQ(run, "L2 RIP at the exit (the entry RIP)", (uint64_t)l2_nops, e.rip);
	EXPECT_EQ(run, "VMX VM-exit interruption information (acknowledged on exit)",
		  VMX_INTR_VALID | TEST_VECTOR, e.intr_info);
	return PROBE_PASS;
}
PROBE("event/external-interrupt-if0", external_interrupt_if0);

/* L2 sends itself an NMI through the local APIC (ICR: delivery mode NMI to its own APIC
 * ID): with the NMI intercept / NMI exiting, it exits (SVM 61h, the NMI then taken by
 * L1 once GIF is 1; VMX reason 0 with interruption information type 2, vector 2). */
MHV_L2_ASM(l2_send_nmi, "mov %esi, 0x310(%rdi)\n\tmov %edx, 0x300(%rdi)\n\t"
			"nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop");

static enum probe_status nmi_exit(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_NMI, true));
	lapic_enable();
	mhv_l2_call(vm, l2_send_nmi, (void *)lapic_base());
	vm->regs.rsi = lapic_read(0x20) & 0xff000000u; /* destination: own APIC ID */
	vm->regs.rdx = 0x4400;                         /* NMI, assert */
	hooked_count = 0;
	exception_set_interrupt_hook(record_interrupt);
	struct mhv_exit e;
	mhv_run(vm, &e);
	exception_set_interrupt_hook(NULL);
	mhv_diag_exit("NMI", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_NMI));
	/* An IPI reaches the CPU some time after the ICR write (the NMI may even come
	 * while L2 is in its return stub): only "after the write" is architectural. */
	extern void mhv_l2_return(void); /* L2's return stub (mhv_switch.asm) */
	bool in_snippet = e.rip > (uint64_t)l2_send_nmi && e.rip <= (uint64_t)l2_send_nmi + 16;
	bool in_stub = e.rip >= (uint64_t)mhv_l2_return && e.rip < (uint64_t)mhv_l2_return + 64;
	if (!in_snippet && !in_stub)
		return probe_fail(run, "L2 RIP at the NMI exit: expected after the ICR write at "
				  "%#llx (or in L2's return stub at %#llx), observed %#llx",
				  (unsigned long long)(uint64_t)l2_send_nmi,
				  (unsigned long long)(uint64_t)mhv_l2_return, (unsigned long long)e.rip);
	if (e.vendor == MHV_VENDOR_VMX) {
		EXPECT_EQ(run, "VMX VM-exit interruption information (NMI)",
			  VMX_INTR_VALID | (VMX_INTR_TYPE_NMI << VMX_INTR_TYPE_SHIFT) | 2,
			  e.intr_info & ~VMX_INTR_NMI_UNBLOCK);
	} else {
		EXPECT_EQ(run, "NMIs L1 took after the exit (held while GIF was 0)", 1, hooked_count);
	}
	return PROBE_PASS;
}
PROBE("event/nmi-exit", nmi_exit);
