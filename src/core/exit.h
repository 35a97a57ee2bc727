/* The neutral VM exit: each backend turns its native exit (SVM EXITCODE/EXITINFO,
 * VMX exit reason/qualification) into one of these, so every handler exists once. */
#ifndef NESTBED_EXIT_H
#define NESTBED_EXIT_H

#include <stdbool.h>
#include <stdint.h>

enum exit_kind {
	EXIT_UNKNOWN = 0,
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_HLT,
	EXIT_TDP_FAULT,    /* NPF / EPT violation */
	EXIT_TDP_MISCONFIG,
	EXIT_EXCEPTION,
	EXIT_INTR,
	EXIT_NMI,
	EXIT_SHUTDOWN,     /* triple fault */
	EXIT_HYPERCALL,    /* VMMCALL / VMCALL */
	EXIT_VM_INSN,      /* VMRUN, VMLOAD, ..., VMLAUNCH, VMREAD, ...: the nested layer's */
	EXIT_INVALID_STATE,/* VMEXIT_INVALID / VM-entry failure */
	EXIT_INIT,
	EXIT_XSETBV,
	EXIT_CR_ACCESS,
	EXIT_OTHER,        /* known to the backend, no neutral handler */
	EXIT_SIPI,         /* VMX: a startup IPI for a vCPU in wait-for-SIPI (info1: vector) */
	EXIT_KIND_COUNT
};

struct exit_io {
	uint16_t port;
	uint8_t size; /* 1, 2, 4 */
	bool in, string, rep;
};

struct exit_tdp {
	uint64_t gpa;
	bool read, write, fetch, present;
};

struct exit_exception {
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
};

struct exit {
	enum exit_kind kind;
	uint64_t native_code;  /* SVM EXITCODE or VMX basic exit reason */
	uint64_t info1, info2; /* EXITINFO1/2, or qualification and guest-physical address */
	/* The trace's interrupt fields, as KVM's kvm_exit event has them: SVM EXITINTINFO
	 * (low half) and its error code (APM 15.7.2); VMX VM-exit interruption information
	 * and its error code (SDM 24.9.2). error_code is 0 unless the info says valid. */
	uint32_t intr_info, error_code;
	uint8_t insn_len;      /* 0 when unknown: the core decodes when it must skip */
	union {
		struct exit_io io;
		uint32_t msr;
		struct exit_tdp tdp;
		struct exit_exception exception;
	} u;
};

const char *exit_kind_name(enum exit_kind kind);

#endif
