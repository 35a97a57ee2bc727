/* XCR0 while L2 runs. VMRUN and #VMEXIT leave XCR0 as it is (APM vol.2 15.5.1, 15.6), so
 * when L1 intercepts XSETBV (intercept vector 4 bit 13, APM vol.2 15.9 and table B-1) its
 * guest cannot change XCR0 without an exit L1 sees. A CPU that ignores that intercept (QEMU
 * 7.2 TCG: the known failure intercept/xsetbv on qemu-svm) runs L2's XSETBV, and L1's idea
 * of XCR0 is wrong from then on: Xen 4.17 puts its own value back at its next vCPU switch
 * while its guest believes its own (harness/xen.py). nestbed cannot take the instruction
 * back; it says so, once per vCPU, at the first L2 exit that finds XCR0 changed. Pure
 * logic (tests/unit/test_nsvm_xcr0.c); nsvm_entry.c and nsvm_exit.c read XCR0. */
#ifndef NESTBED_NSVM_XCR0_H
#define NESTBED_NSVM_XCR0_H

#include <stdbool.h>
#include <stdint.h>

#define NSVM_INTERCEPT_XSETBV (1u << 13) /* VMCB intercept vector 4 (misc2), APM vol.2 B-1 */

struct nsvm_xcr0_watch {
	uint64_t at_vmrun; /* XCR0 when L1 ran VMRUN */
	bool armed;        /* L1 intercepts XSETBV and the host can read XCR0 */
	bool reported;     /* the one report of this vCPU was printed */
};

/* At VMRUN: watch XCR0 while L2 runs when L1 intercepts XSETBV (intercept_misc2 is
 * VMCB12's vector 4) and the host has CR4.OSXSAVE (XGETBV raises #UD otherwise). */
void nsvm_xcr0_arm(struct nsvm_xcr0_watch *w, bool host_xsave, uint32_t intercept_misc2,
		   uint64_t xcr0);

/* At an exit of L2 with XCR0 now: true the first time it differs from the value at VMRUN
 * under the intercept (the caller reports it); false otherwise and ever after. */
bool nsvm_xcr0_changed_unseen(struct nsvm_xcr0_watch *w, uint64_t xcr0_now);

#endif
