/* dr/...: MOV to and from debug registers with the DR intercepts (SVM exit codes 20h+n
 * read, 30h+n write, APM vol.2 15.9; VMX MOV-DR exiting, reason 29 with the
 * qualification: DR number, direction (1 = MOV from DR), GPR, SDM vol.3C 28.2.1
 * Table 28-4); SVM EXITINFO1 with the GPR under DecodeAssists (APM vol.2 15.33.1). */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define GPR_RBX 3
#define CR4_DE  (1ull << 3)

MHV_L2_ASM(l2_mov_from_dr7, "mov %dr7, %rbx");                     /* 0, 3 */
MHV_L2_ASM(l2_mov_to_dr7, "mov $0x400, %ebx\n\tmov %rbx, %dr7");    /* 5, 3 */
/* The rest of the family a CPU can raise: DR0-DR6 (DR4/DR5 alias DR6/DR7 with CR4.DE = 0,
 * and raise #UD with CR4.DE = 1; DR8-DR15 do not exist). The values written
 * are the registers' reset values (DR6 FFFF0FF0h, SDM vol.3B 18.2). */
MHV_L2_ASM(l2_mov_from_dr0, "mov %dr0, %rbx");                     /* 0, 3 */
MHV_L2_ASM(l2_mov_from_dr1, "mov %dr1, %rbx");
MHV_L2_ASM(l2_mov_from_dr2, "mov %dr2, %rbx");
MHV_L2_ASM(l2_mov_from_dr3, "mov %dr3, %rbx");
MHV_L2_ASM(l2_mov_from_dr6, "mov %dr6, %rbx");
MHV_L2_ASM(l2_mov_to_dr0, "xor %ebx, %ebx\n\t.byte 0x0f, 0x1f, 0x00\n\tmov %rbx, %dr0");
MHV_L2_ASM(l2_mov_to_dr1, "xor %ebx, %ebx\n\t.byte 0x0f, 0x1f, 0x00\n\tmov %rbx, %dr1");
MHV_L2_ASM(l2_mov_to_dr2, "xor %ebx, %ebx\n\t.byte 0x0f, 0x1f, 0x00\n\tmov %rbx, %dr2");
MHV_L2_ASM(l2_mov_to_dr3, "xor %ebx, %ebx\n\t.byte 0x0f, 0x1f, 0x00\n\tmov %rbx, %dr3");
MHV_L2_ASM(l2_mov_to_dr6, "mov $0xffff0ff0, %ebx\n\tmov %rbx, %dr6");  /* 5, 3 */
/* DR4 and DR5 by their own encodings (0F 21/23 with reg 4, 5: GNU as spells them %db4). */
MHV_L2_ASM(l2_mov_from_dr4, ".byte 0x0f, 0x21, 0xe3");             /* 0, 3: mov %dr4, %rbx */
MHV_L2_ASM(l2_mov_from_dr5, ".byte 0x0f, 0x21, 0xeb");             /* mov %dr5, %rbx */
MHV_L2_ASM(l2_mov_to_dr4, "mov $0xffff0ff0, %ebx\n\t.byte 0x0f, 0x23, 0xe3");  /* 5, 3 */
MHV_L2_ASM(l2_mov_to_dr5, "mov $0x400, %ebx\n\t.byte 0x0f, 0x23, 0xeb");       /* 5, 3 */

static enum probe_status dr_access_n(struct probe_run *run, void (*code)(void *),
				     unsigned offset, bool write, unsigned dr);

static enum probe_status dr_access(struct probe_run *run, void (*code)(void *), unsigned offset,
				   bool write)
{
	return dr_access_n(run, code, offset, write, 7);
}

static enum probe_status dr_access_n(struct probe_run *run, void (*code)(void *),
				     unsigned offset, bool write, unsigned dr)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	/* DR4/DR5 are DR6/DR7's aliases only with CR4.DE = 0 (#UD with DE = 1, SDM vol.3B
	 * 18.2.2); the exit names the register as encoded: SVM 24h/25h, 34h/35h (APM vol.2
	 * Table C-1), VMX qualification bits 2:0 = 4 or 5 (Table 28-4). */
	if (dr == 4 || dr == 5)
		mhv_set(vm, MHV_REG_CR4, mhv_get(vm, MHV_REG_CR4) & ~CR4_DE);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_DR, true));
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("MOV DR", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_DR_ACCESS, (uint64_t)code + offset, 3));
	if (e.vendor == MHV_VENDOR_SVM) {
		EXPECT_EXIT(run, MHV_VENDOR_SVM,
			    "SVM EXITCODE", (write ? SVM_EXIT_DR_WRITE_BASE : SVM_EXIT_DR_READ_BASE) + dr,
			    e.exitcode);
		/* With DecodeAssists: the GPR in bits 3:0 and nothing else; unlike MOV CRx,
		 * bit 63 stays clear (APM vol.2 15.33.1, table 15-3). */
		if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
			EXPECT_EQ(run, "SVM EXITINFO1 (DecodeAssists: RBX)", GPR_RBX, e.exitinfo1);
	} else
		EXPECT_EQ(run, "VMX exit qualification (MOV DR)",
			  dr | (write ? 0 : 1u << 4) | (3u << 8), e.qualification);
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status mov_from_dr7(struct probe_run *run)
{
	return dr_access(run, l2_mov_from_dr7, 0, false);
}
PROBE("dr/mov-from-dr7", mov_from_dr7);

static enum probe_status mov_to_dr7(struct probe_run *run)
{
	return dr_access(run, l2_mov_to_dr7, 5, true);
}
PROBE("dr/mov-to-dr7", mov_to_dr7);

#define DR_PROBES(n)                                                              \
	static enum probe_status mov_from_dr##n(struct probe_run *run)            \
	{                                                                         \
		return dr_access_n(run, l2_mov_from_dr##n, 0, false, n);          \
	}                                                                         \
	PROBE("dr/mov-from-dr" #n, mov_from_dr##n);                               \
	static enum probe_status mov_to_dr##n(struct probe_run *run)              \
	{                                                                         \
		return dr_access_n(run, l2_mov_to_dr##n, 5, true, n);             \
	}                                                                         \
	PROBE("dr/mov-to-dr" #n, mov_to_dr##n)

DR_PROBES(0);
DR_PROBES(1);
DR_PROBES(2);
DR_PROBES(3);
DR_PROBES(4);
DR_PROBES(5);
DR_PROBES(6);
