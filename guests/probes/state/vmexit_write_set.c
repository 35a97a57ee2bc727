/* state/svm-vmexit-write-set: #VMEXIT writes into the VMCB the guest state VMRUN saves
 * and the exit information (APM vol.2 15.6, 15.7), nothing else. The state VMLOAD and
 * VMSAVE move (FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_*)
 * stays in the CPU (15.5.2), the LBR fields are written only with LBR virtualization
 * (off here), and the control fields L1 set (intercepts, IOPM/MSRPM base, TSC offset,
 * ASID, the clean field) are L1's: after an L2 CPUID exit every one of them holds the
 * value L1 put there, in a VMCB run twice (the second time with every clean bit set where
 * offered, so a cache of the VMCB writes back from its copy too). SVM only. */
#include "lib/mhv.h"
#include "lib/svm.h"

#define CANARY 0x5ca1ab1e00000000ull
#define CLEAN_ALL 0x7ffu /* groups 0-10 (APM vol.2 table 15-9) */

MHV_L2_ASM(l2_cpuid_twice, "cpuid\n\tcpuid");

/* L1's values of the fields #VMEXIT must leave alone */
struct untouched {
	struct svm_segment fs, gs, tr, ldtr;
	uint64_t msr[8]; /* STAR ... SYSENTER_EIP, 0x600-0x63f */
	uint64_t lbr[4]; /* BR_FROM ... LASTEXCP_TO */
	uint32_t intercept[5];
	uint64_t iopm, msrpm, tsc_offset;
	uint32_t asid, clean;
};

static void take(const struct svm_vmcb *v, struct untouched *u)
{
	u->fs = v->fs;
	u->gs = v->gs;
	u->tr = v->tr;
	u->ldtr = v->ldtr;
	__builtin_memcpy(u->msr, &v->star, sizeof(u->msr));
	u->lbr[0] = v->br_from;
	u->lbr[1] = v->br_to;
	u->lbr[2] = v->last_excp_from;
	u->lbr[3] = v->last_excp_to;
	u->intercept[0] = v->intercept_cr;
	u->intercept[1] = v->intercept_dr;
	u->intercept[2] = v->intercept_exceptions;
	u->intercept[3] = v->intercept_misc1;
	u->intercept[4] = v->intercept_misc2;
	u->iopm = v->iopm_base_pa;
	u->msrpm = v->msrpm_base_pa;
	u->tsc_offset = v->tsc_offset;
	u->asid = v->guest_asid;
	u->clean = v->clean_bits;
}

static enum probe_status compare(struct probe_run *run, const struct untouched *a,
				 const struct untouched *b)
{
	static const char *const seg[] = { "FS", "GS", "TR", "LDTR" };
	const struct svm_segment *sa = &a->fs, *sb = &b->fs;
	for (unsigned i = 0; i < 4; i++) {
		EXPECT_EQ(run, seg[i], sa[i].base, sb[i].base);
		EXPECT_EQ(run, seg[i], sa[i].selector, sb[i].selector);
		EXPECT_EQ(run, seg[i], sa[i].limit, sb[i].limit);
		EXPECT_EQ(run, seg[i], sa[i].attrib, sb[i].attrib);
	}
	static const char *const msr[] = { "STAR", "LSTAR", "CSTAR", "SFMASK", "KernelGsBase",
					   "SYSENTER_CS", "SYSENTER_ESP", "SYSENTER_EIP" };
	for (unsigned i = 0; i < 8; i++)
		EXPECT_EQ(run, msr[i], a->msr[i], b->msr[i]);
	static const char *const lbr[] = { "BR_FROM", "BR_TO", "LASTEXCP_FROM", "LASTEXCP_TO" };
	for (unsigned i = 0; i < 4; i++)
		EXPECT_EQ(run, lbr[i], a->lbr[i], b->lbr[i]);
	for (unsigned i = 0; i < 5; i++)
		EXPECT_EQ(run, "an intercept vector", a->intercept[i], b->intercept[i]);
	EXPECT_EQ(run, "IOPM_BASE_PA", a->iopm, b->iopm);
	EXPECT_EQ(run, "MSRPM_BASE_PA", a->msrpm, b->msrpm);
	EXPECT_EQ(run, "TSC_OFFSET", a->tsc_offset, b->tsc_offset);
	EXPECT_EQ(run, "ASID", a->asid, b->asid);
	EXPECT_EQ(run, "the VMCB clean field", a->clean, b->clean);
	return PROBE_PASS;
}

static enum probe_status vmexit_write_set(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "the VMCB is SVM's"));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	struct svm_vmcb *v = vm->vmcb;
	/* values VMRUN does not load (VMLOAD's state; LBR fields without LBR virtualization):
	 * any value is L1's to keep there */
	for (unsigned i = 0; i < 4; i++) {
		struct svm_segment *s = i == 0 ? &v->fs : i == 1 ? &v->gs : i == 2 ? &v->tr : &v->ldtr;
		s->selector = (uint16_t)(0x28 + 8 * i);
		s->attrib = (uint16_t)(0x93 + i);
		s->limit = 0x1234u + i;
		s->base = CANARY | (0x1000u * (i + 1));
	}
	uint64_t *m = &v->star;
	for (unsigned i = 0; i < 8; i++)
		m[i] = CANARY | (0x100u + i);
	v->br_from = CANARY | 0x201;
	v->br_to = CANARY | 0x202;
	v->last_excp_from = CANARY | 0x203;
	v->last_excp_to = CANARY | 0x204;
	v->tsc_offset = 0x1000;
	struct untouched before, after;
	mhv_l2_call(vm, l2_cpuid_twice, NULL);
	for (unsigned round = 0; round < 2; round++) {
		bool clean = round == 1 && mhv_has(MHV_FEATURE_VMCB_CLEAN);
		if (clean)
			vm->svm_clean = CLEAN_ALL;
		take(v, &before);
		before.clean = clean ? CLEAN_ALL : 0; /* svm_run writes the field at VMRUN */
		struct mhv_exit e;
		mhv_run(vm, &e);
		mhv_diag_exit(round ? "the second VMRUN" : "the first VMRUN", &e);
		MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_CPUID, (uint64_t)l2_cpuid_twice + 2 * round, 2));
		take(v, &after);
		MHV_CHECK(compare(run, &before, &after));
		mhv_advance_rip(vm, 2);
	}
	return PROBE_PASS;
}
PROBE("state/svm-vmexit-write-set", vmexit_write_set);
