/* nestbed's control interface as a guest calls it (src/core/hypercall_abi.h): VMMCALL on
 * AMD, VMCALL on Intel, with RAX = NESTBED_HC_MAGIC | function. */
#ifndef GUEST_NESTBED_HC_H
#define GUEST_NESTBED_HC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hypercall_abi.h"

struct nestbed_hc_regs {
	uint64_t rax, rbx, rcx, rdx;
};

enum nestbed_hc_outcome {
	NESTBED_HC_ANSWERED,     /* a hypervisor answered: regs hold its results */
	NESTBED_HC_UD,           /* the instruction raised #UD: no hypervisor took it */
	NESTBED_HC_NO_ANSWER,    /* it completed without touching RAX (e.g. VMCALL in VMX
				  * root operation: VMfail), so nobody answered */
	NESTBED_HC_OTHER_FAULT,  /* another exception */
};

/* Makes the call with regs as input; regs get the outputs. *fault_vector is set for
 * NESTBED_HC_OTHER_FAULT. */
enum nestbed_hc_outcome nestbed_hypercall(struct nestbed_hc_regs *regs,
					  uint64_t *fault_vector);
/* A one-line reason for a SKIP when the outcome is not NESTBED_HC_ANSWERED. */
const char *nestbed_hc_absent_reason(enum nestbed_hc_outcome outcome);

#endif
