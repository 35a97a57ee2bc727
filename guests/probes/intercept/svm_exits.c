/* intercept/svm-...: SVM intercepts without a VMX counterpart (APM vol.2 15.9-15.14,
 * exit codes from Table C-1): the pause filter, MWAIT when the monitor is armed
 * (MWAIT_CONDITIONAL), RDPRU, MONITORX/MWAITX, INVLPGB and TLBSYNC, the bus lock
 * threshold, and the virtual TPR a CR8 write reaches without its intercept. Each asserts the
 * exit code, L2's RIP at the instruction and, with NRIPS, next_rip; where the CPU lacks
 * the instruction or feature (CPUID), the probe SKIPs with the CPUID evidence. SKIP on
 * VMX. */
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/svm.h"

/* CPUID, APM vol.3 appendix E. */
#define CPUID_8000000A_EDX_PAUSE_FILTER (1u << 10)
#define CPUID_80000001_ECX_MONITORX     (1u << 29)
#define CPUID_80000008_EBX_INVLPGB      (1u << 3)
#define CPUID_80000008_EBX_RDPRU        (1u << 4)
#define CPUID_1_ECX_MONITOR             (1u << 3)
/* Intercept vector 4 (VMCB 010h) and 5 (VMCB 014h), APM vol.2 Table B-1. */
#define SVM_INTERCEPT_RDPRU   (1u << 14)
#define SVM_INTERCEPT_INVLPGB (1u << 0)
#define SVM_INTERCEPT_TLBSYNC (1u << 4)
/* Exit codes, APM vol.2 Table C-1. */
#define SVM_EXIT_RDPRU   0x8eu
#define SVM_EXIT_INVLPGB 0xa0u
#define SVM_EXIT_TLBSYNC 0xa4u
#define RFLAGS_IF 0x200ull
#define SVM_V_TPR_MASK 0xfull /* VMCB 060h bits 3:0 (APM vol.2 Table B-1) */

static enum probe_status svm_start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	return mhv_require_vendor(run, MHV_VENDOR_SVM, "an SVM intercept without a VMX control");
}

static enum probe_status expect_exit(struct probe_run *run, const struct mhv_exit *e,
				     uint64_t exitcode, uint64_t rip, unsigned len)
{
	EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", exitcode, e->exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", rip + len, e->next_rip);
	return mhv_expect_no_vectoring(run, e);
}

/* Pause filter (15.14.4): VMRUN loads an internal counter from PauseFilterCount; each
 * PAUSE decrements it, and with the PAUSE intercept the PAUSE that finds it at 0 exits
 * (a count of 0: every PAUSE exits). With a count of 3, three PAUSEs run in L2 and the
 * fourth exits. */
#define PAUSE_FILTER_COUNT 3
MHV_L2_ASM(l2_pauses, "pause\n\tpause\n\tpause\n\tpause\n\tpause\n\tpause\n\tpause\n\tpause");

static enum probe_status pause_filter(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_PAUSE);
	uint32_t edx = cpuid(CPUID_LEAF_SVM).edx;
	if (!(edx & CPUID_8000000A_EDX_PAUSE_FILTER))
		return probe_skip(run, "no pause filter (CPUID Fn8000_000A EDX = %#x, bit 10 clear)",
				  edx);
	vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_PAUSE;
	vm->vmcb->pause_filter_count = PAUSE_FILTER_COUNT;
	vm->vmcb->pause_filter_threshold = 0; /* no threshold: the count alone */
	mhv_l2_call(vm, l2_pauses, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("PAUSE x8 with pause filter count 3", &e);
	if (e.exitcode == SVM_EXIT_PAUSE && e.rip >= (uint64_t)l2_pauses)
		diag("exit at PAUSE number %llu", (unsigned long long)(e.rip - (uint64_t)l2_pauses) / 2 + 1);
	MHV_CHECK(expect_exit(run, &e, SVM_EXIT_PAUSE,
			      (uint64_t)l2_pauses + 2 * PAUSE_FILTER_COUNT, 2));
	vm->vmcb->intercept_misc1 &= ~SVM_INTERCEPT_PAUSE;
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/svm-pause-filter", pause_filter);

/* The MWAIT-if-armed intercept alone (vector 4 bit 12): MONITOR arms the monitor, the
 * MWAIT after it exits with MWAIT_CONDITIONAL (8Ch), not 8Bh (15.9, Table C-1). A CPU
 * that ignores the intercept would sleep in MWAIT: a local APIC timer armed before the
 * run ends that sleep (L2 runs with IF = 1 and physical interrupts intercepted: an INTR
 * exit, and the probe fails), and is stopped after. */
#define TIMER_VECTOR 0xee
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LAPIC_IRR 0x200
MHV_L2_ASM(l2_monitor_mwait, "mov %rdi, %rax\n\txor %ecx, %ecx\n\txor %edx, %edx\n\tmonitor\n\t"
			     "xor %eax, %eax\n\tmwait");  /* 3+2+2, 3; 2, 3 */

static volatile uint64_t timer_hits;
static void timer_hook(uint64_t vector)
{
	if (vector == TIMER_VECTOR)
		timer_hits++;
	if (vector >= 32)
		lapic_eoi();
}

static enum probe_status mwait_conditional(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_MWAIT_CONDITIONAL);
	uint32_t ecx = cpuid(CPUID_LEAF_FEATURES).ecx;
	if (!(ecx & CPUID_1_ECX_MONITOR))
		return probe_skip(run, "no MONITOR/MWAIT (CPUID.1:ECX = %#x, bit 3 clear)", ecx);
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable for the timer that bounds MWAIT");
	vm->vmcb->intercept_misc2 |= SVM_INTERCEPT_MWAIT_ARMED;
	vm->vmcb->intercept_misc2 &= ~(SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_MONITOR);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INTR, true));
	mhv_l2_call(vm, l2_monitor_mwait, mhv_scratch_page(2));
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	lapic_enable();
	timer_hits = 0;
	exception_set_interrupt_hook(timer_hook);
	lapic_write(LAPIC_TIMER_DIVIDE, 0xa); /* divide by 128 */
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR); /* one-shot */
	lapic_write(LAPIC_TIMER_INITIAL, 0x100000);
	struct mhv_exit e;
	mhv_run(vm, &e);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	lapic_write(LAPIC_LVT_TIMER, 1u << 16 | TIMER_VECTOR); /* masked */
	__asm__ volatile("sti; nop; nop; cli" ::: "memory"); /* a timer interrupt still pending */
	exception_set_interrupt_hook(NULL);
	mhv_diag_exit("MONITOR; MWAIT with the MWAIT-if-armed intercept", &e);
	return expect_exit(run, &e, SVM_EXIT_MWAIT_CONDITIONAL, (uint64_t)l2_monitor_mwait + 12, 3);
}
PROBE("intercept/svm-mwait-conditional", mwait_conditional);

/* An instruction gated by a CPUID bit, with its intercept bit in vector 4 or 5. */
struct gated {
	const char *name;
	uint32_t leaf;
	char reg;          /* 'b' EBX, 'c' ECX */
	uint32_t bit;
	unsigned vector;   /* 4 or 5 */
	uint32_t intercept;
	uint64_t exitcode;
	void (*code)(void *);
	unsigned offset, len;
};

MHV_L2_ASM(l2_rdpru, "xor %ecx, %ecx\n\t.byte 0x0f, 0x01, 0xfd");                 /* 2, 3 */
MHV_L2_ASM(l2_monitorx, "mov %rdi, %rax\n\txor %ecx, %ecx\n\txor %edx, %edx\n\t"
			".byte 0x0f, 0x01, 0xfa");                                 /* 7, 3 */
MHV_L2_ASM(l2_mwaitx, "xor %eax, %eax\n\txor %ecx, %ecx\n\txor %ebx, %ebx\n\t"
		      ".byte 0x0f, 0x01, 0xfb");                                   /* 6, 3 */
MHV_L2_ASM(l2_invlpgb, "xor %eax, %eax\n\txor %ecx, %ecx\n\txor %edx, %edx\n\t"
		       ".byte 0x0f, 0x01, 0xfe");                                  /* 6, 3 */
MHV_L2_ASM(l2_tlbsync, ".byte 0x0f, 0x01, 0xff");                                 /* 0, 3 */

static enum probe_status run_gated(struct probe_run *run, const struct gated *g)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	mhv_exit_asserted(MHV_VENDOR_SVM, (uint32_t)g->exitcode);
	struct cpuid_regs r = cpuid(g->leaf);
	uint32_t value = g->reg == 'b' ? r.ebx : r.ecx;
	if (!(value & g->bit))
		return probe_skip(run, "no %s (CPUID Fn%08X_E%cX = %#x, bit %u clear)", g->name,
				  g->leaf, g->reg == 'b' ? 'B' : 'C', value,
				  (unsigned)__builtin_ctz(g->bit));
	if (g->vector == 4)
		vm->vmcb->intercept_misc2 |= g->intercept;
	else
		vm->vmcb->intercept_misc3 |= g->intercept;
	mhv_l2_call(vm, g->code, mhv_scratch_page(2));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(g->name, &e);
	MHV_CHECK(expect_exit(run, &e, g->exitcode, (uint64_t)g->code + g->offset, g->len));
	mhv_advance_rip(vm, g->len);
	return mhv_run_expect_done(run, vm);
}

/* MONITORX and MWAITX are intercepted by the MONITOR and MWAIT intercepts and exit with
 * their codes (APM vol.3 MONITORX, MWAITX: "#VMEXIT"; vol.2 Table C-1). */
static const struct gated gated_cases[] = {
	{ "RDPRU", CPUID_LEAF_EXT_MAX + 8, 'b', CPUID_80000008_EBX_RDPRU, 4, SVM_INTERCEPT_RDPRU,
	  SVM_EXIT_RDPRU, l2_rdpru, 2, 3 },
	{ "MONITORX", CPUID_LEAF_EXT_FEATURES, 'c', CPUID_80000001_ECX_MONITORX, 4,
	  SVM_INTERCEPT_MONITOR, SVM_EXIT_MONITOR, l2_monitorx, 7, 3 },
	{ "MWAITX", CPUID_LEAF_EXT_FEATURES, 'c', CPUID_80000001_ECX_MONITORX, 4,
	  SVM_INTERCEPT_MWAIT, SVM_EXIT_MWAIT, l2_mwaitx, 6, 3 },
	{ "INVLPGB", CPUID_LEAF_EXT_MAX + 8, 'b', CPUID_80000008_EBX_INVLPGB, 5,
	  SVM_INTERCEPT_INVLPGB, SVM_EXIT_INVLPGB, l2_invlpgb, 6, 3 },
	{ "TLBSYNC", CPUID_LEAF_EXT_MAX + 8, 'b', CPUID_80000008_EBX_INVLPGB, 5,
	  SVM_INTERCEPT_TLBSYNC, SVM_EXIT_TLBSYNC, l2_tlbsync, 0, 3 },
};

#define GATED_PROBE(fn, index, name)                        \
	static enum probe_status fn(struct probe_run *run)  \
	{                                                   \
		return run_gated(run, &gated_cases[index]); \
	}                                                   \
	PROBE(name, fn)

GATED_PROBE(rdpru_probe, 0, "intercept/svm-rdpru");
GATED_PROBE(monitorx_probe, 1, "intercept/svm-monitorx");
GATED_PROBE(mwaitx_probe, 2, "intercept/svm-mwaitx");
GATED_PROBE(invlpgb_probe, 3, "intercept/svm-invlpgb");
GATED_PROBE(tlbsync_probe, 4, "intercept/svm-tlbsync");

/* With V_INTR_MASKING and no CR8-write intercept, L2's MOV to CR8 writes the virtual TPR
 * (VMCB V_TPR, saved at #VMEXIT), not the host's TPR (APM vol.2 15.21.2, 15.21.4). */
MHV_L2_ASM(l2_cr8_write, "mov $7, %eax\n\tmov %rax, %cr8");

static enum probe_status cr8_v_tpr(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CR8_WRITE, false));
	vm->vmcb->vintr = (vm->vmcb->vintr & ~SVM_VINTR_TPR_MASK) | SVM_VINTR_MASKING | 2;
	uint64_t host_tpr;
	__asm__ volatile("mov %%cr8, %0" : "=r"(host_tpr));
	mhv_l2_call(vm, l2_cr8_write, NULL);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	uint64_t after;
	__asm__ volatile("mov %%cr8, %0" : "=r"(after));
	EXPECT_EQ(run, "VMCB V_TPR after L2's MOV CR8, 7", 7, vm->vmcb->vintr & SVM_V_TPR_MASK);
	EXPECT_EQ(run, "host CR8 (TPR) after L2's MOV CR8", host_tpr, after);
	return PROBE_PASS;
}
PROBE("intercept/svm-cr8-v-tpr", cr8_v_tpr);

/* Bus lock threshold (15.14.5): with the BUSLOCK intercept (vector 5 bit 5) and the
 * VMCB's bus lock counter (offset 120h) at 0, an L2 instruction that would lock the bus
 * (a LOCK operation split across cache lines) exits A5h before it executes (fault-like:
 * RIP at the instruction). SKIP without CPUID 8000_000A EDX[29] (neither emulator). */
#define CPUID_8000000A_EDX_BUS_LOCK_THRESHOLD (1u << 29)
#define SVM_INTERCEPT_BUSLOCK (1u << 5)
#define SVM_EXIT_BUSLOCK      0xa5u
#define VMCB_BUS_LOCK_COUNTER 0x120
MHV_L2_ASM(l2_split_lock, "lock incl 0x3e(%rdi)");                  /* 0, 4 */

static enum probe_status buslock(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_BUSLOCK);
	uint32_t edx = cpuid(CPUID_LEAF_SVM).edx;
	if (!(edx & CPUID_8000000A_EDX_BUS_LOCK_THRESHOLD))
		return probe_skip(run, "no bus lock threshold (CPUID Fn8000_000A EDX = %#x, bit 29 "
				  "clear)", edx);
	vm->vmcb->intercept_misc3 |= SVM_INTERCEPT_BUSLOCK;
	*(uint16_t *)((uint8_t *)vm->vmcb + VMCB_BUS_LOCK_COUNTER) = 0;
	mhv_l2_call(vm, l2_split_lock, mhv_scratch_page(2)); /* 3Eh: 4 bytes across 40h */
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("split-lock LOCK INC with bus lock counter 0", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", SVM_EXIT_BUSLOCK, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit (the locked instruction: fault-like)",
		  (uint64_t)l2_split_lock, e.rip);
	EXPECT_EQ(run, "the locked operand (not written)", 0,
		  *(volatile uint32_t *)((uint8_t *)mhv_scratch_page(2) + 0x3e));
	return PROBE_PASS;
}
PROBE("intercept/svm-buslock", buslock);
