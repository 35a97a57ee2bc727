/* isolation/svm-l1-vm-insn-l0-memory: L1 aims its own VMSAVE, VMLOAD and VMRUN at
 * nestbed's memory. rAX is a physical address for them (APM vol.2 15.5.1, 15.5.2); under
 * nestbed that is L1's guest-physical space, where nestbed's range is reserved and holds
 * none of L1's memory. nestbed emulates the three in place on L1's memory (VMLOAD and
 * VMSAVE through vcpu_phys_ptr), so each must raise #GP(0) at the instruction, write
 * nothing there (the canary is unchanged) and load nothing from there. SKIP bare ("not
 * running under nestbed") and on VMX. */
#include "probes/isolation/l0_doors.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/cpu.h"
#include "lib/msr.h"
#include "lib/svm.h"

#define MSR_LSTAR 0xc0000082u

static void vmsave_at(void *pa) { svm_vmsave((uint64_t)pa); }
static void vmload_at(void *pa) { svm_vmload((uint64_t)pa); }
static void vmrun_at(void *pa) { __asm__ volatile("vmrun %%rax" ::"a"(pa) : "memory"); }

static enum probe_status expect_gp(struct probe_run *run, void (*fn)(void *), uint64_t pa,
				   const char *what)
{
	struct exc_record r;
	if (!exc_try(&r, fn, (void *)pa))
		return probe_fail(run, "%s at %#llx: no exception (expected #GP(0))", what,
				  (unsigned long long)pa);
	if (r.vector != EXC_GP || r.error_code != 0)
		return probe_fail(run, "%s at %#llx: expected #GP(0), observed %s(%#llx) at %#llx",
				  what, (unsigned long long)pa, exception_mnemonic(r.vector),
				  (unsigned long long)r.error_code, (unsigned long long)r.rip);
	return PROBE_PASS;
}

static enum probe_status l1_vm_insn_l0_memory(struct probe_run *run)
{
	struct l0_canary before = { 0, 0, 0 };
	MHV_CHECK(l0_canary_get(run, &before));
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0); /* EFER.SVME, and the vendor */
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMSAVE, VMLOAD and VMRUN are SVM's"));
	uint64_t pa = 0;
	MHV_CHECK(l0_first_page(run, &pa, "L1's VMSAVE/VMLOAD/VMRUN"));
	uint64_t lstar = rdmsr(MSR_LSTAR);
	MHV_CHECK(expect_gp(run, vmsave_at, pa, "L1's VMSAVE into nestbed's memory"));
	MHV_CHECK(expect_gp(run, vmload_at, pa, "L1's VMLOAD from nestbed's memory"));
	EXPECT_EQ(run, "LSTAR after the VMLOAD that faulted (nothing loaded)", lstar,
		  rdmsr(MSR_LSTAR));
	MHV_CHECK(expect_gp(run, vmrun_at, pa, "L1's VMRUN of a VMCB in nestbed's memory"));
	return l0_canary_same(run, &before, "after L1's VMSAVE, VMLOAD and VMRUN at its memory");
}
PROBE("isolation/svm-l1-vm-insn-l0-memory", l1_vm_insn_l0_memory);
