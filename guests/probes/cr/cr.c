/* cr/...: control-register accesses in L2. SVM: CR read/write intercepts, exit codes
 * 00h+n / 10h+n, EXITINFO1 with the GPR when DecodeAssists is present (APM vol.2
 * 15.8.1, 15.33.1). VMX: CR3/CR8 load/store exiting and CR0/CR4 guest/host masks,
 * exit reason 28 with the qualification (CR number, access type, GPR, LMSW data),
 * SDM vol.3C 26.1.3 and 28.2.1 Table 28-3. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define CR0_TS (1ull << 3)
#define GPR_RBX 3

MHV_L2_ASM(l2_cr0_write, "mov %cr0, %rbx\n\txor $8, %rbx\n\tmov %rbx, %cr0");   /* 3+4, 3 */
MHV_L2_ASM(l2_cr0_unchanged, "mov %cr0, %rbx\n\tmov %rbx, %cr0");             /* 3, 3 */
MHV_L2_ASM(l2_cr0_read, "mov %cr0, %rbx");                                    /* 3 */
MHV_L2_ASM(l2_cr3_read, "mov %cr3, %rbx");                                    /* 3 */
MHV_L2_ASM(l2_cr3_write, "mov %cr3, %rbx\n\tmov %rbx, %cr3");                 /* 3, 3 */
MHV_L2_ASM(l2_cr4_read, "mov %cr4, %rbx");                                    /* 3 */
MHV_L2_ASM(l2_cr4_write, "mov %cr4, %rbx\n\txor $4, %rbx\n\tmov %rbx, %cr4");   /* 3+4, 3 */
MHV_L2_ASM(l2_cr8_read, "mov %cr8, %rbx");                                    /* 4 */
MHV_L2_ASM(l2_cr8_write, "xor %ebx, %ebx\n\tmov %rbx, %cr8");                 /* 2, 4 */
MHV_L2_ASM(l2_clts, "clts");                                                  /* 2 */
MHV_L2_ASM(l2_lmsw, "mov %cr0, %rbx\n\txor $8, %ebx\n\tlmsw %bx");              /* 3+3, 3 */
MHV_L2_ASM(l2_read_cr0_rax, "mov %cr0, %rax");

enum cr_access { MOV_TO, MOV_FROM, CLTS, LMSW };

struct cr_case {
	void (*code)(void *);
	unsigned offset, len;
	unsigned cr;
	enum cr_access access;
	enum mhv_intercept intercept;
};

static const struct cr_case cases[] = {
	{ l2_cr0_write, 7, 3, 0, MOV_TO, MHV_INTERCEPT_CR0_WRITE },
	{ l2_cr0_read, 0, 3, 0, MOV_FROM, MHV_INTERCEPT_CR0_READ },
	{ l2_cr3_read, 0, 3, 3, MOV_FROM, MHV_INTERCEPT_CR3_READ },
	{ l2_cr3_write, 3, 3, 3, MOV_TO, MHV_INTERCEPT_CR3_WRITE },
	{ l2_cr4_read, 0, 3, 4, MOV_FROM, MHV_INTERCEPT_CR4_READ },
	{ l2_cr4_write, 7, 3, 4, MOV_TO, MHV_INTERCEPT_CR4_WRITE },
	{ l2_cr8_read, 0, 4, 8, MOV_FROM, MHV_INTERCEPT_CR8_READ },
	{ l2_cr8_write, 2, 4, 8, MOV_TO, MHV_INTERCEPT_CR8_WRITE },
	{ l2_clts, 0, 2, 0, CLTS, MHV_INTERCEPT_CR0_WRITE },
	{ l2_lmsw, 6, 3, 0, LMSW, MHV_INTERCEPT_CR0_WRITE },
};

static enum probe_status check_cr_exit(struct probe_run *run, struct mhv_vm *vm,
				       const struct mhv_exit *e, const struct cr_case *c,
				       uint64_t l2_cr0)
{
	bool write = c->access != MOV_FROM;
	uint64_t rip = (uint64_t)c->code + c->offset;
	MHV_CHECK(mhv_expect_insn(run, e, write ? MHV_EXIT_CR_WRITE : MHV_EXIT_CR_READ, rip, c->len));
	if (vm->vendor == MHV_VENDOR_SVM) {
		uint64_t code = (write ? SVM_EXIT_CR_WRITE_BASE : SVM_EXIT_CR_READ_BASE) + c->cr;
		EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", code, e->exitcode);
		/* With DecodeAssists: bit 63 and the GPR for MOV CRx; 0 for CLTS/LMSW. */
		if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
			EXPECT_EQ(run, "SVM EXITINFO1 (DecodeAssists)",
				  (c->access == MOV_TO || c->access == MOV_FROM)
					  ? SVM_CR_INFO_VALID | GPR_RBX : 0,
				  e->exitinfo1);
		return PROBE_PASS;
	}
	uint64_t qual = c->cr | ((uint64_t)c->access << VMX_CR_QUAL_TYPE_SHIFT);
	if (c->access == MOV_TO || c->access == MOV_FROM)
		qual |= (uint64_t)GPR_RBX << VMX_CR_QUAL_GPR_SHIFT;
	if (c->access == LMSW)
		qual |= ((l2_cr0 ^ CR0_TS) & 0xffff) << VMX_CR_QUAL_LMSW_SHIFT;
	EXPECT_EQ(run, "VMX exit qualification (control-register access)", qual, e->qualification);
	return PROBE_PASS;
}

static enum probe_status run_case(struct probe_run *run, const struct cr_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (c->access == CLTS)
		mhv_set(vm, MHV_REG_CR0, mhv_get(vm, MHV_REG_CR0) | CR0_TS);
	uint64_t l2_cr0 = mhv_get(vm, MHV_REG_CR0);
	MHV_CHECK(mhv_intercept(run, vm, c->intercept, true));
	mhv_l2_call(vm, c->code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CR access", &e);
	MHV_CHECK(check_cr_exit(run, vm, &e, c, l2_cr0));
	mhv_advance_rip(vm, c->len);
	return mhv_run_expect_done(run, vm);
}

#define CR_PROBE(fn, index, name)                                     \
	static enum probe_status fn(struct probe_run *run)            \
	{                                                             \
		return run_case(run, &cases[index]);                  \
	}                                                             \
	PROBE(name, fn)

CR_PROBE(cr0_write, 0, "cr/cr0-write");
CR_PROBE(cr0_read, 1, "cr/cr0-read");
CR_PROBE(cr3_read, 2, "cr/cr3-read");
CR_PROBE(cr3_write, 3, "cr/cr3-write");
CR_PROBE(cr4_read, 4, "cr/cr4-read");
CR_PROBE(cr4_write, 5, "cr/cr4-write");
CR_PROBE(cr8_read, 6, "cr/cr8-read");
CR_PROBE(cr8_write, 7, "cr/cr8-write");
CR_PROBE(clts, 8, "cr/clts");
CR_PROBE(lmsw, 9, "cr/lmsw");

/* cr/cr0-write-unchanged: MOV to CR0 of the value it already has. SVM's CR0 write
 * intercept exits on every MOV to CR0 (APM vol.2 15.8.1); VMX exits only when a
 * host-owned bit differs from the read shadow (SDM vol.3C 26.1.3), so not here. */
static enum probe_status cr0_write_unchanged(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CR0_WRITE, true));
	mhv_l2_call(vm, l2_cr0_unchanged, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("MOV to CR0", &e);
	if (vm->vendor == MHV_VENDOR_VMX)
		return mhv_expect_done(run, &e);
	static const struct cr_case c = { l2_cr0_unchanged, 3, 3, 0, MOV_TO,
					  MHV_INTERCEPT_CR0_WRITE };
	return check_cr_exit(run, vm, &e, &c, 0);
}
PROBE("cr/cr0-write-unchanged", cr0_write_unchanged);

/* cr/cr0-read-shadow: VMX only: for bits set in the CR0 guest/host mask, MOV from CR0
 * returns the read shadow, not the real CR0 (SDM vol.3C 26.3). */
static enum probe_status cr0_read_shadow(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "SVM has no read shadows (CR reads "
				     "are intercepted or read the real register)"));
	uint64_t cr0 = mhv_get(vm, MHV_REG_CR0) & ~CR0_TS;
	mhv_set(vm, MHV_REG_CR0, cr0);
	vmwrite(VMCS_CR0_MASK, CR0_TS);
	vmwrite(VMCS_CR0_SHADOW, cr0 | CR0_TS);
	mhv_l2_call(vm, l2_read_cr0_rax, NULL);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "CR0 as L2 reads it (TS from the read shadow)", cr0 | CR0_TS,
		  mhv_l2_result);
	EXPECT_EQ(run, "L2's real CR0", cr0, vmread(VMCS_GUEST_CR0));
	return PROBE_PASS;
}
PROBE("cr/cr0-read-shadow", cr0_read_shadow);

/* cr/cr0-selective-write: SVM only: the selective CR0 write intercept ignores writes
 * that change only CR0.TS or CR0.MP and exits with 65h on any other change (APM vol.2
 * 15.8.2). */
MHV_L2_ASM(l2_cr0_selective, "mov %cr0, %rbx\n\txor $8, %rbx\n\tmov %rbx, %cr0\n\t"
			     "xor $0x10000, %rbx\n\tmov %rbx, %cr0");                 /* 17 */

static enum probe_status cr0_selective_write(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX selects CR0 bits with the "
				     "guest/host mask instead"));
	vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_CR0_SEL;
	mhv_l2_call(vm, l2_cr0_selective, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("selective CR0 write", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM,
		    "SVM EXITCODE (CR0_SEL_WRITE, after the TS-only write passed)",
		  SVM_EXIT_CR0_SEL_WRITE, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit (the write that changes WP)",
		  (uint64_t)l2_cr0_selective + 17, e.rip);
	EXPECT_EQ(run, "L2 CR0.TS (the TS-only write took effect)", CR0_TS,
		  mhv_get(vm, MHV_REG_CR0) & CR0_TS);
	/* With DecodeAssists, as for any MOV to CR0: bit 63 and the GPR (APM vol.2 15.33.1) */
	if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
		EXPECT_EQ(run, "SVM EXITINFO1 (DecodeAssists)", SVM_CR_INFO_VALID | GPR_RBX,
			  e.exitinfo1);
	return PROBE_PASS;
}
PROBE("cr/cr0-selective-write", cr0_selective_write);

/* cr/lmsw-selective: SVM only: LMSW treats the selective CR0-write intercept as a
 * non-selective one: it exits with 65h even when it writes the value CR0 already has
 * (APM vol.2 15.9, table 15-7); with DecodeAssists EXITINFO1 is 0 (LMSW, 15.33.1). */
MHV_L2_ASM(l2_lmsw_same, "smsw %ebx\n\tlmsw %bx");                          /* 3, 3 */

static enum probe_status lmsw_selective(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX selects CR0 bits with the "
				     "guest/host mask instead"));
	vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_CR0_SEL;
	mhv_l2_call(vm, l2_lmsw_same, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("LMSW of CR0's own value", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM,
		    "SVM EXITCODE (CR0_SEL_WRITE for an LMSW that changes nothing)",
		  SVM_EXIT_CR0_SEL_WRITE, e.exitcode);
	EXPECT_EQ(run, "L2 RIP at the exit (the LMSW)", (uint64_t)l2_lmsw_same + 3, e.rip);
	if (mhv_has(MHV_FEATURE_DECODE_ASSISTS))
		EXPECT_EQ(run, "SVM EXITINFO1 (DecodeAssists: LMSW, no register)", 0, e.exitinfo1);
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}
PROBE("cr/lmsw-selective", lmsw_selective);

/* cr/cr2-read, cr/cr2-write: SVM only: the CR2 read and write intercepts (bits 2 and 18
 * of the CR intercept word, exit codes 02h and 12h, APM vol.2 15.9.1). VMX has no CR2
 * exiting: MOV to or from CR2 never exits (SDM vol.3C 26.1.3 lists CR0, CR3, CR4, CR8). */
MHV_L2_ASM(l2_cr2_read, "mov %cr2, %rbx");                        /* 0, 3 */
MHV_L2_ASM(l2_cr2_write, "mov %cr2, %rbx\n\tmov %rbx, %cr2");     /* 3, 3 */

#define SVM_INTERCEPT_CR_READ(n)  (1u << (n))
#define SVM_INTERCEPT_CR_WRITE(n) (1u << (16 + (n)))

static enum probe_status cr2_access(struct probe_run *run, bool write)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "VMX has no CR2 exiting: MOV CR2 "
				     "never exits (SDM vol.3C 26.1.3)"));
	vm->vmcb->intercept_cr |= write ? SVM_INTERCEPT_CR_WRITE(2) : SVM_INTERCEPT_CR_READ(2);
	void (*code)(void *) = write ? l2_cr2_write : l2_cr2_read;
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("MOV CR2", &e);
	static const struct cr_case read_case = { l2_cr2_read, 0, 3, 2, MOV_FROM,
						  MHV_INTERCEPT_COUNT };
	static const struct cr_case write_case = { l2_cr2_write, 3, 3, 2, MOV_TO,
						   MHV_INTERCEPT_COUNT };
	MHV_CHECK(check_cr_exit(run, vm, &e, write ? &write_case : &read_case, 0));
	mhv_advance_rip(vm, 3);
	return mhv_run_expect_done(run, vm);
}

static enum probe_status cr2_read(struct probe_run *run)
{
	return cr2_access(run, false);
}
PROBE("cr/cr2-read", cr2_read);

static enum probe_status cr2_write(struct probe_run *run)
{
	return cr2_access(run, true);
}
PROBE("cr/cr2-write", cr2_write);
