/* Permission maps are read when they are used (issue 12 item 3): the CPU consults the I/O
 * permission map / I/O bitmaps at each IN/OUT and the MSR permission map / MSR bitmap at
 * each RDMSR/WRMSR (APM vol.2 15.10.1, 15.11; SDM vol.3C 25.1.3, 25.6.4, 25.6.9), so a
 * change L1 makes while its L2 runs takes effect at L2's next access. Here L2 itself makes
 * the change (L2 runs on L1's page tables and memory, so it reaches L1's maps): it accesses
 * a port or MSR, flips its bit in L1's map, and accesses it again. A hypervisor that
 * copies the maps once per VMRUN (or caches a merge without noticing the write) gets the
 * second access wrong. Each probe runs once on L1's physical memory and once through L1's
 * nested page tables (identity), where the platform has them.
 *
 * isolation/map-over-l0: the attacker's view. L1 names a permission map that runs into
 * nestbed's memory: nestbed never reads, merges or write-protects its own pages for L1,
 * and its canary is unchanged. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"
#include "probes/isolation/l0_doors.h"

#define PORT 0xe0            /* unused port, as in io/ */
#define MSR_SYSENTER_CS 0x174u

MHV_L2_ASM(l2_in_first, "in $0xe0, %al");
MHV_L2_ASM(l2_in_second, "in $0xe0, %al");
MHV_L2_ASM(l2_rdmsr_first, "mov $0x174, %ecx\n\trdmsr");  /* RDMSR at +5 */
MHV_L2_ASM(l2_rdmsr_second, "mov $0x174, %ecx\n\trdmsr");

static struct mhv_vm *change_vm; /* the VM whose maps L2 changes */

/* L2: the access, then the bit flipped in L1's map, then the access again. */
static void l2_io_set(void *arg)
{
	(void)arg;
	l2_in_first(0);
	mhv_intercept_io(change_vm, PORT, true);
	l2_in_second(0);
}

static void l2_io_clear(void *arg)
{
	(void)arg;
	l2_in_first(0);
	mhv_intercept_io(change_vm, PORT, false);
	l2_in_second(0);
}

static void l2_msr_set(void *arg)
{
	(void)arg;
	l2_rdmsr_first(0);
	mhv_intercept_msr(change_vm, MSR_SYSENTER_CS, true, false);
	l2_rdmsr_second(0);
}

static void l2_msr_clear(void *arg)
{
	(void)arg;
	l2_rdmsr_first(0);
	mhv_intercept_msr(change_vm, MSR_SYSENTER_CS, false, false);
	l2_rdmsr_second(0);
}

/* L2 sets the bit: only the second access exits (to L1), then L2 finishes. */
static enum probe_status set_while_running_in(struct probe_run *run, bool msr, unsigned options)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, options);
	change_vm = vm;
	if (msr)
		mhv_intercept_msr(vm, MSR_SYSENTER_CS, false, false);
	else
		mhv_intercept_io(vm, PORT, false);
	mhv_l2_call(vm, msr ? l2_msr_set : l2_io_set, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("after L2 set the bit", &e);
	uint64_t second = msr ? (uint64_t)l2_rdmsr_second + 5 : (uint64_t)l2_in_second;
	MHV_CHECK(mhv_expect_insn(run, &e, msr ? MHV_EXIT_MSR_READ : MHV_EXIT_IO, second, 2));
	if (!msr)
		EXPECT_EQ(run, "decoded port", PORT, e.io.port);
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}

/* L2 clears the bit: the first access exits, the second does not. */
static enum probe_status clear_while_running_in(struct probe_run *run, bool msr, unsigned options)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, options);
	change_vm = vm;
	if (msr)
		mhv_intercept_msr(vm, MSR_SYSENTER_CS, true, false);
	else
		mhv_intercept_io(vm, PORT, true);
	mhv_l2_call(vm, msr ? l2_msr_clear : l2_io_clear, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("the first access", &e);
	uint64_t first = msr ? (uint64_t)l2_rdmsr_first + 5 : (uint64_t)l2_in_first;
	MHV_CHECK(mhv_expect_insn(run, &e, msr ? MHV_EXIT_MSR_READ : MHV_EXIT_IO, first, 2));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm); /* the second access after L2 cleared the bit */
}

/* Each case twice: L2 on L1's physical memory, then, where the platform has nested
 * paging, through L1's NPT/EPT (an identity map: L2 writes L1's map through it). */
static enum probe_status both_ways(struct probe_run *run, bool msr, bool set)
{
	enum probe_status st = set ? set_while_running_in(run, msr, 0) : clear_while_running_in(run, msr, 0);
	if (st != PROBE_PASS || !mhv_has(MHV_FEATURE_TDP))
		return st;
	return set ? set_while_running_in(run, msr, MHV_TDP) : clear_while_running_in(run, msr, MHV_TDP);
}

static enum probe_status iopm_change(struct probe_run *run) { return both_ways(run, false, true); }
static enum probe_status iopm_clear(struct probe_run *run) { return both_ways(run, false, false); }
static enum probe_status msrpm_change(struct probe_run *run) { return both_ways(run, true, true); }
static enum probe_status msrpm_clear(struct probe_run *run) { return both_ways(run, true, false); }
PROBE("io/iopm-change-while-running", iopm_change);
PROBE("io/iopm-clear-while-running", iopm_clear);
PROBE("msr/msrpm-change-while-running", msrpm_change);
PROBE("msr/msrpm-clear-while-running", msrpm_clear);

/* L1 names an I/O permission map (SVM) whose last page, or an I/O bitmap A (VMX) whose
 * page, is nestbed's: the entry fails, or L2's first IN exits (nestbed reads none of its
 * own memory as L1's map), and nestbed's memory is as it was. */
static enum probe_status map_over_l0(struct probe_run *run)
{
	struct l0_canary before = { 0 };
	MHV_CHECK(l0_canary_get(run, &before)); /* SKIP when not running under nestbed */
	uint64_t base, length;
	if (!l0_reserved_range(&base, &length))
		return probe_fail(run, "nestbed's memory is not in the memory map");
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call(vm, l2_in_first, NULL);
	struct mhv_exit e;
	if (vm->vendor == MHV_VENDOR_SVM) {
		uint64_t saved = vm->vmcb->iopm_base_pa;
		vm->vmcb->iopm_base_pa = base - 2 * 4096; /* 12 KiB: the third page is nestbed's */
		mhv_run(vm, &e);
		vm->vmcb->iopm_base_pa = saved;
	} else {
		uint64_t saved = vmread(VMCS_IO_BITMAP_A); /* port E0h is in A */
		vmwrite(VMCS_IO_BITMAP_A, base);
		mhv_run(vm, &e);
		vmwrite(VMCS_IO_BITMAP_A, saved);
	}
	mhv_diag_exit("entry with a permission map over nestbed", &e);
	/* refused, or every access exits (what nestbed cannot read is L1's "intercept"); L2
	 * running past its IN means nestbed merged its own memory as L1's map */
	if (e.kind != MHV_EXIT_INVALID_STATE && e.kind != MHV_EXIT_VMFAIL && e.kind != MHV_EXIT_IO)
		return probe_fail(run, "the entry with a permission map at nestbed's %#llx ran L2 (%s)",
				  (unsigned long long)base, mhv_exit_kind_name(e.kind));
	return l0_canary_same(run, &before, "an entry with a permission map over nestbed's memory");
}
PROBE("isolation/map-over-l0", map_over_l0);
