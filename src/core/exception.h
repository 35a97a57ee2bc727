/* nestbed's own IDT: any exception in nestbed is printed with its registers and a
 * backtrace, then the machine stops through the exit port (never a silent triple
 * fault). Self-tests can expect one exception and resume at a given address. */
#ifndef NESTBED_EXCEPTION_H
#define NESTBED_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

/* The layout idt_stubs.asm pushes. */
struct exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct exception_record {
	uint64_t vector, error_code, rip, cr2;
};

/* One CPU's expectation (struct pcpu): the exception it will resume from, or the
 * external interrupt it takes for a guest. */
struct exception_expectation {
	bool armed;
	bool hit;
	uint64_t vector;
	uint64_t resume_rip;
	struct exception_record record;
	bool catch_interrupt;   /* exception_catch_interrupt is waiting for one */
	uint8_t caught_vector;
	bool caught;
};

void idt_init(void);
void idt_load(void);
/* Loads nestbed's IDT and returns the previous IDTR in *saved (10 bytes). */
void idt_swap_in(uint8_t saved[10]);
void idt_restore(const uint8_t saved[10]);

/* The next exception with this vector is recorded and execution resumes at resume_rip. */
void exception_expect(uint64_t vector, uint64_t resume_rip);
/* Clears the expectation; returns true and the record if the exception happened. */
bool exception_take(struct exception_record *out);

/* Opens this CPU to external interrupts for one instruction (nestbed runs with them
 * off): true and the vector of the interrupt it took, which stays in service in the
 * local APIC (nestbed does not EOI it: it is a guest's, handed over as the VMX
 * "acknowledge interrupt on exit" would, SDM vol.3C 27.2.2). At most one. */
bool exception_catch_interrupt(uint8_t *vector);

/* An address at which a single-step #DB is the emulator's, not nestbed's: Bochs
 * delivers the #DB of a single-stepping guest to the host after the VM exit, at the
 * instruction after VMRUN. A CPU never raises one there (nestbed never sets TF or
 * debug registers for itself), so the handler clears DR6 and resumes. */
void exception_tolerate_single_step_at(uint64_t rip);
/* The HLT at rip is where a CPU sleeps until an NMI (vmm_ops.idle): an NMI taken there or
 * just before it (after the instruction that lets NMIs in) ends the sleep and counts as
 * one of the kicks sent to the CPU (pcpu.kicks_seen); one taken before the HLT resumes
 * after it, so it is never lost. */
void exception_wake_site(uint64_t hlt_rip);

const char *exception_name(uint64_t vector);

/* Prints the general-purpose registers of a frame, one parseable line each group. */
void exception_print_frame(const struct exception_frame *f);
/* Prints return addresses found by following the frame-pointer chain from rbp. */
void print_backtrace(uint64_t rbp);

#endif
