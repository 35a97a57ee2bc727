/* intercept/vmx-...: VMX exits without an SVM counterpart in the catalogue's neutral
 * probes (SDM vol.3D appendix C; vol.3C 26.1):
 * - pause-loop (reason 40): with "PAUSE-loop exiting" and PAUSE exiting off, a loop of
 *   PAUSEs closer than PLE_Gap that runs longer than PLE_Window TSC ticks exits at a
 *   PAUSE, fault-like, length 2; the first PAUSE after VM entry begins a loop (26.1.3);
 * - getsec (11): GETSEC exits unconditionally, after its #UD check on CR4.SMXE (26.1.2);
 * - encls (60): ENCLS with "enable ENCLS exiting" and the leaf's bit in the
 *   ENCLS-exiting bitmap (26.1.3);
 * - umwait (67), tpause (68): with "enable user wait and pause" and RDTSC exiting
 *   (26.1.3);
 * - bus-lock (74): with "VMM bus-lock detection", trap-like after a split lock.
 * Each SKIPs with the CPUID or capability evidence where the CPU lacks the instruction or
 * the control. SKIP on SVM. */
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define VMX_EXIT_ENCLS   60
#define VMX_EXIT_UMWAIT  67
#define VMX_EXIT_TPAUSE  68
#define PROC2_PAUSE_LOOP_EXITING (1u << 10) /* vol.3C 25.6.2 Table 25-7 */
#define PROC2_ENCLS_EXITING      (1u << 15)
#define PROC2_USER_WAIT_PAUSE    (1u << 26)
#define VMCS_PLE_GAP             0x4020     /* vol.3D B.3.1 */
#define VMCS_PLE_WINDOW          0x4022
#define VMCS_ENCLS_EXITING_BITMAP 0x202e    /* vol.3D B.2.1 */
#define CPUID_1_ECX_SMX          (1u << 6)  /* vol.2A CPUID */
#define CPUID_7_EBX_SGX          (1u << 2)
#define CPUID_7_ECX_WAITPKG      (1u << 5)
#define CR4_SMXE                 (1ull << 14)

static uint64_t proc2_allowed1(void)
{
	bool true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS;
	uint64_t proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					: MSR_IA32_VMX_PROCBASED_CTLS);
	if (!((proc >> 32) & PROC_SECONDARY))
		return 0;
	return rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
}

static enum probe_status add_proc2(struct probe_run *run, uint32_t proc2)
{
	uint64_t ok = proc2_allowed1();
	if ((ok & proc2) != proc2)
		return probe_skip(run, "secondary control %#x not supported (IA32_VMX_PROCBASED_CTLS2 "
				  "allowed-1 %#llx)", proc2, (unsigned long long)ok);
	if (proc2)
		vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | proc2);
	return PROBE_PASS;
}

static enum probe_status vmx_start(struct probe_run *run, struct mhv_vm **vm, uint32_t proc2,
				   uint32_t reason)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "a VMX-only exiting control"));
	mhv_exit_asserted(MHV_VENDOR_VMX, reason);
	return add_proc2(run, proc2);
}

static enum probe_status expect_insn_exit(struct probe_run *run, const struct mhv_exit *e,
					  uint32_t reason, uint64_t rip, unsigned len)
{
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", reason, e->reason);
	EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	EXPECT_EQ(run, "VMX VM-exit instruction length", len, e->insn_len);
	return mhv_expect_no_vectoring(run, e);
}

/* A bounded loop of PAUSEs (the PAUSE at offset 5). */
#define PLE_LOOPS 200000
MHV_L2_ASM(l2_pause_loop, "mov $200000, %ecx\n1:\n\tpause\n\tdec %ecx\n\tjnz 1b"); /* 5, 2 */

static enum probe_status pause_loop_with(struct probe_run *run, uint32_t gap)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, PROC2_PAUSE_LOOP_EXITING, VMX_EXIT_PAUSE));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_PAUSE, false));
	vmwrite(VMCS_PLE_GAP, gap);
	vmwrite(VMCS_PLE_WINDOW, 1000);     /* a loop may last 1000 TSC ticks */
	mhv_l2_call(vm, l2_pause_loop, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("PAUSE loop longer than PLE_Window", &e);
	if (e.reason == VMX_EXIT_PAUSE)
		diag("remaining iterations (RCX) at the exit: %llu", (unsigned long long)vm->regs.rcx);
	MHV_CHECK(expect_insn_exit(run, &e, VMX_EXIT_PAUSE, (uint64_t)l2_pause_loop + 5, 2));
	EXPECT_EQ(run, "VMX exit qualification", 0, e.qualification);
	/* The first PAUSE after VM entry begins a loop (26.1.3): the loop has run for 0
	 * ticks there, so no exit before the second iteration. */
	if (vm->regs.rcx >= PLE_LOOPS)
		return probe_fail(run, "PAUSE-loop exit at the first PAUSE after VM entry (RCX %llu): "
				  "expected it to begin a loop (SDM vol.3C 26.1.3)",
				  (unsigned long long)vm->regs.rcx);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_PAUSE_LOOP_EXITING);
	return mhv_run_expect_done(run, vm);
}

/* PLE_Gap 4096 ticks: a loop's PAUSEs are closer than that. */
static enum probe_status pause_loop(struct probe_run *run)
{
	return pause_loop_with(run, 0x1000);
}
PROBE("intercept/vmx-pause-loop", pause_loop);

/* PLE_Gap 7FFFFFFFh: the PAUSE before this VM entry (in an earlier L2, or none) would
 * count as the same loop if the first PAUSE after entry did not begin a new one. */
static enum probe_status pause_loop_first(struct probe_run *run)
{
	return pause_loop_with(run, 0x7fffffff);
}
PROBE("intercept/vmx-pause-loop-after-entry", pause_loop_first);

MHV_L2_ASM(l2_getsec, "xor %eax, %eax\n\tgetsec");                                /* 2, 2 */

static enum probe_status getsec(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, 0, VMX_EXIT_GETSEC));
	uint32_t ecx = cpuid(CPUID_LEAF_FEATURES).ecx;
	if (!(ecx & CPUID_1_ECX_SMX))
		return probe_skip(run, "no SMX (CPUID.1:ECX = %#x, bit 6 clear): GETSEC raises #UD",
				  ecx);
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & CR4_SMXE))
		return probe_skip(run, "CR4.SMXE is fixed to 0 in VMX operation (IA32_VMX_CR4_FIXED1)");
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_SMXE);
	mhv_l2_call(vm, l2_getsec, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("GETSEC", &e);
	MHV_CHECK(expect_insn_exit(run, &e, VMX_EXIT_GETSEC, (uint64_t)l2_getsec + 2, 2));
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/vmx-getsec", getsec);

/* ENCLS leaf 0 (ECREATE) with bit 0 of the ENCLS-exiting bitmap. */
MHV_L2_ASM(l2_encls, "xor %eax, %eax\n\t.byte 0x0f, 0x01, 0xcf");                 /* 2, 3 */

static enum probe_status encls(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, 0, VMX_EXIT_ENCLS));
	uint32_t ebx = cpuid_subleaf(7, 0).ebx;
	if (!(ebx & CPUID_7_EBX_SGX))
		return probe_skip(run, "no SGX (CPUID.(7,0):EBX = %#x, bit 2 clear): ENCLS raises #UD",
				  ebx);
	MHV_CHECK(add_proc2(run, PROC2_ENCLS_EXITING));
	vmwrite(VMCS_ENCLS_EXITING_BITMAP, 1);
	mhv_l2_call(vm, l2_encls, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("ENCLS (ECREATE)", &e);
	MHV_CHECK(expect_insn_exit(run, &e, VMX_EXIT_ENCLS, (uint64_t)l2_encls + 2, 3));
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/vmx-encls", encls);

/* UMWAIT ECX (F2 0F AE /6) and TPAUSE ECX (66 0F AE /6), deadline EDX:EAX = 0. */
MHV_L2_ASM(l2_umwait, "xor %eax, %eax\n\txor %edx, %edx\n\txor %ecx, %ecx\n\t"
		      ".byte 0xf2, 0x0f, 0xae, 0xf1");                                /* 6, 4 */
MHV_L2_ASM(l2_tpause, "xor %eax, %eax\n\txor %edx, %edx\n\txor %ecx, %ecx\n\t"
		      ".byte 0x66, 0x0f, 0xae, 0xf1");                                /* 6, 4 */

static enum probe_status user_wait(struct probe_run *run, void (*code)(void *), uint32_t reason)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, 0, reason));
	uint32_t ecx = cpuid_subleaf(7, 0).ecx;
	if (!(ecx & CPUID_7_ECX_WAITPKG))
		return probe_skip(run, "no WAITPKG (CPUID.(7,0):ECX = %#x, bit 5 clear): UMWAIT and "
				  "TPAUSE raise #UD", ecx);
	MHV_CHECK(add_proc2(run, PROC2_USER_WAIT_PAUSE));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_RDTSC, true));
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(reason == VMX_EXIT_UMWAIT ? "UMWAIT" : "TPAUSE", &e);
	MHV_CHECK(expect_insn_exit(run, &e, reason, (uint64_t)code + 6, 4));
	mhv_advance_rip(vm, 4);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status umwait(struct probe_run *run)
{
	return user_wait(run, l2_umwait, VMX_EXIT_UMWAIT);
}
PROBE("intercept/vmx-umwait", umwait);

static enum probe_status tpause(struct probe_run *run)
{
	return user_wait(run, l2_tpause, VMX_EXIT_TPAUSE);
}
PROBE("intercept/vmx-tpause", tpause);

/* VMM bus-lock detection (secondary control bit 30): an L2 instruction that locks the
 * bus (a LOCK operation split across cache lines) completes and then exits with reason
 * 74, trap-like: RIP after it (SDM vol.3C 26.1.3, 27.2). SKIP without CPUID.(7,0):ECX[24]
 * (bus-lock detection) or the control. */
#define VMX_EXIT_BUS_LOCK        74
#define VMX_EXIT_REASON_BASIC    0xffffu   /* exit reason bits 15:0: the basic reason (vol.3C 25.9.1) */
#define PROC2_BUS_LOCK_DETECTION (1u << 30)
#define CPUID_7_ECX_BUS_LOCK_DETECT (1u << 24)
MHV_L2_ASM(l2_split_lock, "lock incl 0x3e(%rdi)\n\tnop");           /* 0, 4 */

static enum probe_status bus_lock(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(vmx_start(run, &vm, 0, VMX_EXIT_BUS_LOCK));
	uint32_t ecx = cpuid_subleaf(7, 0).ecx;
	if (!(ecx & CPUID_7_ECX_BUS_LOCK_DETECT))
		return probe_skip(run, "no bus-lock detection (CPUID.(7,0):ECX = %#x, bit 24 clear)",
				  ecx);
	MHV_CHECK(add_proc2(run, PROC2_BUS_LOCK_DETECTION));
	volatile uint32_t *operand = (volatile uint32_t *)((uint8_t *)mhv_scratch_page(2) + 0x3e);
	*operand = 41;
	mhv_l2_call(vm, l2_split_lock, mhv_scratch_page(2)); /* 3Eh: 4 bytes across 40h */
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("split-lock LOCK INC with bus-lock detection", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason (basic)", VMX_EXIT_BUS_LOCK,
		    e.reason & VMX_EXIT_REASON_BASIC);
	EXPECT_EQ(run, "L2 RIP at the exit (after the instruction: trap-like)",
		  (uint64_t)l2_split_lock + 4, e.rip);
	EXPECT_EQ(run, "the locked operand (incremented)", 42, *operand);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/vmx-bus-lock", bus_lock);
