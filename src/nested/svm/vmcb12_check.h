/* The checks VMRUN makes on the VMCB it is given (APM vol.2 15.5.1, "Canonicalization
 * and Consistency Checks"): a failure is VMEXIT_INVALID for L1, and nestbed names the
 * rule. Pure, host-tested. */
#ifndef NESTBED_NSVM_VMCB12_CHECK_H
#define NESTBED_NSVM_VMCB12_CHECK_H

#include <stdint.h>

#include "svm/vmcb.h"

struct nsvm_check_limits {
	uint64_t phys_addr_mask; /* bits above MAXPHYADDR set: addresses there are illegal */
	uint64_t efer_allowed;   /* EFER bits the virtual CPU has */
	uint64_t cr4_allowed;    /* CR4 bits the virtual CPU has */
};

/* NULL when the VMCB passes, else the rule it breaks (a short sentence). */
const char *nsvm_check_vmcb12(const struct vmcb *vmcb, const struct nsvm_check_limits *lim);

#endif
