/* intercept/...: instructions whose exit comes from a control one vendor may lack.
 *
 *   RDRAND, RDSEED  VMX "RDRAND exiting" / "RDSEED exiting" (secondary controls 11, 16),
 *                   exit reasons 57 and 61 with the instruction information (SDM vol.3C
 *                   26.1.3, 28.2.5 Table 28-14: the destination register in bits 6:3,
 *                   operand size in 12:11). SVM has no intercept for either (APM vol.2
 *                   15.9, Table C-1 has no code): SKIP.
 *   INVPCID         VMX "enable INVPCID" with "INVLPG exiting" (26.1.3), exit reason 58;
 *                   SVM the INVPCID intercept (VMCB 014h bit 2), exit code A2h.
 *   XSAVES, XRSTORS VMX "enable XSAVES/XRSTORS" with a bit set in EDX:EAX AND IA32_XSS
 *                   AND the XSS-exiting bitmap (26.1.3), exit reasons 63 and 64; SVM has
 *                   no intercept for them: SKIP.
 * Each asserts the exit code, L2's RIP at the exit, the instruction length, and resumes L2
 * after it. */
#include "lib/cpu.h"
#include "lib/deviations.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define PROC2_RDRAND_EXITING (1u << 11)
#define PROC2_RDSEED_EXITING (1u << 16)
#define VMX_EXIT_RDSEED      61
#define VMX_EXIT_XSAVES      63
#define VMX_EXIT_XRSTORS     64
#define VMCS_XSS_EXITING_BITMAP 0x202c /* SDM vol.3C appendix B.2.1 */
#define SVM_EXIT_INVPCID     0xa2      /* APM vol.2 Table C-1 */
#define SVM_INTERCEPT3_INVPCID (1u << 2) /* VMCB 014h, APM vol.2 Table B-1 */

#define CPUID_7_EBX_INVPCID (1u << 10) /* SDM vol.2A Table 3-8 */
#define CPUID_7_EBX_RDSEED  (1u << 18)
#define CPUID_1_ECX_RDRAND  (1u << 30)
#define CPUID_D1_EAX_XSAVES (1u << 3)
#define MSR_IA32_XSS        0xda0u     /* SDM vol.4 Table 2-2 */
#define CR4_OSXSAVE         (1ull << 18)

MHV_L2_ASM(l2_rdrand, "rdrand %eax");                     /* 0, 3 (0F C7 F0) */
MHV_L2_ASM(l2_rdseed, "rdseed %eax");                     /* 0, 3 (0F C7 F8) */
/* INVPCID type 2 (all contexts, globals included: needs no PCID) with a zeroed
 * descriptor at (%rdi): 66 0F 38 82 /r, 5 bytes. */
MHV_L2_ASM(l2_invpcid, "mov $2, %eax\n\tinvpcid (%rdi), %rax");   /* 5, 5 */
MHV_L2_ASM(l2_xsaves, "mov $0xffffffff, %eax\n\tmov %eax, %edx\n\txsaves (%rdi)");  /* 7, 3 */
MHV_L2_ASM(l2_xrstors, "mov $0xffffffff, %eax\n\tmov %eax, %edx\n\txrstors (%rdi)"); /* 7, 3 */

static bool proc2_allowed(uint32_t bits)
{
	return ((rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & bits) == bits;
}

static void proc2_set(uint32_t bits)
{
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | bits);
}

static enum probe_status run_to_exit(struct probe_run *run, struct mhv_vm *vm,
				     void (*code)(void *), void *arg, unsigned offset,
				     unsigned len, enum mhv_vendor vendor, uint32_t exit_code,
				     const char *what)
{
	mhv_l2_call(vm, code, arg);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(what, &e);
	if (vendor == MHV_VENDOR_SVM)
		EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", exit_code, e.exitcode);
	else
		EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", exit_code, e.reason);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)code + offset, e.rip);
	if (vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX VM-exit instruction length", len, e.insn_len);
	else if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", (uint64_t)code + offset + len, e.next_rip);
	mhv_advance_rip(vm, len);
	return mhv_run_expect_done(run, vm);
}

/* RDRAND/RDSEED: VMX instruction information: destination EAX (0) in bits 6:3, operand
 * size 32 bits (1) in bits 12:11. */
static enum probe_status random_probe(struct probe_run *run, void (*code)(void *),
				      uint32_t cpuid_bit, bool leaf7, uint32_t control,
				      uint32_t reason)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (vm->vendor == MHV_VENDOR_SVM)
		return probe_skip(run, "SVM has no RDRAND/RDSEED intercept (APM vol.2 15.9, "
				  "Table C-1): nothing to probe");
	mhv_exit_asserted(MHV_VENDOR_VMX, reason);
	uint32_t have = leaf7 ? cpuid_subleaf(7, 0).ebx : cpuid(1).ecx;
	if (!(have & cpuid_bit))
		return probe_skip(run, "the CPU has no %s (CPUID)", leaf7 ? "RDSEED" : "RDRAND");
	if (!proc2_allowed(control))
		return probe_skip(run, "IA32_VMX_PROCBASED_CTLS2 does not allow %s exiting "
				  "(bit %u)", leaf7 ? "RDSEED" : "RDRAND",
				  (unsigned)__builtin_ctz(control));
	proc2_set(control);
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(leaf7 ? "RDSEED" : "RDRAND", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", reason, e.reason);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)code, e.rip);
	EXPECT_EQ(run, "VMX VM-exit instruction length", 3, e.insn_len);
	EXPECT_EQ(run, "VMX instruction information (EAX, 32-bit)", 1u << 11,
		  e.insn_info & ((0xfu << 3) | (3u << 11)));
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status rdrand_probe(struct probe_run *run)
{
	return random_probe(run, l2_rdrand, CPUID_1_ECX_RDRAND, false, PROC2_RDRAND_EXITING,
			    VMX_EXIT_RDRAND);
}
PROBE("intercept/rdrand", rdrand_probe);

static enum probe_status rdseed_probe(struct probe_run *run)
{
	return random_probe(run, l2_rdseed, CPUID_7_EBX_RDSEED, true, PROC2_RDSEED_EXITING,
			    VMX_EXIT_RDSEED);
}
PROBE("intercept/rdseed", rdseed_probe);

static enum probe_status invpcid_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_exit_asserted(vm->vendor, vm->vendor == MHV_VENDOR_SVM ? SVM_EXIT_INVPCID
								: VMX_EXIT_INVPCID);
	if (!(cpuid_subleaf(7, 0).ebx & CPUID_7_EBX_INVPCID))
		return probe_skip(run, "the CPU has no INVPCID (CPUID.(7,0):EBX[10] is 0)");
	uint64_t *descriptor = mhv_scratch_page(1);
	descriptor[0] = descriptor[1] = 0;
	if (vm->vendor == MHV_VENDOR_SVM) {
		vm->vmcb->intercept_misc3 |= SVM_INTERCEPT3_INVPCID;
		return run_to_exit(run, vm, l2_invpcid, descriptor, 5, 5, MHV_VENDOR_SVM,
				   SVM_EXIT_INVPCID, "INVPCID");
	}
	if (!proc2_allowed(PROC2_INVPCID))
		return probe_skip(run, "IA32_VMX_PROCBASED_CTLS2 does not allow enable INVPCID");
	proc2_set(PROC2_INVPCID);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INVLPG, true));
	return run_to_exit(run, vm, l2_invpcid, descriptor, 5, 5, MHV_VENDOR_VMX,
			   VMX_EXIT_INVPCID, "INVPCID");
}
PROBE("intercept/invpcid", invpcid_probe);

/* XSAVES/XRSTORS: the exit needs a supervisor state component in IA32_XSS: the first
 * one CPUID.(0Dh,1):EDX:ECX says the CPU supports. */
static enum probe_status xsaves_probe(struct probe_run *run, bool restore)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	uint32_t reason = restore ? VMX_EXIT_XRSTORS : VMX_EXIT_XSAVES;
	if (vm->vendor == MHV_VENDOR_SVM)
		return probe_skip(run, "SVM has no XSAVES/XRSTORS intercept (APM vol.2 15.9, "
				  "Table C-1): nothing to probe");
	mhv_exit_asserted(MHV_VENDOR_VMX, reason);
	if (!mhv_has(MHV_FEATURE_XSAVE) || !(cpuid_subleaf(0xd, 1).eax & CPUID_D1_EAX_XSAVES))
		return probe_skip(run, "the CPU has no XSAVES (CPUID.(0Dh,1):EAX[3] is 0)");
	struct cpuid_regs xss = cpuid_subleaf(0xd, 1);
	uint64_t supported = ((uint64_t)xss.edx << 32) | xss.ecx;
	if (!supported)
		return probe_skip(run, "the CPU supports no IA32_XSS component (CPUID.(0Dh,1):"
				  "EDX:ECX is 0), so XSAVES/XRSTORS cannot exit (SDM vol.3C "
				  "26.1.3)");
	if (!proc2_allowed(PROC2_XSAVES))
		return probe_skip(run, "IA32_VMX_PROCBASED_CTLS2 does not allow enable "
				  "XSAVES/XRSTORS");
	uint64_t component = supported & -supported;
	diag("IA32_XSS components supported %#llx; the probe sets %#llx",
	     (unsigned long long)supported, (unsigned long long)component);
	wrmsr(MSR_IA32_XSS, component);
	vmwrite(VMCS_XSS_EXITING_BITMAP, ~0ull);
	proc2_set(PROC2_XSAVES);
	mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_OSXSAVE);
	uint8_t *area = mhv_scratch_page(1);
	for (unsigned i = 0; i < 4096; i++)
		area[i] = 0;
	enum probe_status status = run_to_exit(run, vm, restore ? l2_xrstors : l2_xsaves, area,
					       7, 3, MHV_VENDOR_VMX, reason,
					       restore ? "XRSTORS" : "XSAVES");
	wrmsr(MSR_IA32_XSS, 0);
	return status;
}

static enum probe_status xsaves(struct probe_run *run)
{
	return xsaves_probe(run, false);
}
PROBE("intercept/xsaves", xsaves);

static enum probe_status xrstors(struct probe_run *run)
{
	return xsaves_probe(run, true);
}
PROBE("intercept/xrstors", xrstors);
