/* VMX exit decoding (SDM vol.3 27.2, appendix C) into the neutral struct exit, and the
 * names nestbed prints for exit reasons and VM-instruction errors (30.4). Pure,
 * host-tested: the backend reads the VMCS fields into struct vmx_exit_raw. */
#ifndef NESTBED_VMX_EXIT_H
#define NESTBED_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/vcpu.h"

/* The exit-information fields (24.9) a decode needs. */
struct vmx_exit_raw {
	uint32_t reason;        /* VM_EXIT_REASON, bit 31 = VM-entry failure */
	uint64_t qualification; /* EXIT_QUALIFICATION */
	uint64_t gpa;           /* GUEST_PHYSICAL_ADDRESS (EPT violation / misconfiguration) */
	uint32_t intr_info;     /* VM_EXIT_INTR_INFO (exception or NMI) */
	uint32_t intr_error;    /* VM_EXIT_INTR_ERROR_CODE */
	uint32_t insn_len;      /* VM_EXIT_INSTRUCTION_LEN */
	uint64_t rcx;           /* the guest's RCX: the MSR of RDMSR/WRMSR */
};

/* Which exits the decode needs the optional fields of (the backend reads only those). */
bool vmx_exit_has_insn_len(uint32_t basic_reason);

/* Fills e: kind from one table of designated initialisers, native_code = the full exit
 * reason, info1 = qualification, info2 = guest-physical address (EPT exits) or the
 * exit interruption information (exceptions, NMIs), insn_len when the exit is an
 * instruction's, and the kind's details (I/O, MSR, TDP, exception). */
void vmx_decode_exit(const struct vmx_exit_raw *raw, struct exit *e);

/* Control-register access qualification (27.2.1 table 27-3). */
struct vmx_cr_access {
	unsigned cr;       /* 0, 3, 4 or 8 */
	unsigned type;     /* VMX_CR_QUAL_TYPE_* */
	unsigned gpr;      /* operand register: 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, ... 15 R15 */
	bool lmsw_memory;  /* LMSW with a memory operand */
	uint16_t lmsw_data;
};
void vmx_decode_cr_access(uint64_t qualification, struct vmx_cr_access *out);

/* The guest register numbered as in exit qualifications and instruction information
 * (27.2.1, table 27-3): 4 is RSP, which lives in v->state.rsp. NULL for >15. */
uint64_t *vmx_gpr_slot(struct vcpu_state *st, unsigned index);

const char *vmx_exit_reason_name(uint32_t basic_reason);
/* SDM vol.3 30.4 table 30-1; "unknown VM-instruction error" otherwise. */
const char *vmx_instruction_error_name(uint32_t error);
/* The exit qualification of a VM-entry failure (26.7, 26.8). */
const char *vmx_entry_failure_detail(uint32_t basic_reason, uint64_t qualification);

#endif
