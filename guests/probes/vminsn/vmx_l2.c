/* vminsn/vmx-l2-...: VMX instructions executed by L2 are VM exits whatever the controls
 * (SDM vol.3C 26.1.2), each with its basic exit reason (vol.3D appendix C), L2's RIP at
 * the instruction, the VM-exit instruction length (28.2.4), and for those with an operand
 * the exit qualification (the displacement, sign-extended: 28.2.1 Table 28-1) and the
 * VM-exit instruction-information field (28.2.5: Table 28-13 for VMCLEAR, VMPTRLD,
 * VMPTRST and VMXON, Table 28-14 for VMREAD and VMWRITE, Table 28-15 for INVEPT and
 * INVVPID). After L1 skips the instruction, L2 runs to its end. VMFUNC exits (reason
 * 59) when "enable VM functions" is 1 and the function is not enabled in the
 * VM-function controls (26.1.3, 27.5.6), and raises #UD when that control is 0.
 * SKIP on SVM. */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define VMX_EXIT_VMFUNC          59         /* SDM vol.3D appendix C */
#define PROC2_VM_FUNCTIONS       (1u << 13) /* vol.3C 25.6.2 Table 25-7 */
#define VMCS_VM_FUNCTION_CONTROLS 0x2018    /* vol.3D B.2.1 */
#define EPT_CAP_INVVPID          (1ull << 32) /* vol.3D A.10 */

/* Instruction-information fields (vol.3C 28.2.5 Tables 28-13/14/15). */
#define II_SCALE(s)     ((uint32_t)(s) << 0)  /* 0: none, 1: x2, 2: x4, 3: x8 */
#define II_REG1(r)      ((uint32_t)(r) << 3)  /* VMREAD/VMWRITE register operand */
#define II_ASIZE64      (2u << 7)
#define II_REG_FORM     (1u << 10)            /* VMREAD/VMWRITE: the operand is a register */
#define II_SEG(s)       ((uint32_t)(s) << 15) /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS */
#define II_INDEX(r)     ((uint32_t)(r) << 18)
#define II_NO_INDEX     (1u << 22)
#define II_BASE(r)      ((uint32_t)(r) << 23)
#define II_NO_BASE      (1u << 27)
#define II_REG2(r)      ((uint32_t)(r) << 28)
/* The bits each table defines for a memory operand with base and (or without) index. */
#define II_MASK_MEM     0x0ffff383u /* scale, address size, bit 10, segment, index, base */
#define II_MASK_MEM_NOINDEX 0x0fc7c383u
#define II_MASK_INV     0xffffc383u /* INVEPT/INVVPID: + Reg2, bit 10 undefined */
#define II_MASK_INV_NOINDEX 0xffc7c383u
#define II_MASK_RW_REG  0xf0000478u /* VMREAD/VMWRITE register form: Reg1, bit 10, Reg2 */
#define II_MASK_RW_MEM_NOINDEX 0xffc7c783u
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9 };
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

/* Each snippet: set-up instructions (their length is the offset), then the instruction. */
MHV_L2_ASM(l2_vmxon, "mov $2, %ecx\n\tvmxon 0x10(%rdi,%rcx,4)");            /* 5, 6 */
MHV_L2_ASM(l2_vmptrld, "vmptrld -0x20(%rdi)");                               /* 0, 4 */
MHV_L2_ASM(l2_vmclear, "vmclear %fs:0x100(%rdi)");                           /* 0, 9 */
MHV_L2_ASM(l2_vmptrst, "mov $2, %ecx\n\tvmptrst -8(%rdi,%rcx,8)");          /* 5, 5 */
MHV_L2_ASM(l2_vmread, "xor %edx, %edx\n\tvmread %rdx, %r9");                /* 2, 4 */
MHV_L2_ASM(l2_vmwrite, "xor %esi, %esi\n\tvmwrite 0x30(%rdi), %rsi");       /* 2, 4 */
MHV_L2_ASM(l2_vmlaunch, "vmlaunch");                                         /* 0, 3 */
MHV_L2_ASM(l2_vmresume, "vmresume");                                         /* 0, 3 */
MHV_L2_ASM(l2_vmxoff, "vmxoff");                                             /* 0, 3 */
MHV_L2_ASM(l2_invept, "mov $1, %ecx\n\tinvept 0x40(%rdi), %rcx");           /* 5, 6 */
MHV_L2_ASM(l2_invvpid, "mov $3, %edx\n\tlea 0x80(%rdi), %rsi\n\txor %edi, %edi\n\t"
		       "invvpid %gs:0x10(%rsi,%rdi,2), %rdx");                 /* 14, 8 */
MHV_L2_ASM(l2_vmfunc, "xor %eax, %eax\n\tvmfunc");                           /* 2, 3 */

struct l2_case {
	const char *name;
	void (*code)(void *);
	unsigned offset, len;
	uint32_t reason;
	uint32_t info, info_mask;   /* mask 0: no instruction information defined */
	bool has_qual;
	uint64_t qual;
};

static const struct l2_case cases[] = {
	{ "VMXON 10h(RDI,RCX,4)", l2_vmxon, 5, 6, VMX_EXIT_VMXON,
	  II_SCALE(2) | II_ASIZE64 | II_SEG(SEG_DS) | II_INDEX(RCX) | II_BASE(RDI),
	  II_MASK_MEM, true, 0x10 },
	{ "VMPTRLD -20h(RDI)", l2_vmptrld, 0, 4, VMX_EXIT_VMPTRLD,
	  II_ASIZE64 | II_SEG(SEG_DS) | II_NO_INDEX | II_BASE(RDI), II_MASK_MEM_NOINDEX, true,
	  (uint64_t)-0x20 },
	{ "VMCLEAR FS:100h(RDI)", l2_vmclear, 0, 9, VMX_EXIT_VMCLEAR,
	  II_ASIZE64 | II_SEG(SEG_FS) | II_NO_INDEX | II_BASE(RDI), II_MASK_MEM_NOINDEX, true,
	  0x100 },
	{ "VMPTRST -8(RDI,RCX,8)", l2_vmptrst, 5, 5, VMX_EXIT_VMPTRST,
	  II_SCALE(3) | II_ASIZE64 | II_SEG(SEG_DS) | II_INDEX(RCX) | II_BASE(RDI),
	  II_MASK_MEM, true, (uint64_t)-8 },
	{ "VMREAD R9, RDX", l2_vmread, 2, 4, VMX_EXIT_VMREAD,
	  II_REG1(R9) | II_REG_FORM | II_REG2(RDX), II_MASK_RW_REG, false, 0 },
	{ "VMWRITE RSI, 30h(RDI)", l2_vmwrite, 2, 4, VMX_EXIT_VMWRITE,
	  II_ASIZE64 | II_SEG(SEG_DS) | II_NO_INDEX | II_BASE(RDI) | II_REG2(RSI),
	  II_MASK_RW_MEM_NOINDEX, true, 0x30 },
	{ "VMLAUNCH", l2_vmlaunch, 0, 3, VMX_EXIT_VMLAUNCH, 0, 0, false, 0 },
	{ "VMRESUME", l2_vmresume, 0, 3, VMX_EXIT_VMRESUME, 0, 0, false, 0 },
	{ "VMXOFF", l2_vmxoff, 0, 3, VMX_EXIT_VMXOFF, 0, 0, false, 0 },
	{ "INVEPT RCX, 40h(RDI)", l2_invept, 5, 6, VMX_EXIT_INVEPT,
	  II_ASIZE64 | II_SEG(SEG_DS) | II_NO_INDEX | II_BASE(RDI) | II_REG2(RCX),
	  II_MASK_INV_NOINDEX, true, 0x40 },
	{ "INVVPID RDX, GS:10h(RSI,RDI,2)", l2_invvpid, 14, 8, VMX_EXIT_INVVPID,
	  II_SCALE(1) | II_ASIZE64 | II_SEG(SEG_GS) | II_INDEX(RDI) | II_BASE(RSI) | II_REG2(RDX),
	  II_MASK_INV, true, 0x10 },
	{ "VMFUNC with EAX = 0, no function enabled", l2_vmfunc, 2, 3, VMX_EXIT_VMFUNC, 0, 0,
	  true, 0 },
};

static uint64_t proc2_allowed1(void)
{
	uint64_t proc = rdmsr((rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS)
				      ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	if (!((proc >> 32) & PROC_SECONDARY))
		return 0;
	return rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
}

/* The CPU must have the instruction for L2 to execute it (else #UD, SDM vol.3C 30.3). */
static enum probe_status require_insn(struct probe_run *run, uint32_t reason)
{
	uint64_t proc2 = proc2_allowed1();
	uint64_t cap = (proc2 & (PROC2_EPT | PROC2_VPID)) ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	if (reason == VMX_EXIT_INVEPT && !(cap & EPT_CAP_INVEPT))
		return probe_skip(run, "no INVEPT (IA32_VMX_EPT_VPID_CAP = %#llx, bit 20 clear)",
				  (unsigned long long)cap);
	if (reason == VMX_EXIT_INVVPID && !(cap & EPT_CAP_INVVPID))
		return probe_skip(run, "no INVVPID (IA32_VMX_EPT_VPID_CAP = %#llx, bit 32 clear)",
				  (unsigned long long)cap);
	if (reason == VMX_EXIT_VMFUNC && !(proc2 & PROC2_VM_FUNCTIONS))
		return probe_skip(run, "no 'enable VM functions' control (IA32_VMX_PROCBASED_CTLS2 "
				  "allowed-1 = %#llx, bit 13 clear)", (unsigned long long)proc2);
	return PROBE_PASS;
}

static enum probe_status run_case(struct probe_run *run, const struct l2_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "a VMX instruction"));
	mhv_exit_asserted(MHV_VENDOR_VMX, c->reason);
	MHV_CHECK(require_insn(run, c->reason));
	if (c->reason == VMX_EXIT_VMFUNC) {
		vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VM_FUNCTIONS);
		vmwrite(VMCS_VM_FUNCTION_CONTROLS, 0);
	}
	mhv_l2_call(vm, c->code, mhv_scratch_page(1));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(c->name, &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", c->reason, e.reason);
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)c->code + c->offset, e.rip);
	EXPECT_EQ(run, "VMX VM-exit instruction length", c->len, e.insn_len);
	if (c->has_qual)
		EXPECT_EQ(run, "VMX exit qualification (displacement)", c->qual, e.qualification);
	if (c->info_mask)
		EXPECT_EQ(run, "VMX VM-exit instruction information (defined bits)", c->info,
			  e.insn_info & c->info_mask);
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	mhv_advance_rip(vm, c->len);
	return mhv_run_expect_done(run, vm);
}

#define L2_PROBE(fn, index, name)                          \
	static enum probe_status fn(struct probe_run *run) \
	{                                                  \
		return run_case(run, &cases[index]);       \
	}                                                  \
	PROBE(name, fn)

L2_PROBE(l2_vmxon_probe, 0, "vminsn/vmx-l2-vmxon");
L2_PROBE(l2_vmptrld_probe, 1, "vminsn/vmx-l2-vmptrld");
L2_PROBE(l2_vmclear_probe, 2, "vminsn/vmx-l2-vmclear");
L2_PROBE(l2_vmptrst_probe, 3, "vminsn/vmx-l2-vmptrst");
L2_PROBE(l2_vmread_probe, 4, "vminsn/vmx-l2-vmread");
L2_PROBE(l2_vmwrite_probe, 5, "vminsn/vmx-l2-vmwrite");
L2_PROBE(l2_vmlaunch_probe, 6, "vminsn/vmx-l2-vmlaunch");
L2_PROBE(l2_vmresume_probe, 7, "vminsn/vmx-l2-vmresume");
L2_PROBE(l2_vmxoff_probe, 8, "vminsn/vmx-l2-vmxoff");
L2_PROBE(l2_invept_probe, 9, "vminsn/vmx-l2-invept");
L2_PROBE(l2_invvpid_probe, 10, "vminsn/vmx-l2-invvpid");
L2_PROBE(l2_vmfunc_probe, 11, "vminsn/vmx-l2-vmfunc");

/* VMFUNC with "enable VM functions" = 0 (or on a CPU without VM functions) raises #UD
 * in L2 (SDM vol.3C 26.1.3): L2's IDT handler runs, no exit for the instruction. */
static enum probe_status l2_vmfunc_disabled(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "a VMX instruction"));
	/* mhv_start leaves the control 0; a CPU without it raises #UD all the same. */
	if (vmread(VMCS_PROC_CONTROLS) & PROC_SECONDARY)
		EXPECT_EQ(run, "'enable VM functions' control", 0,
			  vmread(VMCS_PROC2_CONTROLS) & PROC2_VM_FUNCTIONS);
	mhv_l2_call(vm, l2_vmfunc, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMFUNC with 'enable VM functions' = 0", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector delivered in L2", EXC_UD, mhv_l2_event.vector);
	EXPECT_EQ(run, "RIP of the #UD", (uint64_t)l2_vmfunc + 2, mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("vminsn/vmx-l2-vmfunc-disabled", l2_vmfunc_disabled);
