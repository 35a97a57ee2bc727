/* msr/...: RDMSR and WRMSR through the MSR bitmaps (SVM MSRPM, APM vol.2 15.11; VMX MSR
 * bitmaps, SDM vol.3C 25.6.9 and 26.1.3): intercepted reads and writes in the low and
 * high ranges exit with the right code (SVM 7Ch with EXITINFO1 0 read / 1 write; VMX
 * 31 / 32) and L2's ECX (and EDX:EAX for writes) at the exit; clear bits pass through;
 * MSRs outside the bitmaps always exit. */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define MSR_SYSENTER_CS   0x174u
#define MSR_MTRRCAP       0xfeu
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_HYPERVISOR_0  0x40000000u /* outside both vendors' bitmaps */

MHV_L2_ASM(l2_rdmsr_low, "mov $0x174, %ecx\n\trdmsr");                                  /* 5 */
MHV_L2_ASM(l2_wrmsr_low, "mov $0x174, %ecx\n\tmov $0x1234, %eax\n\txor %edx, %edx\n\twrmsr"); /* 12 */
MHV_L2_ASM(l2_rdmsr_high, "mov $0xc0000102, %ecx\n\trdmsr");                            /* 5 */
MHV_L2_ASM(l2_wrmsr_high, "mov $0xc0000102, %ecx\n\tmov $0x5678, %eax\n\tmov $0xffff8000, %edx\n\twrmsr"); /* 15 */
MHV_L2_ASM(l2_rdmsr_outside, "mov $0x40000000, %ecx\n\trdmsr");                         /* 5 */

static enum probe_status expect_msr_exit(struct probe_run *run, struct mhv_vm *vm,
					 const struct mhv_exit *e, bool write, uint32_t msr,
					 uint64_t rip)
{
	MHV_CHECK(mhv_expect_insn(run, e, write ? MHV_EXIT_MSR_WRITE : MHV_EXIT_MSR_READ, rip, 2));
	if (e->vendor == MHV_VENDOR_SVM)
		EXPECT_EQ(run, "SVM EXITINFO1 (0 RDMSR, 1 WRMSR)", write, e->exitinfo1);
	else
		EXPECT_EQ(run, "VMX exit qualification", 0, e->qualification);
	EXPECT_EQ(run, "L2 ECX at the exit", msr, (uint32_t)vm->regs.rcx);
	return PROBE_PASS;
}

static enum probe_status intercepted(struct probe_run *run, uint32_t msr, bool write,
				     void (*code)(void *), unsigned offset, uint64_t value)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (!mhv_intercept_msr(vm, msr, !write, write))
		return probe_fail(run, "MSR %#x should be in the %s MSR bitmap", msr,
				  mhv_vendor_name(vm->vendor));
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(write ? "WRMSR" : "RDMSR", &e);
	MHV_CHECK(expect_msr_exit(run, vm, &e, write, msr, (uint64_t)code + offset));
	if (write) {
		EXPECT_EQ(run, "L2 EAX at the WRMSR exit", (uint32_t)value, (uint32_t)e.rax);
		EXPECT_EQ(run, "L2 EDX at the WRMSR exit", value >> 32, (uint32_t)vm->regs.rdx);
	}
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status rdmsr_low(struct probe_run *run)
{
	return intercepted(run, MSR_SYSENTER_CS, false, l2_rdmsr_low, 5, 0);
}
PROBE("msr/rdmsr-low-intercepted", rdmsr_low);

static enum probe_status wrmsr_low(struct probe_run *run)
{
	return intercepted(run, MSR_SYSENTER_CS, true, l2_wrmsr_low, 12, 0x1234);
}
PROBE("msr/wrmsr-low-intercepted", wrmsr_low);

static enum probe_status rdmsr_high(struct probe_run *run)
{
	return intercepted(run, MSR_KERNEL_GS_BASE, false, l2_rdmsr_high, 5, 0);
}
PROBE("msr/rdmsr-high-intercepted", rdmsr_high);

static enum probe_status wrmsr_high(struct probe_run *run)
{
	return intercepted(run, MSR_KERNEL_GS_BASE, true, l2_wrmsr_high, 15,
			   0xffff800000005678ull);
}
PROBE("msr/wrmsr-high-intercepted", wrmsr_high);

/* msr/rdmsr-passthrough: bits clear, L2 reads the real MSRs: MTRRCAP (low range) and
 * KERNEL_GS_BASE (high range, switched by neither VMRUN nor VM entry). */
MHV_L2_ASM(l2_rdmsr_two, "mov $0xfe, %ecx\n\trdmsr\n\tmov %eax, %ebx\n\tmov %edx, %esi\n\t"
			 "mov $0xc0000102, %ecx\n\trdmsr");

static enum probe_status rdmsr_passthrough(struct probe_run *run)
{
	uint64_t mtrrcap;
	if (!rdmsr_safe(MSR_MTRRCAP, &mtrrcap))
		return probe_skip(run, "IA32_MTRRCAP (0xfe) not implemented: RDMSR raises #GP in L1");
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	uint64_t saved = rdmsr(MSR_KERNEL_GS_BASE);
	wrmsr(MSR_KERNEL_GS_BASE, 0xffff8000deadb000ull);
	mhv_intercept_msr(vm, MSR_MTRRCAP + 1, true, true); /* neighbours only */
	mhv_intercept_msr(vm, MSR_KERNEL_GS_BASE - 1, true, true);
	mhv_l2_call(vm, l2_rdmsr_two, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	wrmsr(MSR_KERNEL_GS_BASE, saved);
	MHV_CHECK(mhv_expect_done(run, &e));
	EXPECT_EQ(run, "IA32_MTRRCAP read by L2", mtrrcap,
		  (vm->regs.rsi << 32) | (uint32_t)vm->regs.rbx);
	EXPECT_EQ(run, "KERNEL_GS_BASE read by L2", 0xffff8000deadb000ull,
		  (vm->regs.rdx << 32) | (uint32_t)mhv_l2_result);
	return PROBE_PASS;
}
PROBE("msr/rdmsr-passthrough", rdmsr_passthrough);

/* msr/wrmsr-passthrough: a write with its bit clear reaches the MSR. */
MHV_L2_ASM(l2_wrmsr_kgs, "mov $0xc0000102, %ecx\n\tmov $0xcafe0000, %eax\n\t"
			 "mov $0xffff8000, %edx\n\twrmsr");

static enum probe_status wrmsr_passthrough(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	uint64_t saved = rdmsr(MSR_KERNEL_GS_BASE);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	mhv_intercept_msr(vm, MSR_KERNEL_GS_BASE, true, false); /* reads only */
	mhv_l2_call(vm, l2_wrmsr_kgs, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	uint64_t value = rdmsr(MSR_KERNEL_GS_BASE);
	wrmsr(MSR_KERNEL_GS_BASE, saved);
	MHV_CHECK(mhv_expect_done(run, &e));
	EXPECT_EQ(run, "KERNEL_GS_BASE after L2's WRMSR", 0xffff8000cafe0000ull, value);
	return PROBE_PASS;
}
PROBE("msr/wrmsr-passthrough", wrmsr_passthrough);

/* msr/read-only-intercept: read bit set, write bit clear for the same MSR: the WRMSR
 * passes, the RDMSR after it exits. */
MHV_L2_ASM(l2_wrmsr_then_rdmsr, "mov $0x174, %ecx\n\tmov $0x10, %eax\n\txor %edx, %edx\n\t"
				"wrmsr\n\trdmsr");                                        /* 14 */

static enum probe_status read_only_intercept(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	uint64_t saved = rdmsr(MSR_SYSENTER_CS);
	mhv_intercept_msr(vm, MSR_SYSENTER_CS, true, false);
	mhv_l2_call(vm, l2_wrmsr_then_rdmsr, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("RDMSR", &e);
	wrmsr(MSR_SYSENTER_CS, saved);
	MHV_CHECK(expect_msr_exit(run, vm, &e, false, MSR_SYSENTER_CS,
				  (uint64_t)l2_wrmsr_then_rdmsr + 14));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("msr/read-only-intercept", read_only_intercept);

/* msr/outside-bitmap: MSR 40000000h is outside every range of both bitmaps: RDMSR
 * exits though no bit is set (APM vol.2 15.11: "always intercepted"; SDM vol.3C
 * 26.1.3: "ECX not in 0-1FFFH or C0000000H-C0001FFFH"), before any #GP. */
static enum probe_status outside_bitmap(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (mhv_intercept_msr(vm, MSR_HYPERVISOR_0, false, false))
		return probe_fail(run, "MSR %#x should be outside the bitmaps", MSR_HYPERVISOR_0);
	mhv_l2_call(vm, l2_rdmsr_outside, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("RDMSR", &e);
	MHV_CHECK(expect_msr_exit(run, vm, &e, false, MSR_HYPERVISOR_0,
				  (uint64_t)l2_rdmsr_outside + 5));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("msr/outside-bitmap", outside_bitmap);

/* msr/range-c0010000: MSRs C001_0000h-C001_1FFFh have a third MSRPM range on SVM (a
 * clear bit passes, a set bit exits) but none in VMX's bitmap (always exits). */
MHV_L2_ASM(l2_rdmsr_vm_cr, "mov $0xc0010114, %ecx\n\trdmsr");                           /* 5 */

static enum probe_status range_c001(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	struct mhv_exit e;
	if (vm->vendor == MHV_VENDOR_VMX) {
		if (mhv_intercept_msr(vm, MSR_VM_CR, false, false))
			return probe_fail(run, "MSR %#x should be outside VMX's MSR bitmap", MSR_VM_CR);
		mhv_l2_call(vm, l2_rdmsr_vm_cr, NULL);
		mhv_run(vm, &e);
		mhv_diag_exit("RDMSR", &e);
		return expect_msr_exit(run, vm, &e, false, MSR_VM_CR, (uint64_t)l2_rdmsr_vm_cr + 5);
	}
	uint64_t vm_cr = rdmsr(MSR_VM_CR);
	mhv_l2_call(vm, l2_rdmsr_vm_cr, NULL);
	mhv_run(vm, &e);
	MHV_CHECK(mhv_expect_done(run, &e));
	EXPECT_EQ(run, "VM_CR read by L2 with its MSRPM bit clear", vm_cr,
		  (vm->regs.rdx << 32) | (uint32_t)mhv_l2_result);
	if (!mhv_intercept_msr(vm, MSR_VM_CR, true, false))
		return probe_fail(run, "MSR %#x should be in the SVM MSRPM", MSR_VM_CR);
	mhv_l2_call(vm, l2_rdmsr_vm_cr, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("RDMSR", &e);
	return expect_msr_exit(run, vm, &e, false, MSR_VM_CR, (uint64_t)l2_rdmsr_vm_cr + 5);
}
PROBE("msr/range-c0010000", range_c001);
