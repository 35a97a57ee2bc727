/* event/preemption-timer-...: the VMX-preemption timer (SDM vol.3C 25.5.2): it counts
 * down from the VMCS value by 1 each time TSC bit X changes, X = IA32_VMX_MISC[4:0]
 * (A.6), and at 0 exits with reason 52 and exit qualification 0 (27.2.1); a value of 0
 * exits before L2's first instruction (26.7.4); with "save VMX-preemption timer value"
 * each VM exit stores what is left (0 after a timer exit, 27.3.4), without it the field
 * keeps the value the next entry reloads. AMD-V has no such timer: SKIP. */
#include "lib/mhv.h"
#include "lib/vmx.h"

#define SPIN_LONG 50000000u  /* ~100M instructions: far beyond the timer's value */
#define SPIN_SHORT 100000u
#define TIMER_VALUE 20000u
#define TIMER_BIG 0x7fffffffu

static uint64_t read_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* ECX iterations of DEC/JNZ, then HLT (intercepted): an exit before HLT is the timer's. */
MHV_L2_ASM(l2_spin, "tmr_loop:\n\tdec %ecx\n\tjnz tmr_loop\n"
		    "tmr_hlt:\n\thlt");
extern const char tmr_loop[], tmr_hlt[];

/* The same with an RDMSR of EFER in every iteration: the timer counts whatever L2 runs,
 * also where a hypervisor underneath completes the RDMSR itself (nestbed does) and must
 * not restart the count. ESI iterations, ECX = EFER. */
MHV_L2_ASM(l2_spin_rdmsr, "tmr_rdmsr_loop:\n\trdmsr\n\tdec %esi\n\tjnz tmr_rdmsr_loop\n"
			  "tmr_rdmsr_hlt:\n\thlt");
extern const char tmr_rdmsr_loop[], tmr_rdmsr_hlt[];
#define MSR_EFER 0xc0000080u
#define TIMER_SHORT 2000u
#define SPIN_RDMSR 1000000u

static enum probe_status expect_timer(struct probe_run *run, const struct mhv_exit *e)
{
	MHV_CHECK(mhv_expect_kind(run, e, MHV_EXIT_PREEMPTION_TIMER));
	EXPECT_EXIT(run, MHV_VENDOR_VMX,
		    "VMX exit reason (VMX-preemption timer expired)", VMX_EXIT_PREEMPTION_TIMER,
		  e->reason);
	EXPECT_EQ(run, "exit qualification of a timer exit", 0, e->qualification);
	MHV_CHECK(mhv_expect_no_vectoring(run, e));
	return PROBE_PASS;
}

static enum probe_status expires(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	unsigned shift;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	MHV_CHECK(mhv_preemption_timer(run, vm, true, TIMER_VALUE, true, &shift));
	mhv_l2_call(vm, l2_spin, NULL);
	vm->regs.rcx = SPIN_LONG;
	uint64_t t0 = read_tsc();
	mhv_run(vm, &e);
	uint64_t elapsed = read_tsc() - t0;
	mhv_diag_exit("timer", &e);
	diag("timer %u << %u: %llu TSC ticks from entry to exit, %llu iterations", TIMER_VALUE,
	     shift, (unsigned long long)elapsed, (unsigned long long)(SPIN_LONG - (uint32_t)vm->regs.rcx));
	MHV_CHECK(expect_timer(run, &e));
	if (e.rip != (uint64_t)tmr_loop && e.rip != (uint64_t)tmr_loop + 2)
		return probe_fail(run, "L2 RIP at the timer exit: expected in the loop (%#llx or "
				  "%#llx), observed %#llx", (unsigned long long)(uint64_t)tmr_loop,
				  (unsigned long long)(uint64_t)tmr_loop + 2, (unsigned long long)e.rip);
	EXPECT_EQ(run, "saved VMX-preemption timer value after its exit", 0,
		  mhv_preemption_timer_value(vm));
	/* it counted TSC >> X: at least (value - 1) << X ticks passed */
	uint64_t least = (uint64_t)(TIMER_VALUE - 1) << shift;
	if (elapsed < least)
		return probe_fail(run, "the timer expired after %llu TSC ticks, before %u << %u "
				  "(IA32_VMX_MISC[4:0])", (unsigned long long)elapsed, TIMER_VALUE - 1, shift);
	return PROBE_PASS;
}
PROBE("event/preemption-timer", expires);

static enum probe_status zero(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	MHV_CHECK(mhv_preemption_timer(run, vm, true, 0, false, NULL));
	mhv_l2_call(vm, l2_spin, NULL);
	vm->regs.rcx = SPIN_LONG;
	mhv_run(vm, &e);
	mhv_diag_exit("timer 0", &e);
	MHV_CHECK(expect_timer(run, &e));
	EXPECT_EQ(run, "L2 RIP at the exit (the entry RIP: no instruction ran)", (uint64_t)l2_spin,
		  e.rip);
	EXPECT_EQ(run, "L2 ECX (no iteration ran)", SPIN_LONG, (uint32_t)vm->regs.rcx);
	return PROBE_PASS;
}
PROBE("event/preemption-timer-zero", zero);

/* Another exit (HLT) saves what is left of the count, less by at most the TSC ticks that
 * passed >> X; without "save", the field keeps its value. */
static enum probe_status save(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	unsigned shift;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	MHV_CHECK(mhv_preemption_timer(run, vm, true, TIMER_BIG, true, &shift));
	mhv_l2_call(vm, l2_spin, NULL);
	vm->regs.rcx = SPIN_SHORT;
	uint64_t t0 = read_tsc();
	mhv_run(vm, &e);
	uint64_t elapsed = read_tsc() - t0;
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_HLT, (uint64_t)tmr_hlt, 1));
	uint32_t left = mhv_preemption_timer_value(vm);
	uint64_t counted = TIMER_BIG - left;
	diag("timer %#x << %u: %#x left after %llu TSC ticks", TIMER_BIG, shift, left,
	     (unsigned long long)elapsed);
	if (left >= TIMER_BIG || counted > (elapsed >> shift) + 1)
		return probe_fail(run, "saved VMX-preemption timer value: expected below %#x by "
				  "1..%llu (TSC ticks >> IA32_VMX_MISC[4:0]), observed %#x", TIMER_BIG,
				  (unsigned long long)(elapsed >> shift) + 1, left);

	MHV_CHECK(mhv_preemption_timer(run, vm, true, TIMER_BIG, false, NULL));
	mhv_l2_call(vm, l2_spin, NULL);
	vm->regs.rcx = SPIN_SHORT;
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_HLT, (uint64_t)tmr_hlt, 1));
	EXPECT_EQ(run, "VMX-preemption timer value after an exit without 'save'", TIMER_BIG,
		  mhv_preemption_timer_value(vm));
	return PROBE_PASS;
}
PROBE("event/preemption-timer-save", save);

static enum probe_status across_rdmsr(struct probe_run *run)
{
	struct mhv_vm *vm;
	struct mhv_exit e;
	unsigned shift;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	MHV_CHECK(mhv_preemption_timer(run, vm, true, TIMER_SHORT, true, &shift));
	mhv_l2_call(vm, l2_spin_rdmsr, NULL);
	vm->regs.rcx = MSR_EFER;
	vm->regs.rsi = SPIN_RDMSR;
	mhv_run(vm, &e);
	mhv_diag_exit("timer over RDMSRs", &e);
	diag("timer %u << %u: %llu iterations", TIMER_SHORT, shift,
	     (unsigned long long)(SPIN_RDMSR - (uint32_t)vm->regs.rsi));
	MHV_CHECK(expect_timer(run, &e));
	if (e.rip < (uint64_t)tmr_rdmsr_loop || e.rip >= (uint64_t)tmr_rdmsr_hlt)
		return probe_fail(run, "L2 RIP at the timer exit: expected in the loop [%#llx, %#llx), "
				  "observed %#llx", (unsigned long long)(uint64_t)tmr_rdmsr_loop,
				  (unsigned long long)(uint64_t)tmr_rdmsr_hlt, (unsigned long long)e.rip);
	EXPECT_EQ(run, "saved VMX-preemption timer value after its exit", 0,
		  mhv_preemption_timer_value(vm));
	return PROBE_PASS;
}
PROBE("event/preemption-timer-rdmsr-loop", across_rdmsr);
