/* The mini-hypervisor: a conformance guest becomes an L1 hypervisor for a small L2, on
 * VT-x or AMD-V behind one vendor-neutral interface, so that a probe is written once
 * and runs on both vendors.
 *
 *     static enum probe_status cpuid_probe(struct probe_run *run)
 *     {
 *             struct mhv_vm *vm;
 *             MHV_START(run, vm, MHV_MODE_LONG, 0);            // or SKIP/FAIL with a reason
 *             MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
 *             mhv_l2_call(vm, l2_cpuid, NULL);                 // L2 runs l2_cpuid(NULL)
 *             struct mhv_exit e;
 *             mhv_run(vm, &e);
 *             MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid, 2));
 *             mhv_advance_rip(vm, 2);
 *             MHV_CHECK(mhv_run_expect_done(run, vm));        // l2_cpuid returned
 *             return PROBE_PASS;
 *     }
 *
 * L2 starts as a copy of L1's own 64-bit environment: its page tables, GDT and flat
 * segments, CPL 0, interrupts off; its own stack and its own IDT, whose handlers
 * report every event delivered inside L2 to L1 (MHV_EXIT_L2_EVENT, see mhv_l2_event).
 * When the L2 function returns, L2 makes the "done" hypercall (MHV_EXIT_DONE).
 * Both use the vendor's hypercall instruction (VMMCALL, intercepted by default, or
 * VMCALL), 3 bytes long, with RAX = MHV_HC_DONE / MHV_HC_EVENT.
 *
 * Every exit comes back as one record: a neutral kind with decoded fields, and the
 * vendor's native values, which the expectation helpers compare against the values
 * the manuals prescribe and name (expected vs observed) in the TAP reason. */
#ifndef GUEST_MHV_H
#define GUEST_MHV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/probe.h"

enum mhv_vendor {
	MHV_VENDOR_NONE,
	MHV_VENDOR_VMX,
	MHV_VENDOR_SVM,
};

enum mhv_mode {
	MHV_MODE_LONG,   /* 64-bit, L1's page tables */
	MHV_MODE_PROT32, /* 32-bit protected mode, paging off (needs nested paging) */
	MHV_MODE_REAL,   /* real mode (needs nested paging; VMX: unrestricted guest) */
};

/* Options for MHV_START / mhv_start. */
#define MHV_TDP (1u << 0) /* nested paging: NPT/EPT identity over the first 4 GiB */

/* Neutral exit kinds. The native values stay in the record. */
enum mhv_exit_kind {
	MHV_EXIT_NONE,
	MHV_EXIT_DONE,          /* the L2 function returned (hypercall MHV_HC_DONE) */
	MHV_EXIT_L2_EVENT,      /* L2's IDT handler ran (hypercall MHV_HC_EVENT) */
	MHV_EXIT_CPUID,
	MHV_EXIT_HLT,
	MHV_EXIT_INVLPG,
	MHV_EXIT_RDTSC,
	MHV_EXIT_RDTSCP,
	MHV_EXIT_RDPMC,
	MHV_EXIT_PAUSE,
	MHV_EXIT_WBINVD,
	MHV_EXIT_INVD,
	MHV_EXIT_XSETBV,
	MHV_EXIT_MONITOR,
	MHV_EXIT_MWAIT,
	MHV_EXIT_HYPERCALL,     /* VMMCALL / VMCALL */
	MHV_EXIT_IO,
	MHV_EXIT_MSR_READ,
	MHV_EXIT_MSR_WRITE,
	MHV_EXIT_CR_READ,
	MHV_EXIT_CR_WRITE,
	MHV_EXIT_DR_ACCESS,
	MHV_EXIT_EXCEPTION,
	MHV_EXIT_NMI,
	MHV_EXIT_INTR,
	MHV_EXIT_INTR_WINDOW,
	MHV_EXIT_NMI_WINDOW,
	MHV_EXIT_SHUTDOWN,      /* triple fault */
	MHV_EXIT_TDP_FAULT,     /* NPF / EPT violation */
	MHV_EXIT_TDP_MISCONFIG, /* EPT misconfiguration */
	MHV_EXIT_VM_INSN,       /* an SVM or VMX instruction in L2 */
	MHV_EXIT_DESCRIPTOR,    /* SGDT/SIDT/LGDT/... */
	MHV_EXIT_TASK_SWITCH,
	MHV_EXIT_INVALID_STATE, /* SVM VMEXIT_INVALID, VMX entry failure (reason 33) */
	MHV_EXIT_ENTRY_MSR,     /* VMX entry failure while loading MSRs (34) */
	MHV_EXIT_VMFAIL,        /* VMX: VMLAUNCH/VMRESUME failed (VMfailValid/Invalid) */
	MHV_EXIT_SOFT_INT,      /* SVM INTn intercept */
	MHV_EXIT_IRET,          /* SVM IRET intercept */
	MHV_EXIT_MTF,           /* VMX monitor trap flag (reason 37) */
	MHV_EXIT_PREEMPTION_TIMER, /* VMX-preemption timer expired (reason 52) */
	MHV_EXIT_OTHER,
	MHV_EXIT_KINDS,
};

/* Event types (EVENTINJ / VM-entry interruption information / EXITINTINFO /
 * IDT-vectoring information use the same numbers for these). */
enum mhv_event_type {
	MHV_EVENT_EXTINT = 0,
	MHV_EVENT_NMI = 2,
	MHV_EVENT_HW_EXCEPTION = 3,
	MHV_EVENT_SOFT_INT = 4,
	MHV_EVENT_PRIV_SOFT_EXCEPTION = 5, /* VMX only (ICEBP) */
	MHV_EVENT_SOFT_EXCEPTION = 6,      /* VMX only (INT3, INTO) */
	MHV_EVENT_OTHER = 7,               /* VMX only: vector 0 injects a pending MTF VM
					    * exit (SDM vol.3C 24.8.3) */
};

struct mhv_event {
	bool valid;
	enum mhv_event_type type;
	uint8_t vector;
	bool has_error;
	uint32_t error_code;
};

struct mhv_io {
	uint16_t port;
	uint8_t size;      /* 1, 2, 4 */
	bool in, string, rep;
	bool imm;          /* VMX only: the port was an immediate */
	uint8_t addr_size; /* string I/O: 2, 4, 8; 0 when unknown */
};

struct mhv_exit {
	enum mhv_exit_kind kind;
	enum mhv_vendor vendor;
	uint64_t rip;       /* L2's RIP at the exit */
	uint64_t rsp, rflags;
	uint64_t rax;       /* L2's RAX at the exit */

	/* Decoded, by kind. */
	uint8_t vector;     /* EXCEPTION */
	bool has_error;
	uint32_t error_code;
	uint8_t cr;         /* CR_READ, CR_WRITE */
	struct mhv_io io;   /* IO */
	uint64_t gpa;       /* TDP_FAULT */
	bool tdp_read, tdp_write, tdp_fetch;
	struct mhv_event vectoring; /* the event being delivered when the exit came */

	/* SVM native values. */
	uint64_t exitcode, exitinfo1, exitinfo2, exitintinfo, next_rip;
	/* VMX native values. */
	uint32_t reason, insn_len, insn_info, intr_info, intr_error;
	uint32_t idt_vectoring_info, idt_vectoring_error;
	uint64_t qualification, guest_physical, guest_linear;
	int vmfail;         /* VMX_FAIL_INVALID / VMX_FAIL_VALID when VMLAUNCH/VMRESUME failed */
	uint32_t vm_insn_error;
};

/* L2's general-purpose registers other than RSP, and CR2 (VMX does not switch it). */
struct mhv_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};

struct mhv_vm {
	enum mhv_vendor vendor;
	enum mhv_mode mode;
	unsigned options;
	struct mhv_gprs regs;
	bool launched;      /* VMX: VMRESUME next */
	bool tlb_dirty;     /* nested tables changed: flush before the next entry */
	uint32_t svm_clean; /* SVM: the VMCB clean field for the next VMRUN only (else 0) */
	uint64_t exits;
	/* SVM */
	struct svm_vmcb *vmcb;
	/* VMX */
	uint64_t vmcs_pa;
	uint64_t eptp;
};

/* Hypercall numbers of L2's runtime stubs (RAX). */
#define MHV_HC_DONE  0x4d48562d444f4e45ull /* "MHV-DONE" */
#define MHV_HC_EVENT 0x4d48562d45564e54ull /* "MHV-EVNT" */
#define MHV_HYPERCALL_LEN 3                 /* VMMCALL 0f 01 d9, VMCALL 0f 01 c1 */

/* What L2's IDT handler saw last; filled by the L2 stubs in mhv_switch.asm. */
struct mhv_l2_event {
	uint64_t vector;
	uint64_t error_code; /* 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
	uint64_t cr2;
	uint64_t count;      /* events since the VM was created */
};
extern volatile struct mhv_l2_event mhv_l2_event;
/* RAX when the L2 function returned (its return value): the "done" hypercall itself
 * overwrites L2's RAX. */
extern volatile uint64_t mhv_l2_result;

/* Intercepts that probes switch. */
enum mhv_intercept {
	MHV_INTERCEPT_CPUID,       /* VMX: always */
	MHV_INTERCEPT_HLT,
	MHV_INTERCEPT_INVLPG,
	MHV_INTERCEPT_RDTSC,
	MHV_INTERCEPT_RDTSCP,      /* VMX: the same control as RDTSC */
	MHV_INTERCEPT_RDPMC,
	MHV_INTERCEPT_PAUSE,
	MHV_INTERCEPT_WBINVD,
	MHV_INTERCEPT_INVD,        /* VMX: always */
	MHV_INTERCEPT_XSETBV,      /* VMX: always */
	MHV_INTERCEPT_MONITOR,
	MHV_INTERCEPT_MWAIT,
	MHV_INTERCEPT_HYPERCALL,   /* VMX: always (VMCALL) */
	MHV_INTERCEPT_IO,          /* the I/O bitmap (on by default; off: SVM no I/O exits,
				    * VMX unconditional I/O exiting) */
	MHV_INTERCEPT_MSR,         /* the MSR bitmap (on by default) */
	MHV_INTERCEPT_CR0_READ,    /* SVM only */
	MHV_INTERCEPT_CR0_WRITE,   /* VMX: guest/host mask all ones */
	MHV_INTERCEPT_CR3_READ,
	MHV_INTERCEPT_CR3_WRITE,
	MHV_INTERCEPT_CR4_READ,    /* SVM only */
	MHV_INTERCEPT_CR4_WRITE,   /* VMX: guest/host mask all ones */
	MHV_INTERCEPT_CR8_READ,
	MHV_INTERCEPT_CR8_WRITE,
	MHV_INTERCEPT_DR,          /* MOV DRx, all of them */
	MHV_INTERCEPT_DESCRIPTOR,  /* SGDT, SIDT, LGDT, LIDT, ... */
	MHV_INTERCEPT_INTR,        /* physical interrupts */
	MHV_INTERCEPT_NMI,
	MHV_INTERCEPT_INTR_WINDOW, /* SVM: V_IRQ + VINTR intercept; VMX: interrupt-window */
	MHV_INTERCEPT_SHUTDOWN,    /* VMX: always (triple fault) */
	MHV_INTERCEPT_VM_INSN,     /* SVM: VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA;
				    * VMX: always */
	MHV_INTERCEPT_NMI_WINDOW,  /* VMX: NMI-window exiting (with the NMI exiting and
				    * virtual NMIs it needs); SVM: none */
	MHV_INTERCEPT_MTF,         /* an exit after each L2 instruction: VMX monitor trap
				    * flag; SVM: none */
	MHV_INTERCEPT_COUNT,
};

/* Features probes ask about. */
enum mhv_feature {
	MHV_FEATURE_TDP,         /* NPT / EPT */
	MHV_FEATURE_NEXT_RIP,    /* SVM NRIPS; VMX always (instruction length) */
	MHV_FEATURE_DECODE_ASSISTS, /* SVM only */
	MHV_FEATURE_UNRESTRICTED,/* real and unpaged protected mode L2 */
	MHV_FEATURE_RDTSCP,
	MHV_FEATURE_XSAVE,
	MHV_FEATURE_MONITOR,
	MHV_FEATURE_INSN_INFO,   /* VMX: INS/OUTS instruction information */
	MHV_FEATURE_VGIF,
	MHV_FEATURE_VMCB_CLEAN,  /* SVM VMCB clean bits; VMX none */
};

/* Prepares the CPU (once: EFER.SVME and VM_HSAVE_PA, or CR4.VMXE and VMXON) and a
 * fresh VM with default intercepts: SVM VMRUN, VMMCALL, SHUTDOWN and the I/O and MSR
 * bitmaps (empty); VMX what it cannot turn off, I/O and MSR bitmaps (empty).
 * Returns PROBE_PASS with *out set, PROBE_SKIP when the platform lacks something
 * (the reason in run), PROBE_FAIL when setting up failed where it should have worked. */
enum probe_status mhv_start(struct probe_run *run, struct mhv_vm **out, enum mhv_mode mode,
			    unsigned options);
#define MHV_CHECK(expr)                                   \
	do {                                              \
		enum probe_status status_ = (expr);       \
		if (status_ != PROBE_PASS)                \
			return status_;                   \
	} while (0)
#define MHV_START(run, vm, mode, options) MHV_CHECK(mhv_start((run), &(vm), (mode), (options)))

/* Several CPUs (lib/smp.h). mhv_start and the rest work on any CPU, one VM at a time;
 * the boot CPU is enabled by the first mhv_start, another CPU by mhv_enable_this_cpu
 * with its own region:
 *     boot CPU:  MHV_CHECK(mhv_prepare(run));      vendor chosen, boot CPU's VMCS released
 *     the AP:    static struct mhv_cpu ap_region;  (one per AP)
 *                MHV_CHECK(mhv_enable_this_cpu(run, &ap_region));
 *                MHV_START(run, vm, ...); ...; mhv_disable_this_cpu(vm);
 * An AP leaves VMX operation before it is restarted: INIT is blocked in VMX root
 * operation (SDM vol.3C 24.8). */
struct mhv_cpu {
	uint8_t region[4096] __attribute__((aligned(4096))); /* VMXON region / host-save area */
};
enum probe_status mhv_prepare(struct probe_run *run);
enum probe_status mhv_enable_this_cpu(struct probe_run *run, struct mhv_cpu *cpu);
/* VMCLEAR of vm's VMCS (vm may be NULL), VMXOFF and CR4.VMXE = 0; SVM: EFER.SVME = 0. */
void mhv_disable_this_cpu(struct mhv_vm *vm);

/* The vendor of the running CPU's virtualization (MHV_VENDOR_NONE before mhv_start
 * succeeded once). */
enum mhv_vendor mhv_vendor(void);
const char *mhv_vendor_name(enum mhv_vendor vendor);
bool mhv_has(enum mhv_feature feature);
/* Skips the probe unless the feature is there. */
enum probe_status mhv_require(struct probe_run *run, enum mhv_feature feature);
/* Skips the probe unless the vendor is this one ("... does not apply to <vendor>"). */
enum probe_status mhv_require_vendor(struct probe_run *run, enum mhv_vendor vendor,
				     const char *why);

/* L2's entry: RIP = fn, RDI = arg, a fresh stack whose return address is the "done"
 * stub. */
void mhv_l2_call(struct mhv_vm *vm, void (*fn)(void *), void *arg);
/* The same for a C function with a result (read it from mhv_l2_result). */
void mhv_l2_call_value(struct mhv_vm *vm, uint64_t (*fn)(void *), void *arg);
/* L2's entry for code assembled for its mode (MHV_L2_ASM16/32/64): RIP (in real mode CS
 * base = the code's 4 KiB page, IP = the offset in it), a fresh stack. */
void mhv_l2_enter(struct mhv_vm *vm, void (*code)(void *));
/* L2's TSC reads (RDTSC, RDTSCP) return the TSC plus this (SVM TSC_OFFSET, VMX TSC
 * offsetting). */
void mhv_set_tsc_offset(struct mhv_vm *vm, uint64_t offset);
/* Runs L2 until the next exit. */
void mhv_run(struct mhv_vm *vm, struct mhv_exit *exit);
/* Adds len to L2's RIP (past the instruction that exited). */
void mhv_advance_rip(struct mhv_vm *vm, unsigned len);

/* L2 state, by name. */
enum mhv_reg {
	MHV_REG_RIP, MHV_REG_RSP, MHV_REG_RFLAGS, MHV_REG_CR0, MHV_REG_CR3, MHV_REG_CR4,
	MHV_REG_EFER, MHV_REG_DR7, MHV_REG_CR2,
};
uint64_t mhv_get(struct mhv_vm *vm, enum mhv_reg reg);
void mhv_set(struct mhv_vm *vm, enum mhv_reg reg, uint64_t value);

/* Intercepts: PROBE_PASS, or PROBE_SKIP with the reason when the vendor has no such
 * control (e.g. turning off VMX's unconditional CPUID exits). */
enum probe_status mhv_intercept(struct probe_run *run, struct mhv_vm *vm,
				enum mhv_intercept what, bool on);
void mhv_intercept_exception(struct mhv_vm *vm, unsigned vector, bool on);
/* One port in the I/O bitmap. */
void mhv_intercept_io(struct mhv_vm *vm, uint16_t port, bool on);
/* One MSR in the MSR bitmap; returns false when the MSR is outside the vendor's
 * bitmap (its accesses always exit). */
bool mhv_intercept_msr(struct mhv_vm *vm, uint32_t msr, bool read, bool write);
/* Nested paging: the rights L2 gets to the 4 KiB page at gpa (TDP_R/W/X, 0 = none). */
enum probe_status mhv_tdp_set(struct probe_run *run, struct mhv_vm *vm, uint64_t gpa,
			      unsigned rights);
/* The leaf entry, for odd values; mark the tables changed with mhv_tdp_changed. */
uint64_t *mhv_tdp_entry(struct mhv_vm *vm, uint64_t gpa);
void mhv_tdp_changed(struct mhv_vm *vm);
/* Injects an event at the next entry. insn_len: the instruction length VMX needs for
 * software interrupts and exceptions (ignored on SVM). */
void mhv_inject(struct mhv_vm *vm, enum mhv_event_type type, uint8_t vector, bool has_error,
		uint32_t error_code, unsigned insn_len);

/* A timer that exits after L2 ran for `value` ticks of TSC >> *rate_shift (VMX-preemption
 * timer, SDM vol.3C 25.5.1: the rate is IA32_VMX_MISC[4:0]); with save, each exit stores
 * the remaining count, which mhv_preemption_timer_value reads. on = false turns it off.
 * PROBE_SKIP with the reason where the vendor or the CPU has no such timer. */
enum probe_status mhv_preemption_timer(struct probe_run *run, struct mhv_vm *vm, bool on,
				       uint32_t value, bool save, unsigned *rate_shift);
uint32_t mhv_preemption_timer_value(struct mhv_vm *vm);

/* Names for reasons. */
const char *mhv_exit_kind_name(enum mhv_exit_kind kind);
/* One line with the exit's native values, for diagnostics and reasons. */
void mhv_describe_exit(const struct mhv_exit *e, char *buf, unsigned size);
void mhv_diag_exit(const char *what, const struct mhv_exit *e);

/* Expectations: PROBE_PASS, or PROBE_FAIL with expected and observed native values.
 *
 * mhv_expect_kind: the exit is this kind (SVM EXITCODE, VMX exit reason).
 * mhv_expect_insn: ... caused by the instruction at rip, len bytes long (SVM next_rip
 *   with NRIPS; VMX VM-exit instruction length). rip 0 or len 0: not checked. */
enum probe_status mhv_expect_kind(struct probe_run *run, const struct mhv_exit *e,
				  enum mhv_exit_kind kind);
enum probe_status mhv_expect_insn(struct probe_run *run, const struct mhv_exit *e,
				  enum mhv_exit_kind kind, uint64_t rip, unsigned len);
/* An intercepted exception (SVM 0x40+vector with EXITINFO1 = error code; VMX reason 0
 * with the interruption information and error code). */
enum probe_status mhv_expect_exception(struct probe_run *run, const struct mhv_exit *e,
				       unsigned vector, bool has_error, uint32_t error_code,
				       uint64_t rip);
/* The running probe asserts this exit (SVM EXITCODE, VMX basic exit reason): listed in
 * its YAML block for the exit coverage table (lib/tap.h tap_exit_asserted). The
 * expectations above call it; a probe that compares exit codes itself calls it too. */
void mhv_exit_asserted(enum mhv_vendor vendor, uint32_t code);
/* EXPECT_EQ (lib/probe.h) of an exit code, naming the exit as asserted. */
#define EXPECT_EXIT(run, vendor, what, expected, observed)                  \
	do {                                                                \
		mhv_exit_asserted((vendor), (uint32_t)(expected));          \
		EXPECT_EQ((run), (what), (expected), (observed));           \
	} while (0)
/* The exit is MHV_EXIT_DONE. */
enum probe_status mhv_expect_done(struct probe_run *run, const struct mhv_exit *e);
/* Runs L2 and expects MHV_EXIT_DONE. */
enum probe_status mhv_run_expect_done(struct probe_run *run, struct mhv_vm *vm);
/* No event was being delivered (EXITINTINFO / IDT-vectoring information invalid). */
enum probe_status mhv_expect_no_vectoring(struct probe_run *run, const struct mhv_exit *e);

/* For L2 code written as an asm snippet: defines `void name(void *)` whose body is
 * the given instructions (AT&T syntax) followed by RET. The first instruction is at
 * `name`; the symbol is local to the file (not .globl), so names may repeat across
 * probes. */
#define MHV_L2_ASM(name, body)                                                 \
	void name(void *);                                                     \
	__asm__(".pushsection .text\n\t.balign 16\n\t.type " #name \
		", @function\n" #name ":\n\t" body "\n\tret\n\t.size " #name ", . - " #name \
		"\n\t.popsection")

/* The same for 16-bit and 32-bit code (real mode and 32-bit protected mode L2s, entered
 * with mhv_l2_enter; they have no "done" stub: end them with an intercepted HLT). */
#define MHV_L2_ASM16(name, body)                                               \
	void name(void *);                                                     \
	__asm__(".pushsection .text\n\t.balign 16\n" #name ":\n\t.code16\n\t" body    \
		"\n\t.code64\n\t.popsection")
#define MHV_L2_ASM32(name, body)                                               \
	void name(void *);                                                     \
	__asm__(".pushsection .text\n\t.balign 16\n" #name ":\n\t.code32\n\t" body    \
		"\n\t.code64\n\t.popsection")

/* A 4 KiB page of the probe's own, zeroed at mhv_start; n < MHV_SCRATCH_PAGES. */
#define MHV_SCRATCH_PAGES 4
void *mhv_scratch_page(unsigned n);

#endif
