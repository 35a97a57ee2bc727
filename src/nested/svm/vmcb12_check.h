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

/* The CPUID words L1 sees that say which CR4 bits exist. */
struct nsvm_cr4_cpuid {
	uint32_t leaf1_ecx;
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx; /* leaf 7 subleaf 0; 0 where the leaf is absent */
};

/* The CR4 bits a CPU with these CPUID features has (APM vol.2 3.1.3; SDM vol.3A 2.5):
 * bits 0-10 on every CPU that can run SVM, each later bit only with its feature, as
 * the CPU's own MOV to CR4 and VMRUN see them (KVM's __cr4_reserved_bits, QEMU's
 * cr4_reserved_bits). */
uint64_t nsvm_cr4_allowed(const struct nsvm_cr4_cpuid *f);

/* NULL when the VMCB passes, else the rule it breaks (a short sentence). */
const char *nsvm_check_vmcb12(const struct vmcb *vmcb, const struct nsvm_check_limits *lim);

#endif
