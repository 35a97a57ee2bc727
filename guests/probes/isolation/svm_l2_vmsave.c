/* isolation/svm-l2-vmsave-l0-memory: an L2 whose L1 does not intercept VMSAVE and VMLOAD
 * aims them at nestbed's memory (rAX is an L1-physical address for them, APM vol.2
 * 15.5.2): nestbed reads and writes only L1's memory for them, so each raises #GP(0),
 * here as the exception exit 4Dh its L1 intercepts, and nestbed's canary is unchanged.
 * SKIP bare ("not running under nestbed") and on VMX. */
#include "probes/isolation/l0_doors.h"
#include "lib/exception.h"
#include "lib/mhv.h"

MHV_L2_ASM(l2_vmsave_at, "mov %rdi, %rax\n\tvmsave %rax");  /* VMSAVE at 3 */
MHV_L2_ASM(l2_vmload_at, "mov %rdi, %rax\n\tvmload %rax");  /* VMLOAD at 3 */

static enum probe_status one(struct probe_run *run, void (*code)(void *), uint64_t pa,
			     const char *what)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMSAVE and VMLOAD are SVM's"));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_VM_INSN, false));
	mhv_intercept_exception(vm, EXC_GP, true);
	mhv_l2_call(vm, code, (void *)pa);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(what, &e);
	return mhv_expect_exception(run, &e, EXC_GP, true, 0, (uint64_t)code + 3);
}

static enum probe_status vmsave_l0_memory(struct probe_run *run)
{
	struct l0_canary before = { 0, 0, 0 };
	MHV_CHECK(l0_canary_get(run, &before));
	uint64_t pa = 0;
	MHV_CHECK(l0_first_page(run, &pa, "VMSAVE/VMLOAD"));
	MHV_CHECK(one(run, l2_vmsave_at, pa, "L2's VMSAVE into nestbed's memory"));
	MHV_CHECK(one(run, l2_vmload_at, pa, "L2's VMLOAD from nestbed's memory"));
	return l0_canary_same(run, &before, "after L2's VMSAVE and VMLOAD at its memory");
}
PROBE("isolation/svm-l2-vmsave-l0-memory", vmsave_l0_memory);
