/* vminsn/svm-...: SVM instructions in L1 (VMSAVE/VMLOAD round trip, CLGI/STGI, #UD
 * without EFER.SVME, APM vol.2 15.5, 15.17) and in L2 (their intercepts: VMRUN 80h,
 * VMLOAD 82h, VMSAVE 83h, STGI 84h, CLGI 85h, INVLPGA 7Ah, SKINIT 86h, APM vol.2 Table C-1). SKIP
 * on VMX. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/svm.h"

#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_SYSENTER_CS    0x174u
#define MSR_SYSENTER_ESP   0x175u
#define MSR_SYSENTER_EIP   0x176u

static enum probe_status svm_start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	return mhv_require_vendor(run, MHV_VENDOR_SVM, "an SVM instruction");
}

/* VMSAVE stores, VMLOAD loads: KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and the
 * SYSENTER MSRs (with FS, GS, TR, LDTR), APM vol.2 15.5.2. */
static enum probe_status vmload_vmsave(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	struct svm_vmcb *saved = mhv_scratch_page(0), *changed = mhv_scratch_page(1),
			*check = mhv_scratch_page(2);
	svm_vmsave((uint64_t)saved);
	EXPECT_EQ(run, "KernelGsBase saved by VMSAVE", rdmsr(MSR_KERNEL_GS_BASE),
		  saved->kernel_gs_base);
	EXPECT_EQ(run, "LSTAR saved by VMSAVE", rdmsr(MSR_LSTAR), saved->lstar);
	memcpy(changed, saved, sizeof(*changed));
	changed->kernel_gs_base = 0xffff800012345000ull;
	changed->star = 0x0023001000000000ull;
	changed->lstar = 0xffff800000abc000ull;
	changed->cstar = 0xffff800000def000ull;
	changed->sfmask = 0x4700;
	changed->sysenter_cs = 0x10;
	changed->sysenter_esp = 0xffff800000001000ull;
	changed->sysenter_eip = 0xffff800000002000ull;
	svm_vmload((uint64_t)changed);
	uint64_t got[8] = {
		rdmsr(MSR_KERNEL_GS_BASE), rdmsr(MSR_STAR), rdmsr(MSR_LSTAR), rdmsr(MSR_CSTAR),
		rdmsr(MSR_SFMASK), rdmsr(MSR_SYSENTER_CS), rdmsr(MSR_SYSENTER_ESP),
		rdmsr(MSR_SYSENTER_EIP),
	};
	memset(check, 0, 4096);
	svm_vmsave((uint64_t)check);
	svm_vmload((uint64_t)saved); /* back to how it was */
	EXPECT_EQ(run, "KernelGsBase after VMLOAD", changed->kernel_gs_base, got[0]);
	EXPECT_EQ(run, "STAR after VMLOAD", changed->star, got[1]);
	EXPECT_EQ(run, "LSTAR after VMLOAD", changed->lstar, got[2]);
	EXPECT_EQ(run, "CSTAR after VMLOAD", changed->cstar, got[3]);
	EXPECT_EQ(run, "SFMASK after VMLOAD", changed->sfmask, got[4]);
	EXPECT_EQ(run, "SYSENTER_CS after VMLOAD", changed->sysenter_cs, got[5]);
	EXPECT_EQ(run, "SYSENTER_ESP after VMLOAD", changed->sysenter_esp, got[6]);
	EXPECT_EQ(run, "SYSENTER_EIP after VMLOAD", changed->sysenter_eip, got[7]);
	EXPECT_EQ(run, "KernelGsBase stored by the second VMSAVE", changed->kernel_gs_base,
		  check->kernel_gs_base);
	EXPECT_EQ(run, "TR selector stored by VMSAVE", saved->tr.selector, check->tr.selector);
	EXPECT_EQ(run, "KernelGsBase restored", saved->kernel_gs_base, rdmsr(MSR_KERNEL_GS_BASE));
	return PROBE_PASS;
}
PROBE("vminsn/svm-vmload-vmsave", vmload_vmsave);

/* CLGI and STGI at CPL 0 with EFER.SVME: no fault, GIF back to 1 (interrupts would
 * be taken again: the run goes on). */
static void clgi_stgi(void *unused)
{
	(void)unused;
	svm_clgi();
	svm_stgi();
}

static enum probe_status clgi_stgi_probe(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	struct exc_record fault;
	if (exc_try(&fault, clgi_stgi, NULL))
		return probe_fail(run, "CLGI; STGI: expected no exception, observed %s at %#llx",
				  exception_mnemonic(fault.vector), (unsigned long long)fault.rip);
	return PROBE_PASS;
}
PROBE("vminsn/svm-clgi-stgi", clgi_stgi_probe);

/* Without EFER.SVME, VMRUN, VMLOAD, VMSAVE and CLGI raise #UD (APM vol.3, each
 * instruction's exceptions). */
static void do_clgi(void *unused) { (void)unused; svm_clgi(); }
static void do_vmsave(void *page) { svm_vmsave((uint64_t)page); }
static void do_vmload(void *page) { svm_vmload((uint64_t)page); }
static void do_vmrun(void *page)
{
	__asm__ volatile("vmrun %%rax" ::"a"((uint64_t)page) : "memory");
}

static enum probe_status need_svme(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	static const struct { const char *name; void (*fn)(void *); } insns[] = {
		{ "CLGI", do_clgi }, { "VMSAVE", do_vmsave }, { "VMLOAD", do_vmload },
		{ "VMRUN", do_vmrun },
	};
	uint64_t efer = rdmsr(MSR_EFER);
	for (unsigned i = 0; i < 4; i++) {
		struct exc_record fault;
		void *page = mhv_scratch_page(0);
		wrmsr(MSR_EFER, efer & ~EFER_SVME);
		bool faulted = exc_try(&fault, insns[i].fn, page);
		wrmsr(MSR_EFER, efer);
		if (!faulted)
			return probe_fail(run, "%s with EFER.SVME = 0: expected #UD, observed none",
					  insns[i].name);
		if (fault.vector != EXC_UD)
			return probe_fail(run, "%s with EFER.SVME = 0: expected #UD, observed %s",
					  insns[i].name, exception_mnemonic(fault.vector));
	}
	return PROBE_PASS;
}
PROBE("vminsn/svm-need-efer-svme", need_svme);

/* SVM instructions in L2, intercepted. */
MHV_L2_ASM(l2_vmrun, "mov %rdi, %rax\n\tvmrun %rax");       /* 3 + 3 */
MHV_L2_ASM(l2_vmload, "mov %rdi, %rax\n\tvmload %rax");     /* 3 + 3 */
MHV_L2_ASM(l2_vmsave, "mov %rdi, %rax\n\tvmsave %rax");     /* 3 + 3 */
MHV_L2_ASM(l2_stgi, "stgi");                                /* 3 */
MHV_L2_ASM(l2_clgi, "clgi");                                /* 3 */
MHV_L2_ASM(l2_invlpga, "mov %rdi, %rax\n\txor %ecx, %ecx\n\tinvlpga %rax, %ecx"); /* 5 + 3 */
MHV_L2_ASM(l2_skinit, "mov %rdi, %rax\n\tskinit %eax");     /* 3 + 3 */

static enum probe_status l2_insn(struct probe_run *run, void (*code)(void *), unsigned offset,
				 uint64_t exitcode)
{
	struct mhv_vm *vm;
	MHV_CHECK(svm_start(run, &vm));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_VM_INSN, true));
	mhv_l2_call(vm, code, mhv_scratch_page(1));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("SVM instruction in L2", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", exitcode, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)code + offset, e.rip);
	if (mhv_has(MHV_FEATURE_NEXT_RIP))
		EXPECT_EQ(run, "SVM next_rip", (uint64_t)code + offset + 3, e.next_rip);
	return PROBE_PASS;
}

#define L2_INSN_PROBE(fn, name, code, offset, exitcode)  \
	static enum probe_status fn(struct probe_run *run) \
	{                                                  \
		return l2_insn(run, code, offset, exitcode); \
	}                                                  \
	PROBE(name, fn)

L2_INSN_PROBE(l2_vmrun_probe, "vminsn/svm-l2-vmrun", l2_vmrun, 3, SVM_EXIT_VMRUN);
L2_INSN_PROBE(l2_vmload_probe, "vminsn/svm-l2-vmload", l2_vmload, 3, SVM_EXIT_VMLOAD);
L2_INSN_PROBE(l2_vmsave_probe, "vminsn/svm-l2-vmsave", l2_vmsave, 3, SVM_EXIT_VMSAVE);
L2_INSN_PROBE(l2_stgi_probe, "vminsn/svm-l2-stgi", l2_stgi, 0, SVM_EXIT_STGI);
L2_INSN_PROBE(l2_clgi_probe, "vminsn/svm-l2-clgi", l2_clgi, 0, SVM_EXIT_CLGI);
L2_INSN_PROBE(l2_invlpga_probe, "vminsn/svm-l2-invlpga", l2_invlpga, 5, SVM_EXIT_INVLPGA);
/* SKINIT (86h): the intercept is checked after its #UD (EFER.SVME = 1 in L2 here) and
 * before it does anything (APM vol.2 15.27). */
L2_INSN_PROBE(l2_skinit_probe, "vminsn/svm-l2-skinit", l2_skinit, 3, SVM_EXIT_SKINIT);
