/* intercept/<instruction>: one instruction in L2 with its intercept on exits with the
 * vendor's code for it (SVM EXITCODE, VMX basic exit reason), L2's RIP at the exit is
 * the instruction, and the instruction length is reported (SVM next_rip with NRIPS,
 * VMX VM-exit instruction length); after L1 skips it, L2 runs to its end. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define CR4_OSXSAVE (1ull << 18)

/* Each snippet starts with set-up instructions of known length, then the one
 * instruction under test. */
MHV_L2_ASM(l2_cpuid, "xor %eax, %eax\n\tcpuid");                    /* 2 + 2 */
MHV_L2_ASM(l2_hlt, "hlt");                                          /* 1 */
MHV_L2_ASM(l2_invlpg, "mov $0x234000, %eax\n\tinvlpg (%rax)");      /* 5 + 3 */
MHV_L2_ASM(l2_rdtsc, "rdtsc");                                      /* 2 */
MHV_L2_ASM(l2_rdtscp, "rdtscp");                                    /* 3 */
MHV_L2_ASM(l2_rdpmc, "xor %ecx, %ecx\n\trdpmc");                    /* 2 + 2 */
MHV_L2_ASM(l2_pause, "pause");                                      /* 2 */
MHV_L2_ASM(l2_wbinvd, "wbinvd");                                    /* 2 */
MHV_L2_ASM(l2_invd, "invd");                                        /* 2 */
MHV_L2_ASM(l2_xsetbv, "xor %ecx, %ecx\n\tmov $1, %eax\n\txor %edx, %edx\n\txsetbv"); /* 9 + 3 */
MHV_L2_ASM(l2_monitor, "mov $0x234000, %eax\n\txor %ecx, %ecx\n\txor %edx, %edx\n\tmonitor"); /* 9+3 */
MHV_L2_ASM(l2_mwait, "xor %eax, %eax\n\txor %ecx, %ecx\n\tmwait");  /* 4 + 3 */
MHV_L2_ASM(l2_vmmcall, "mov $0x1234, %eax\n\tvmmcall");             /* 5 + 3 */
MHV_L2_ASM(l2_vmcall, "mov $0x1234, %eax\n\tvmcall");               /* 5 + 3 */

struct insn_case {
	const char *name;
	void (*svm_code)(void *);   /* L2 code on SVM */
	void (*vmx_code)(void *);   /* ... on VMX (the same unless the instruction differs) */
	unsigned offset, len;       /* where the instruction is in the snippet, its length */
	enum mhv_intercept intercept;
	enum mhv_exit_kind kind;
	int feature;                /* an enum mhv_feature the case needs, or -1 */
	int also;                   /* a second intercept to turn on, or -1 */
};

static const struct insn_case cases[] = {
	{ "CPUID", l2_cpuid, l2_cpuid, 2, 2, MHV_INTERCEPT_CPUID, MHV_EXIT_CPUID, -1, -1 },
	{ "HLT", l2_hlt, l2_hlt, 0, 1, MHV_INTERCEPT_HLT, MHV_EXIT_HLT, -1, -1 },
	{ "INVLPG", l2_invlpg, l2_invlpg, 5, 3, MHV_INTERCEPT_INVLPG, MHV_EXIT_INVLPG, -1, -1 },
	{ "RDTSC", l2_rdtsc, l2_rdtsc, 0, 2, MHV_INTERCEPT_RDTSC, MHV_EXIT_RDTSC, -1, -1 },
	{ "RDTSCP", l2_rdtscp, l2_rdtscp, 0, 3, MHV_INTERCEPT_RDTSCP, MHV_EXIT_RDTSCP,
	  MHV_FEATURE_RDTSCP, -1 },
	{ "RDPMC", l2_rdpmc, l2_rdpmc, 2, 2, MHV_INTERCEPT_RDPMC, MHV_EXIT_RDPMC, -1, -1 },
	{ "PAUSE", l2_pause, l2_pause, 0, 2, MHV_INTERCEPT_PAUSE, MHV_EXIT_PAUSE, -1, -1 },
	{ "WBINVD", l2_wbinvd, l2_wbinvd, 0, 2, MHV_INTERCEPT_WBINVD, MHV_EXIT_WBINVD, -1, -1 },
	{ "INVD", l2_invd, l2_invd, 0, 2, MHV_INTERCEPT_INVD, MHV_EXIT_INVD, -1, -1 },
	{ "XSETBV", l2_xsetbv, l2_xsetbv, 9, 3, MHV_INTERCEPT_XSETBV, MHV_EXIT_XSETBV,
	  MHV_FEATURE_XSAVE, -1 },
	{ "MONITOR", l2_monitor, l2_monitor, 9, 3, MHV_INTERCEPT_MONITOR, MHV_EXIT_MONITOR,
	  MHV_FEATURE_MONITOR, -1 },
	{ "MWAIT", l2_mwait, l2_mwait, 4, 3, MHV_INTERCEPT_MWAIT, MHV_EXIT_MWAIT,
	  MHV_FEATURE_MONITOR, -1 },
	{ "VMMCALL/VMCALL", l2_vmmcall, l2_vmcall, 5, 3, MHV_INTERCEPT_HYPERCALL,
	  MHV_EXIT_HYPERCALL, -1, -1 },
	/* With the intercept of the neighbouring instruction on too: the exit code must
	 * still be the instruction's own (APM vol.2 Table C-1). */
	{ "RDTSCP with RDTSC intercepted too", l2_rdtscp, l2_rdtscp, 0, 3, MHV_INTERCEPT_RDTSCP,
	  MHV_EXIT_RDTSCP, MHV_FEATURE_RDTSCP, MHV_INTERCEPT_RDTSC },
	{ "INVD with WBINVD intercepted too", l2_invd, l2_invd, 0, 2, MHV_INTERCEPT_INVD,
	  MHV_EXIT_INVD, -1, MHV_INTERCEPT_WBINVD },
};

static enum probe_status run_case(struct probe_run *run, const struct insn_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (c->feature >= 0)
		MHV_CHECK(mhv_require(run, (enum mhv_feature)c->feature));
	MHV_CHECK(mhv_intercept(run, vm, c->intercept, true));
	if (c->also >= 0)
		MHV_CHECK(mhv_intercept(run, vm, (enum mhv_intercept)c->also, true));
	if (c->kind == MHV_EXIT_XSETBV)
		mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) | CR4_OSXSAVE);
	void (*code)(void *) = vm->vendor == MHV_VENDOR_SVM ? c->svm_code : c->vmx_code;
	mhv_l2_call(vm, code, NULL);

	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(c->name, &e);
	MHV_CHECK(mhv_expect_insn(run, &e, c->kind, (uint64_t)code + c->offset, c->len));
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	if (c->kind == MHV_EXIT_INVLPG) {
		/* The linear address: VMX exit qualification; SVM EXITINFO1 with
		 * DecodeAssists (APM vol.2 15.33). */
		if (vm->vendor == MHV_VENDOR_VMX)
			EXPECT_EQ(run, "VMX exit qualification (INVLPG's linear address)", 0x234000,
				  e.qualification);
		else if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
			EXPECT_EQ(run, "SVM EXITINFO1 (INVLPG's linear address)", 0x234000,
				  e.exitinfo1);
	}
	mhv_advance_rip(vm, c->len);
	return mhv_run_expect_done(run, vm);
}

#define INSN_PROBE(fn, index, name)                                   \
	static enum probe_status fn(struct probe_run *run)            \
	{                                                             \
		return run_case(run, &cases[index]);                  \
	}                                                             \
	PROBE(name, fn)

INSN_PROBE(cpuid_probe, 0, "intercept/cpuid");
INSN_PROBE(hlt_probe, 1, "intercept/hlt");
INSN_PROBE(invlpg_probe, 2, "intercept/invlpg");
INSN_PROBE(rdtsc_probe, 3, "intercept/rdtsc");
INSN_PROBE(rdtscp_probe, 4, "intercept/rdtscp");
INSN_PROBE(rdpmc_probe, 5, "intercept/rdpmc");
INSN_PROBE(pause_probe, 6, "intercept/pause");
INSN_PROBE(wbinvd_probe, 7, "intercept/wbinvd");
INSN_PROBE(invd_probe, 8, "intercept/invd");
INSN_PROBE(xsetbv_probe, 9, "intercept/xsetbv");
INSN_PROBE(monitor_probe, 10, "intercept/monitor");
INSN_PROBE(mwait_probe, 11, "intercept/mwait");
INSN_PROBE(hypercall_probe, 12, "intercept/hypercall");
INSN_PROBE(rdtscp_rdtsc_probe, 13, "intercept/rdtscp-with-rdtsc");
INSN_PROBE(invd_wbinvd_probe, 14, "intercept/invd-with-wbinvd");

/* intercept/invlpg-sib: INVLPG with base, scaled index and displacement reports the
 * linear address it computes, base + index * 4 + 10h (VMX: the exit qualification, SDM
 * vol.3C 28.2.1; SVM: EXITINFO1 with DecodeAssists, APM vol.2 15.33.3). */
#define INVLPG_BASE 0x230000
#define INVLPG_INDEX 0x1000
MHV_L2_ASM(l2_invlpg_sib, "mov $0x230000, %eax\n\tmov $0x1000, %ecx\n\t"
			  "invlpg 0x10(%rax,%rcx,4)");                  /* 5 + 5, 5 */

static enum probe_status invlpg_sib(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_INVLPG, true));
	mhv_l2_call(vm, l2_invlpg_sib, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("INVLPG 10h(RAX,RCX,4)", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_INVLPG, (uint64_t)l2_invlpg_sib + 10, 5));
	uint64_t linear = INVLPG_BASE + 4 * INVLPG_INDEX + 0x10;
	if (vm->vendor == MHV_VENDOR_VMX)
		EXPECT_EQ(run, "VMX exit qualification (INVLPG's linear address)", linear,
			  e.qualification);
	else if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
		EXPECT_EQ(run, "SVM EXITINFO1 (INVLPG's linear address)", linear, e.exitinfo1);
	mhv_advance_rip(vm, 5);
	return mhv_run_expect_done(run, vm);
}
PROBE("intercept/invlpg-sib", invlpg_sib);
