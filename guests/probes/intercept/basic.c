/* intercept/cpuid, intercept/hlt: the two simplest instruction intercepts, with the
 * exit code, L2's RIP at the exit and the instruction length. */
#include "lib/mhv.h"

MHV_L2_ASM(l2_cpuid, "xor %eax, %eax\n\tcpuid");
MHV_L2_ASM(l2_hlt, "hlt");

static enum probe_status cpuid_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	mhv_l2_call(vm, l2_cpuid, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CPUID", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid + 2, 2));
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/cpuid", cpuid_probe);

static enum probe_status hlt_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_l2_call(vm, l2_hlt, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("HLT", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_HLT, (uint64_t)l2_hlt, 1));
	mhv_advance_rip(vm, 1);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/hlt", hlt_probe);
