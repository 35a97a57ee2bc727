/* Exceptions: every vector goes to one dispatcher. An exception that a probe expects
 * (raised inside exc_try) is recorded and the probe goes on; any other one ends the run
 * with the registers, a TAP "Bail out!" and exit code 2. */
#ifndef GUEST_EXCEPTION_H
#define GUEST_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

/* Vectors, SDM vol.3A 6.3.1 Table 6-1; APM vol.2 8.2. */
enum exception_vector {
	EXC_DE = 0,  EXC_DB = 1,  EXC_NMI = 2, EXC_BP = 3,  EXC_OF = 4,  EXC_BR = 5,
	EXC_UD = 6,  EXC_NM = 7,  EXC_DF = 8,  EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
	EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
	EXC_VE = 20, EXC_CP = 21, EXC_HV = 28, EXC_VC = 29, EXC_SX = 30,
	EXCEPTION_VECTORS = 32,
};

/* #PF error code, SDM vol.3A 4.7 Figure 4-12. */
#define PF_ERROR_PRESENT (1u << 0) /* 0: the page was not present */
#define PF_ERROR_WRITE   (1u << 1)
#define PF_ERROR_USER    (1u << 2)
#define PF_ERROR_RSVD    (1u << 3)
#define PF_ERROR_FETCH   (1u << 4)

/* What the stubs in exception_stubs.asm push, lowest address first. */
struct exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code; /* 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
_Static_assert(sizeof(struct exception_frame) == 22 * 8, "matches exception_stubs.asm");

/* An exception caught by exc_try. */
struct exc_record {
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;    /* the faulting instruction (for faults), as the CPU pushed it */
	uint64_t cr2;    /* read at the exception; meaningful for #PF */
	uint64_t rsp;
	uint64_t rflags;
};

/* Runs fn(arg). Returns false if fn returned normally. Returns true if fn raised an
 * exception (vectors 0-31): *record describes it and execution continues after this
 * call, with fn abandoned (its callee-saved registers are restored by exc_try).
 * Calls nest; an exception outside any exc_try is fatal. */
bool exc_try(struct exc_record *record, void (*fn)(void *), void *arg);

/* Interrupts a probe expects (vectors 32-255, and NMI): while a hook is set, they go to
 * it instead of ending the run; the handler returns with IRETQ. NULL to remove. */
typedef void (*interrupt_hook)(uint64_t vector);
void exception_set_interrupt_hook(interrupt_hook hook);
/* The same with the frame the handler returns through: the hook may read where the
 * interrupt came (frame->rip) and change where it returns. Set one hook kind at a time. */
typedef void (*interrupt_frame_hook)(struct exception_frame *frame);
void exception_set_interrupt_frame_hook(interrupt_frame_hook hook);

/* "#PF", "#UD", ...; "#??" for vectors without a name. */
const char *exception_mnemonic(uint64_t vector);

/* Called by the stubs; not for probes. */
void exception_dispatch(struct exception_frame *frame);

#endif
