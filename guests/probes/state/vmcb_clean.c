/* state/vmcb-clean-*: VMCB clean bits (APM vol.2 15.15.3, table 15-9). On a VMRUN of the
 * VMCB the CPU ran last, a group whose clean bit is set may come from the CPU's cached
 * copy; a group whose bit is clear is read from the VMCB. SVM only, where CPUID
 * 8000_000Ah EDX[5] offers them (nestbed offers them to L1 whatever the CPU has).
 *
 * - dirty-intercept, dirty-tsc-offset, dirty-cr2: a change made with its clean bit clear
 *   takes effect (an RDTSC intercept added, a TSC offset, CR2 set between two VMRUNs);
 * - clean-tsc-offset: the same change with the bit set: L2 sees the old offset or the
 *   new one, both are what the APM allows;
 * - isolation/vmcb-clean-iopm-over-l0: the attacker's view. L1 moves the I/O permission
 *   map onto nestbed's memory and sets the IOPM clean bit: nestbed may keep the old map
 *   (as a CPU would), never a value it did not check; with the bit clear again the entry
 *   is refused or every access exits (isolation/map-over-l0), and nestbed's canary is
 *   unchanged. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "probes/isolation/l0_doors.h"

#define OFFSET (1ull << 40)
#define CLEAN_ALL 0x7ffu          /* groups 0-10: intercepts ... LBR (table 15-9) */
#define CLEAN_I (1u << 0)         /* intercepts, TSC offset, pause filter */
#define CLEAN_IOPM (1u << 1)      /* IOPM_BASE_PA, MSRPM_BASE_PA */
#define CLEAN_CR2 (1u << 9)       /* CR2 */
#define CR2_VALUE 0x5a5a5000ull
#define PORT 0xe0                 /* unused port, as in io/ */

MHV_L2_ASM(l2_cpuid_rdtsc, "cpuid\n\trdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax");
MHV_L2_ASM(l2_cpuid_cr2, "cpuid\n\tmov %cr2, %rax");
MHV_L2_ASM(l2_cpuid_in_twice, "cpuid\n\tin $0xe0, %al\n\tcpuid\n\tin $0xe0, %al");

static uint64_t read_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static enum probe_status start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_CHECK(mhv_start(run, vm, MHV_MODE_LONG, 0));
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMCB clean bits are SVM's"));
	MHV_CHECK(mhv_require(run, MHV_FEATURE_VMCB_CLEAN));
	return mhv_intercept(run, *vm, MHV_INTERCEPT_CPUID, true);
}

/* L2 stopped at its first CPUID, L1 resumes it past it */
static enum probe_status first_cpuid(struct probe_run *run, struct mhv_vm *vm, void (*code)(void *))
{
	struct mhv_exit e;
	mhv_l2_call(vm, code, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("the first VMRUN", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)code, 2));
	mhv_advance_rip(vm, 2);
	return PROBE_PASS;
}

static enum probe_status dirty_intercept(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(first_cpuid(run, vm, l2_cpuid_rdtsc));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_RDTSC, true));
	vm->svm_clean = CLEAN_ALL & ~CLEAN_I;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("the VMRUN with the RDTSC intercept added, its clean bit clear", &e);
	return mhv_expect_insn(run, &e, MHV_EXIT_RDTSC, (uint64_t)l2_cpuid_rdtsc + 2, 2);
}
PROBE("state/vmcb-clean-dirty-intercept", dirty_intercept);

static enum probe_status dirty_cr2(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(first_cpuid(run, vm, l2_cpuid_cr2));
	vm->vmcb->cr2 = CR2_VALUE;
	vm->svm_clean = CLEAN_ALL & ~CLEAN_CR2;
	struct mhv_exit e;
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_done(run, &e));
	EXPECT_EQ(run, "L2's CR2 after a VMRUN with CR2 changed and its clean bit clear", CR2_VALUE,
		  mhv_l2_result);
	return PROBE_PASS;
}
PROBE("state/vmcb-clean-dirty-cr2", dirty_cr2);

/* L2's TSC after a VMRUN with TSC_OFFSET set to OFFSET and the clean field `clean`:
 * *with when it is L1's TSC + OFFSET, else L1's (the old offset, 0). */
static enum probe_status tsc_after(struct probe_run *run, uint32_t clean, bool *with)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(first_cpuid(run, vm, l2_cpuid_rdtsc));
	mhv_set_tsc_offset(vm, OFFSET);
	vm->svm_clean = clean;
	struct mhv_exit e;
	uint64_t before = read_tsc();
	mhv_run(vm, &e);
	uint64_t after = read_tsc();
	MHV_CHECK(mhv_expect_done(run, &e));
	uint64_t l2 = mhv_l2_result;
	diag("L1 TSC %#llx .. %#llx, L2 read %#llx (new offset %#llx, clean field %#x)",
	     (unsigned long long)before, (unsigned long long)after, (unsigned long long)l2,
	     (unsigned long long)OFFSET, clean);
	if (l2 >= before + OFFSET && l2 <= after + OFFSET) {
		*with = true;
		return PROBE_PASS;
	}
	if (l2 >= before && l2 <= after) {
		*with = false;
		return PROBE_PASS;
	}
	return probe_fail(run, "L2's TSC: expected in [%#llx, %#llx] (the new offset) or [%#llx, "
			  "%#llx] (the old one), observed %#llx", (unsigned long long)(before + OFFSET),
			  (unsigned long long)(after + OFFSET), (unsigned long long)before,
			  (unsigned long long)after, (unsigned long long)l2);
}

static enum probe_status dirty_tsc_offset(struct probe_run *run)
{
	bool with;
	MHV_CHECK(tsc_after(run, CLEAN_ALL & ~CLEAN_I, &with));
	if (!with)
		return probe_fail(run, "TSC_OFFSET changed with the intercepts clean bit clear: L2 "
				  "read its TSC without the new offset %#llx", (unsigned long long)OFFSET);
	return PROBE_PASS;
}
PROBE("state/vmcb-clean-dirty-tsc-offset", dirty_tsc_offset);

static enum probe_status clean_tsc_offset(struct probe_run *run)
{
	bool with;
	MHV_CHECK(tsc_after(run, CLEAN_ALL, &with));
	diag("with the clean bit set, L2 saw the %s offset", with ? "new" : "old (cached)");
	return PROBE_PASS;
}
PROBE("state/vmcb-clean-tsc-offset-either", clean_tsc_offset);

static enum probe_status iopm_over_l0(struct probe_run *run)
{
	struct l0_canary before = { 0 };
	MHV_CHECK(l0_canary_get(run, &before)); /* SKIP when not running under nestbed */
	uint64_t base, length;
	if (!l0_reserved_range(&base, &length))
		return probe_fail(run, "nestbed's memory is not in the memory map");
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(first_cpuid(run, vm, l2_cpuid_in_twice));
	uint64_t saved = vm->vmcb->iopm_base_pa;
	vm->vmcb->iopm_base_pa = base - 2 * 4096; /* 12 KiB: the third page is nestbed's */
	vm->svm_clean = CLEAN_ALL;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("the VMRUN with the IOPM over nestbed, its clean bit set", &e);
	enum probe_status st = PROBE_PASS;
	uint64_t second_cpuid = (uint64_t)l2_cpuid_in_twice + 4;
	if (e.kind == MHV_EXIT_CPUID && e.rip == second_cpuid) {
		/* the old (checked) map kept: IN ran. Now the same VMCB with the bit clear. */
		mhv_advance_rip(vm, 2);
		mhv_run(vm, &e);
		mhv_diag_exit("the VMRUN with the IOPM over nestbed, its clean bit clear", &e);
		if (e.kind != MHV_EXIT_INVALID_STATE && e.kind != MHV_EXIT_IO)
			st = probe_fail(run, "with the IOPM clean bit clear, the entry with a permission "
					"map at nestbed's %#llx ran L2 (%s)", (unsigned long long)base,
					mhv_exit_kind_name(e.kind));
	} else if (e.kind != MHV_EXIT_INVALID_STATE && e.kind != MHV_EXIT_IO) {
		st = probe_fail(run, "with the IOPM clean bit set: expected the old map (CPUID at "
				"%#llx), a refused entry or an I/O exit, observed %s",
				(unsigned long long)second_cpuid, mhv_exit_kind_name(e.kind));
	}
	vm->vmcb->iopm_base_pa = saved;
	if (st != PROBE_PASS)
		return st;
	return l0_canary_same(run, &before, "entries with a permission map over nestbed's memory");
}
PROBE("isolation/vmcb-clean-iopm-over-l0", iopm_over_l0);
