/* mode/...: L2 in real mode and in 32-bit protected mode without paging (SVM with
 * nested paging; VMX with unrestricted guest and EPT). The exits report the mode's
 * RIP (IP/EIP) and, for I/O, its address size: SVM IOIO A16/A32 (APM vol.2 15.10.2),
 * VMX instruction information bits 9:7 (SDM vol.3C 28.2.5). Each L2 ends with an
 * intercepted HLT. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define PORT 0x3456

MHV_L2_ASM16(l2_real_cpuid, "cpuid\n\thlt");                                       /* 0, 2 */
MHV_L2_ASM16(l2_real_out, "mov $0x3456, %dx\n\tout %al, (%dx)\n\thlt");             /* 3, 1 */
MHV_L2_ASM16(l2_real_outsb, "mov $0x3456, %dx\n\tmov $0x10, %si\n\toutsb\n\thlt");  /* 6, 1 */
MHV_L2_ASM32(l2_prot_cpuid, "cpuid\n\thlt");                                       /* 0, 2 */
MHV_L2_ASM32(l2_prot_out, "mov $0x3456, %edx\n\tout %al, (%dx)\n\thlt");            /* 5, 1 */
MHV_L2_ASM32(l2_prot_outsb, "mov $0x3456, %edx\n\tmov $0x10, %esi\n\toutsb\n\thlt"); /* 10, 1 */

/* L2's RIP for code at this address: the offset in its page in real mode. */
static uint64_t mode_rip(enum mhv_mode mode, void (*code)(void *), unsigned offset)
{
	uint64_t linear = (uint64_t)code + offset;
	return mode == MHV_MODE_REAL ? (linear & 0xfff) : linear;
}

static enum probe_status finish_with_hlt(struct probe_run *run, struct mhv_vm *vm,
					 enum mhv_mode mode, void (*code)(void *), unsigned offset)
{
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("HLT", &e);
	return mhv_expect_insn(run, &e, MHV_EXIT_HLT, mode_rip(mode, code, offset), 1);
}

static enum probe_status cpuid_in_mode(struct probe_run *run, enum mhv_mode mode,
				       void (*code)(void *))
{
	struct mhv_vm *vm;
	MHV_START(run, vm, mode, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_l2_enter(vm, code);
	vm->regs.rax = 0;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CPUID", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, mode_rip(mode, code, 0), 2));
	mhv_advance_rip(vm, 2);
	return finish_with_hlt(run, vm, mode, code, 2);
}

static enum probe_status real_cpuid(struct probe_run *run)
{
	return cpuid_in_mode(run, MHV_MODE_REAL, l2_real_cpuid);
}
PROBE("mode/real-cpuid", real_cpuid);

static enum probe_status prot32_cpuid(struct probe_run *run)
{
	return cpuid_in_mode(run, MHV_MODE_PROT32, l2_prot_cpuid);
}
PROBE("mode/prot32-cpuid", prot32_cpuid);

static enum probe_status io_in_mode(struct probe_run *run, enum mhv_mode mode,
				    void (*code)(void *), unsigned offset, bool string)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, mode, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	mhv_intercept_io(vm, PORT, true);
	mhv_l2_enter(vm, code);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("OUT", &e);
	uint64_t rip = mode_rip(mode, code, offset);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_IO, rip, 1));
	bool real = mode == MHV_MODE_REAL;
	if (e.vendor == MHV_VENDOR_SVM) {
		uint64_t info = ((uint64_t)PORT << SVM_IOIO_PORT_SHIFT) | SVM_IOIO_SZ8 |
				(real ? SVM_IOIO_A16 : SVM_IOIO_A32) | (string ? SVM_IOIO_STRING : 0);
		EXPECT_EQ(run, "SVM EXITINFO1 (IOIO)", info, e.exitinfo1 & ~SVM_IOIO_SEG_MASK);
		EXPECT_EQ(run, "SVM EXITINFO2 (next RIP)", rip + 1, e.exitinfo2);
	} else {
		EXPECT_EQ(run, "VMX exit qualification (I/O)",
			  ((uint64_t)PORT << VMX_IO_QUAL_PORT_SHIFT) | (string ? VMX_IO_QUAL_STRING : 0),
			  e.qualification);
		if (string) {
			EXPECT_EQ(run, "VMX guest-linear address (DS:SI)", 0x10, e.guest_linear);
			if (mhv_has(MHV_FEATURE_INSN_INFO))
				EXPECT_EQ(run, "VMX instruction information address size",
					  real ? 0 : 1,
					  (e.insn_info & VMX_INSN_INFO_ASIZE_MASK) >>
						  VMX_INSN_INFO_ASIZE_SHIFT);
		}
	}
	EXPECT_EQ(run, "decoded address size", string || e.vendor == MHV_VENDOR_SVM
							? (real ? 2 : 4) : 0, e.io.addr_size);
	mhv_advance_rip(vm, 1);
	return finish_with_hlt(run, vm, mode, code, offset + 1);
}

static enum probe_status real_out(struct probe_run *run)
{
	return io_in_mode(run, MHV_MODE_REAL, l2_real_out, 3, false);
}
PROBE("mode/real-out", real_out);

static enum probe_status real_outsb(struct probe_run *run)
{
	return io_in_mode(run, MHV_MODE_REAL, l2_real_outsb, 6, true);
}
PROBE("mode/real-outsb", real_outsb);

static enum probe_status prot32_out(struct probe_run *run)
{
	return io_in_mode(run, MHV_MODE_PROT32, l2_prot_out, 5, false);
}
PROBE("mode/prot32-out", prot32_out);

static enum probe_status prot32_outsb(struct probe_run *run)
{
	return io_in_mode(run, MHV_MODE_PROT32, l2_prot_outsb, 10, true);
}
PROBE("mode/prot32-outsb", prot32_outsb);
