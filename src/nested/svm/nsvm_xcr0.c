/* XCR0 changed by L2 behind L1's XSETBV intercept: the decision (nsvm_xcr0.h). */
#include "nested/svm/nsvm_xcr0.h"

void nsvm_xcr0_arm(struct nsvm_xcr0_watch *w, bool host_xsave, uint32_t intercept_misc2,
		   uint64_t xcr0)
{
	w->armed = host_xsave && (intercept_misc2 & NSVM_INTERCEPT_XSETBV) && !w->reported;
	w->at_vmrun = xcr0;
}

bool nsvm_xcr0_changed_unseen(struct nsvm_xcr0_watch *w, uint64_t xcr0_now)
{
	if (!w->armed || w->reported || xcr0_now == w->at_vmrun)
		return false;
	w->reported = true;
	w->armed = false;
	return true;
}
