#include "lib/nestbed_hc.h"

#include "lib/cpuid.h"
#include "lib/exception.h"

struct call {
	struct nestbed_hc_regs *regs;
	bool intel;
};

static void do_call(void *arg)
{
	struct call *c = arg;
	struct nestbed_hc_regs *r = c->regs;
	if (c->intel)
		__asm__ volatile("vmcall"
				 : "+a"(r->rax), "+b"(r->rbx), "+c"(r->rcx), "+d"(r->rdx)::"memory",
				   "cc");
	else
		__asm__ volatile("vmmcall"
				 : "+a"(r->rax), "+b"(r->rbx), "+c"(r->rcx), "+d"(r->rdx)::"memory",
				   "cc");
}

enum nestbed_hc_outcome nestbed_hypercall(struct nestbed_hc_regs *regs, uint64_t *fault_vector)
{
	struct call c = { regs, cpu_vendor() == CPU_VENDOR_INTEL };
	uint64_t rax = regs->rax;
	struct exc_record fault;
	if (exc_try(&fault, do_call, &c)) {
		*fault_vector = fault.vector;
		return fault.vector == EXC_UD ? NESTBED_HC_UD : NESTBED_HC_OTHER_FAULT;
	}
	return regs->rax == rax ? NESTBED_HC_NO_ANSWER : NESTBED_HC_ANSWERED;
}

const char *nestbed_hc_absent_reason(enum nestbed_hc_outcome outcome)
{
	switch (outcome) {
	case NESTBED_HC_UD:
		return "not running under nestbed (the hypercall raised #UD)";
	case NESTBED_HC_NO_ANSWER:
		return "not running under nestbed (the hypercall completed with RAX unchanged)";
	case NESTBED_HC_OTHER_FAULT:
		return "the hypercall raised an exception other than #UD";
	case NESTBED_HC_ANSWERED:
	default:
		return "";
	}
}
