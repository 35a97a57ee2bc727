/* intercept/xsetbv-xcr0-kept: an intercepted instruction does not execute (APM vol.2
 * 15.9: the intercept is checked before the instruction; VT-x: XSETBV always exits, SDM
 * vol.3C 26.1.2), so L2's XSETBV leaves XCR0 as L1 set it, whatever value L2 writes.
 * VMRUN and #VMEXIT (VM entry and exit) leave XCR0 alone, so a CPU that ignores the
 * intercept changes L1's XCR0 behind its back: how Xen's domU came to size its XSAVE
 * area for another XCR0 than the one it enabled (harness/xen.py; under nestbed the nested
 * layer says so in one "XCR0 went from" line, src/nested/svm/nsvm_xcr0.h). L1 sets
 * XCR0 = x87|SSE, L2 writes x87 only; afterwards L1's XCR0 and CR4 are put back. */
#include "lib/cpu.h"
#include "lib/mhv.h"

#define CR4_OSXSAVE (1ull << 18)
#define XCR0_X87 0x1ull
#define XCR0_X87_SSE 0x3ull

MHV_L2_ASM(l2_xsetbv_x87, "xor %ecx, %ecx\n\tmov $1, %eax\n\txor %edx, %edx\n\txsetbv"); /* 9 + 3 */

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv0(uint64_t value)
{
	__asm__ volatile("xsetbv" ::"c"(0u), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static void write_cr4(uint64_t value)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(value) : "memory");
}

static enum probe_status xsetbv_xcr0_kept(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require(run, MHV_FEATURE_XSAVE));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_XSETBV, true));
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_OSXSAVE);
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	uint64_t xcr0_before = xgetbv0();
	xsetbv0(XCR0_X87_SSE);
	mhv_l2_call(vm, l2_xsetbv_x87, NULL);

	struct mhv_exit e;
	mhv_run(vm, &e);
	/* a VT-x exit loads CR4 from the host-state area, written before OSXSAVE was set */
	write_cr4(read_cr4() | CR4_OSXSAVE);
	uint64_t xcr0 = xgetbv0();
	xsetbv0(xcr0_before);
	write_cr4(cr4);
	mhv_diag_exit("XSETBV", &e);
	/* XCR0 first: it is what the guest hypervisor's bookkeeping depends on */
	EXPECT_EQ(run, "XCR0 after L2's intercepted XSETBV of x87 only (L1 set x87|SSE)",
		  XCR0_X87_SSE, xcr0);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_XSETBV, (uint64_t)l2_xsetbv_x87 + 9, 3));
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/xsetbv-xcr0-kept", xsetbv_xcr0_kept);
