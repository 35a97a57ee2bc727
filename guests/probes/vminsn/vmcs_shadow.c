/* VMCS shadowing as L1 uses it for its L2 (SDM vol.3C 25.10 VMCS types, 25.6.15 the
 * VMREAD and VMWRITE bitmaps, 26.2.1.1 and 26.3.1.5 the entry checks, vol.2B VMREAD and
 * VMWRITE in VMX non-root operation). L1 makes a shadow VMCS (revision identifier with
 * bit 31 set), fills one field through VMPTRLD + VMWRITE, names it in the VMCS link
 * pointer with "VMCS shadowing" on, and L2 runs VMREAD and VMWRITE:
 *   vminsn/vmcs-shadow-vmread, -vmwrite, -memory-operands: a clear bitmap bit: no exit, the shadow VMCS
 *     read or written, VMsucceed (CF = ZF = 0);
 *   vminsn/vmcs-shadow-vmread-bitmap-exit, -vmwrite-bitmap-exit: the field's bitmap bit
 *     set: exit 23 / 25 at the instruction, length 3, register-form instruction
 *     information (28.2.5 Table 28-14), the shadow untouched;
 *   vminsn/vmcs-shadow-vmread-memory-pf: a #PF on the memory operand, to L1 or L2;
 *   vminsn/vmcs-shadow-vmread-memory-ept-violation: the store meets L1's read-only EPT
 *     entry: EPT violation to L1;
 *   vminsn/vmcs-shadow-encoding-high-bits-exit: an encoding with bit 15 set exits
 *     whatever the bitmap says;
 *   vminsn/vmcs-shadow-link-all-ones-failinvalid: link pointer FFFFFFFF_FFFFFFFFh:
 *     VMfailInvalid in L2 (CF = 1), no exit, the destination unchanged;
 *   vminsn/vmcs-shadow-vmwrite-exit-info: VMWRITE of the exit reason: VMsucceed with
 *     IA32_VMX_MISC[29], else VMfailValid 13;
 *   vminsn/vmcs-shadow-unsupported-field: VMfailValid in L2 (ZF = 1) and the
 *     VM-instruction error 12 in L1's current VMCS;
 *   vminsn/vmlaunch-shadow-vmcs-fails: VMPTRLD of a shadow VMCS succeeds, VMLAUNCH of
 *     it is VMfailInvalid (25.10, 26.1);
 *   entry/vmcs-link-shadow-indicator: the linked VMCS's bit 31 must equal the control:
 *     VM-entry failure, exit reason 33, qualification 4 (26.3.1.5, 26.8), both ways;
 *   entry/vmcs-shadow-bitmap-unaligned: a VMREAD-bitmap address not 4 KiB aligned is
 *     VMfailValid 7 (26.2.1.1).
 * SKIP on SVM and where IA32_VMX_PROCBASED_CTLS2 does not allow bit 14. */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/tdp.h"
#include "lib/vmx.h"

#define PROC2_VMCS_SHADOWING  (1u << 14)         /* vol.3C 25.6.2 Table 25-7 */
#define VMCS_VMREAD_BITMAP    0x2026u            /* vol.3D B.2.1 */
#define VMCS_VMWRITE_BITMAP   0x2028u
#define SHADOW_INDICATOR      (1u << 31)         /* vol.3C 25.2 */
#define SHADOW_FIELD          VMCS_GUEST_SYSENTER_ESP /* 6824h: any field the shadow has */
#define SHADOW_VALUE          0x1122334455667788ull
#define L2_VALUE              0x0123456789abcdefull
#define UNSUPPORTED_FIELD     0x6ffeu            /* natural-width host field, index 1FFh */
#define RFLAGS_CF             (1ull << 0)
#define RFLAGS_ZF             (1ull << 6)
#define RFLAGS_ARITH          0x8d5ull           /* CF PF AF ZF SF OF (31.2) */
#define INVALID_GUEST_STATE   33u
#define QUAL_LINK_POINTER     4u                 /* 26.8 */
/* Register-form instruction information, Table 28-14: Reg1 RAX, bit 10, Reg2 RDX. */
#define II_RW_REG_RAX_RDX     ((0u << 3) | (1u << 10) | (2u << 28))
#define II_MASK_RW_REG        0xf0000478u

/* Scratch pages: 0 the shadow VMCS, 1 the VMREAD bitmap, 2 the VMWRITE bitmap, 3 L2's
 * flags word. */
enum { PAGE_SHADOW, PAGE_READ_BITMAP, PAGE_WRITE_BITMAP, PAGE_DATA };

/* L2: RAX = the field (or 77h where the instruction fails); RFLAGS after it at [RDI],
 * RAX at [RDI + 8]. */
MHV_L2_ASM(l2_vmread, "mov $0x77, %eax\n\tmov $0x6824, %edx\n\tvmread %rdx, %rax\n\t"
		      "pushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)\n\tmov %rax, 8(%rdi)"); /* 10, 3 */
MHV_L2_ASM(l2_vmwrite, "movabs $0x0123456789abcdef, %rax\n\tmov $0x6824, %edx\n\t"
		       "vmwrite %rax, %rdx\n\tpushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)"); /* 15, 3 */
MHV_L2_ASM(l2_vmread_high, "mov $0x77, %eax\n\tmov $0xe824, %edx\n\tvmread %rdx, %rax\n\t"
			   "pushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)\n\tmov %rax, 8(%rdi)"); /* 10, 3 */
MHV_L2_ASM(l2_vmread_unsupported, "mov $0x77, %eax\n\tmov $0x6ffe, %edx\n\tvmread %rdx, %rax\n\t"
				  "pushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)\n\tmov %rax, 8(%rdi)");
#define L2_VMREAD_OFFSET 10
#define L2_VMWRITE_OFFSET 15
#define L2_INSN_LEN 3

static uint64_t proc2_allowed1(void)
{
	uint64_t proc = rdmsr((rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS)
				      ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	if (!((proc >> 32) & PROC_SECONDARY))
		return 0;
	return rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
}

static enum probe_status shadow_start_with(struct probe_run *run, struct mhv_vm **vm, unsigned options)
{
	MHV_START(run, *vm, MHV_MODE_LONG, options);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMCS shadowing"));
	uint64_t proc2 = proc2_allowed1();
	if (!(proc2 & PROC2_VMCS_SHADOWING))
		return probe_skip(run, "no 'VMCS shadowing' (IA32_VMX_PROCBASED_CTLS2 allowed-1 = %#llx, "
				  "bit 14 clear)", (unsigned long long)proc2);
	if (!(vmread(VMCS_PROC_CONTROLS) & PROC_SECONDARY))
		return probe_fail(run, "the mini-hypervisor left 'activate secondary controls' 0");
	return PROBE_PASS;
}

static enum probe_status shadow_start(struct probe_run *run, struct mhv_vm **vm)
{
	return shadow_start_with(run, vm, 0);
}

static uint64_t page_pa(unsigned n)
{
	return (uint64_t)mhv_scratch_page(n);
}

/* A VMCS region (shadow or ordinary) at scratch page 0 holding SHADOW_VALUE in
 * SHADOW_FIELD; vm's VMCS is current again afterwards. */
static enum probe_status make_linked_vmcs(struct probe_run *run, struct mhv_vm *vm, bool shadow)
{
	uint32_t *region = mhv_scratch_page(PAGE_SHADOW);
	region[0] = mhv_vmx_revision() | (shadow ? SHADOW_INDICATOR : 0);
	uint64_t pa = page_pa(PAGE_SHADOW);
	if (vmclear(pa) != VMX_OK)
		return probe_fail(run, "VMCLEAR of the %s VMCS failed", shadow ? "shadow" : "linked");
	enum vmx_result r = vmptrld(pa);
	if (r != VMX_OK)
		return probe_fail(run, "VMPTRLD of a %s VMCS (revision %#x): expected VMsucceed, observed %s",
				  shadow ? "shadow" : "linked", region[0],
				  r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
	r = vmwrite_checked(SHADOW_FIELD, SHADOW_VALUE);
	if (vmptrld(vm->vmcs_pa) != VMX_OK)
		return probe_fail(run, "VMPTRLD of the mini-hypervisor's VMCS failed");
	if (r != VMX_OK)
		return probe_fail(run, "VMWRITE of field %#x into the %s VMCS failed", SHADOW_FIELD,
				  shadow ? "shadow" : "linked");
	return PROBE_PASS;
}

/* "VMCS shadowing" on, both bitmaps clear, the link pointer at scratch page 0. */
static void enable_shadowing(uint64_t link)
{
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMREAD_BITMAP, page_pa(PAGE_READ_BITMAP));
	vmwrite(VMCS_VMWRITE_BITMAP, page_pa(PAGE_WRITE_BITMAP));
	vmwrite(VMCS_LINK_POINTER, link);
}

static void set_bitmap_bit(unsigned page, uint32_t encoding)
{
	uint8_t *bitmap = mhv_scratch_page(page);
	bitmap[encoding >> 3] |= (uint8_t)(1u << (encoding & 7));
}

/* The field as the shadow VMCS holds it (VMPTRLD of it, VMREAD, back). */
static uint64_t shadow_field(struct mhv_vm *vm)
{
	uint64_t value = 0;
	vmptrld(page_pa(PAGE_SHADOW));
	vmread_checked(SHADOW_FIELD, &value);
	vmptrld(vm->vmcs_pa);
	return value;
}

static enum probe_status setup_with(struct probe_run *run, struct mhv_vm **vm, unsigned options)
{
	MHV_CHECK(shadow_start_with(run, vm, options));
	MHV_CHECK(make_linked_vmcs(run, *vm, true));
	enable_shadowing(page_pa(PAGE_SHADOW));
	return PROBE_PASS;
}

static enum probe_status setup(struct probe_run *run, struct mhv_vm **vm)
{
	return setup_with(run, vm, 0);
}

static enum probe_status run_to_done(struct probe_run *run, struct mhv_vm *vm, const char *what)
{
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(what, &e);
	return mhv_expect_done(run, &e);
}

static enum probe_status shadow_vmread(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	*flags = ~0ull;
	mhv_l2_call(vm, l2_vmread, (void *)flags);
	MHV_CHECK(run_to_done(run, vm, "L2's VMREAD of the shadow VMCS"));
	EXPECT_EQ(run, "L2's VMREAD of field 6824h from the shadow VMCS", SHADOW_VALUE, flags[1]);
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after it (VMsucceed)", 0, *flags & RFLAGS_ARITH);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-vmread", shadow_vmread);

static enum probe_status shadow_vmwrite(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	uint64_t own = vmread(SHADOW_FIELD);
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	*flags = ~0ull;
	mhv_l2_call(vm, l2_vmwrite, (void *)flags);
	MHV_CHECK(run_to_done(run, vm, "L2's VMWRITE of the shadow VMCS"));
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after it (VMsucceed)", 0, *flags & RFLAGS_ARITH);
	EXPECT_EQ(run, "field 6824h of the shadow VMCS after L2's VMWRITE", L2_VALUE, shadow_field(vm));
	EXPECT_EQ(run, "field 6824h of L1's own VMCS (not the one written)", own, vmread(SHADOW_FIELD));
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-vmwrite", shadow_vmwrite);

static enum probe_status expect_exit(struct probe_run *run, const struct mhv_exit *e, uint32_t reason,
				     uint64_t rip)
{
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", reason, e->reason);
	EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	EXPECT_EQ(run, "VMX VM-exit instruction length", L2_INSN_LEN, e->insn_len);
	EXPECT_EQ(run, "VMX VM-exit instruction information (register form, Reg1 RAX, Reg2 RDX)",
		  II_RW_REG_RAX_RDX, e->insn_info & II_MASK_RW_REG);
	return mhv_expect_no_vectoring(run, e);
}

static enum probe_status bitmap_exit(struct probe_run *run, bool write)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	set_bitmap_bit(write ? PAGE_WRITE_BITMAP : PAGE_READ_BITMAP, SHADOW_FIELD);
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	void (*code)(void *) = write ? l2_vmwrite : l2_vmread;
	mhv_l2_call(vm, code, (void *)flags);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(write ? "L2's VMWRITE with its VMWRITE-bitmap bit set" :
			      "L2's VMREAD with its VMREAD-bitmap bit set", &e);
	MHV_CHECK(expect_exit(run, &e, write ? VMX_EXIT_VMWRITE : VMX_EXIT_VMREAD,
			      (uint64_t)code + (write ? L2_VMWRITE_OFFSET : L2_VMREAD_OFFSET)));
	mhv_advance_rip(vm, L2_INSN_LEN);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "field 6824h of the shadow VMCS (untouched)", SHADOW_VALUE, shadow_field(vm));
	return PROBE_PASS;
}

static enum probe_status vmread_bitmap_exit(struct probe_run *run)
{
	return bitmap_exit(run, false);
}
PROBE("vminsn/vmcs-shadow-vmread-bitmap-exit", vmread_bitmap_exit);

static enum probe_status vmwrite_bitmap_exit(struct probe_run *run)
{
	return bitmap_exit(run, true);
}
PROBE("vminsn/vmcs-shadow-vmwrite-bitmap-exit", vmwrite_bitmap_exit);

/* Encoding E824h: bit 15 set, bits 14:0 the field; its bitmap bit is clear. */
static enum probe_status encoding_high_bits(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	mhv_l2_call(vm, l2_vmread_high, mhv_scratch_page(PAGE_DATA));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMREAD of encoding E824h (bit 15 set)", &e);
	MHV_CHECK(expect_exit(run, &e, VMX_EXIT_VMREAD, (uint64_t)l2_vmread_high + L2_VMREAD_OFFSET));
	mhv_advance_rip(vm, L2_INSN_LEN);
	return mhv_run_expect_done(run, vm);
}
PROBE("vminsn/vmcs-shadow-encoding-high-bits-exit", encoding_high_bits);

static enum probe_status link_all_ones(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	*flags = 0;
	mhv_l2_call(vm, l2_vmread, (void *)flags);
	MHV_CHECK(run_to_done(run, vm, "L2's VMREAD with the link pointer all ones"));
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after it (VMfailInvalid: CF)", RFLAGS_CF,
		  *flags & RFLAGS_ARITH);
	EXPECT_EQ(run, "L2's RAX (the destination, unchanged)", 0x77, flags[1]);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-link-all-ones-failinvalid", link_all_ones);

static enum probe_status unsupported_field(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	*flags = 0;
	mhv_l2_call(vm, l2_vmread_unsupported, (void *)flags);
	MHV_CHECK(run_to_done(run, vm, "L2's VMREAD of field 6FFEh"));
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after it (VMfailValid: ZF)", RFLAGS_ZF,
		  *flags & RFLAGS_ARITH);
	EXPECT_EQ(run, "VM-instruction error in L1's current VMCS", VMXERR_UNSUPPORTED_FIELD,
		  vmread(VMCS_VM_INSN_ERROR));
	EXPECT_EQ(run, "L2's RAX (the destination, unchanged)", 0x77, flags[1]);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-unsupported-field", unsupported_field);

MHV_L2_ASM(l2_cpuid, "cpuid");

/* After a failed VMLAUNCH these probes leave no current VMCS: bare, a later VMCALL in
 * VMX root operation with a clear current VMCS would be the dual-monitor activation,
 * which Bochs 2.7 does not implement (it stops the emulator). */
static enum probe_status vmlaunch_shadow(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(shadow_start(run, &vm));
	MHV_CHECK(make_linked_vmcs(run, vm, true));
	mhv_l2_call(vm, l2_cpuid, NULL);
	enum vmx_result r = vmptrld(page_pa(PAGE_SHADOW));
	if (r != VMX_OK)
		return probe_fail(run, "VMPTRLD of a shadow VMCS: expected VMsucceed, observed %s",
				  r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
	struct mhv_exit e;
	mhv_run(vm, &e); /* VMLAUNCH with the shadow VMCS current */
	vmclear(page_pa(PAGE_SHADOW));
	mhv_diag_exit("VMLAUNCH of a shadow VMCS", &e);
	if (e.kind != MHV_EXIT_VMFAIL || e.vmfail != VMX_FAIL_INVALID)
		return probe_fail(run, "VMLAUNCH of a shadow VMCS: expected VMfailInvalid, observed %s "
				  "(VM-instruction error %u)", e.kind == MHV_EXIT_VMFAIL ?
				  (e.vmfail == VMX_FAIL_VALID ? "VMfailValid" : "?") :
				  mhv_exit_kind_name(e.kind), e.vm_insn_error);
	return PROBE_PASS;
}
PROBE("vminsn/vmlaunch-shadow-vmcs-fails", vmlaunch_shadow);

static enum probe_status expect_link_failure(struct probe_run *run, struct mhv_vm *vm, const char *what)
{
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit(what, &e);
	mhv_exit_asserted(MHV_VENDOR_VMX, INVALID_GUEST_STATE);
	if (e.kind != MHV_EXIT_INVALID_STATE)
		return probe_fail(run, "%s: expected VM-entry failure 33, observed %s", what,
				  mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "exit reason", VMX_EXIT_ENTRY_FAILURE | INVALID_GUEST_STATE, e.reason);
	EXPECT_EQ(run, "exit qualification (VMCS link pointer)", QUAL_LINK_POINTER, e.qualification);
	return PROBE_PASS;
}

static enum probe_status link_indicator(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(shadow_start(run, &vm));
	mhv_l2_call(vm, l2_cpuid, NULL);
	/* shadowing on, the linked VMCS an ordinary one */
	MHV_CHECK(make_linked_vmcs(run, vm, false));
	enable_shadowing(page_pa(PAGE_SHADOW));
	MHV_CHECK(expect_link_failure(run, vm, "VMLAUNCH, shadowing on, linked VMCS bit 31 = 0"));
	/* shadowing off, the linked VMCS a shadow one */
	MHV_CHECK(make_linked_vmcs(run, vm, true));
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_VMCS_SHADOWING);
	enum probe_status st = expect_link_failure(run, vm, "VMLAUNCH, shadowing off, linked VMCS bit 31 = 1");
	vmclear(vm->vmcs_pa); /* no clear current VMCS left behind (vmlaunch_shadow) */
	return st;
}
PROBE("entry/vmcs-link-shadow-indicator", link_indicator);

static enum probe_status bitmap_unaligned(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	vmwrite(VMCS_VMREAD_BITMAP, page_pa(PAGE_READ_BITMAP) + 8);
	mhv_l2_call(vm, l2_cpuid, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("VMLAUNCH with the VMREAD bitmap at a page + 8", &e);
	vmclear(vm->vmcs_pa); /* no clear current VMCS left behind (vmlaunch_shadow) */
	if (e.kind != MHV_EXIT_VMFAIL || e.vmfail != VMX_FAIL_VALID)
		return probe_fail(run, "VMLAUNCH with an unaligned VMREAD bitmap: expected VMfailValid 7, "
				  "observed %s", mhv_exit_kind_name(e.kind));
	EXPECT_EQ(run, "VM-instruction error", VMXERR_ENTRY_INVALID_CONTROL, e.vm_insn_error);
	return PROBE_PASS;
}
PROBE("entry/vmcs-shadow-bitmap-unaligned", bitmap_unaligned);

/* The memory forms: VMREAD to [RDI + 8], VMWRITE from [RDI + 16] (a nested layer that
 * emulates them walks L2's paging for the operand). */
MHV_L2_ASM(l2_vmread_vmwrite_memory, "mov $0x6824, %edx\n\tvmread %rdx, 8(%rdi)\n\t"
				     "pushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)\n\t"
				     "mov $0x6826, %edx\n\tvmwrite 16(%rdi), %rdx\n\t"
				     "pushfq\n\tpop %rcx\n\tmov %rcx, 24(%rdi)");

static enum probe_status memory_operands(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	volatile uint64_t *data = mhv_scratch_page(PAGE_DATA);
	data[0] = ~0ull;
	data[1] = 0;
	data[2] = L2_VALUE;
	data[3] = ~0ull;
	mhv_l2_call(vm, l2_vmread_vmwrite_memory, (void *)data);
	MHV_CHECK(run_to_done(run, vm, "L2's VMREAD and VMWRITE with memory operands"));
	EXPECT_EQ(run, "L2's VMREAD of field 6824h into memory", SHADOW_VALUE, data[1]);
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after the VMREAD", 0, data[0] & RFLAGS_ARITH);
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF after the VMWRITE", 0, data[3] & RFLAGS_ARITH);
	uint64_t value = 0;
	vmptrld(page_pa(PAGE_SHADOW));
	vmread_checked(VMCS_GUEST_SYSENTER_EIP, &value);
	vmptrld(vm->vmcs_pa);
	EXPECT_EQ(run, "field 6826h of the shadow VMCS after L2's VMWRITE from memory", L2_VALUE, value);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-memory-operands", memory_operands);

/* L2's VMREAD to a linear address its paging does not map (above the 4 GiB identity
 * map): #PF with error code 2 (write, not present) at the VMREAD, SDM vol.2B VMREAD
 * "Protected Mode Exceptions". With L1's exception bitmap bit 14 it is exit 0 with the
 * address as qualification (25.2, 28.2.1); without it L2's IDT gets it with CR2. */
#define UNMAPPED 0x112345678ull
#define PF_WRITE_NOT_PRESENT 2u
MHV_L2_ASM(l2_vmread_unmapped, "mov $0x6824, %edx\n\tmovabs $0x112345678, %rdi\n\tvmread %rdx, (%rdi)"); /* 15 */
#define L2_UNMAPPED_OFFSET 15

static enum probe_status vmread_memory_pf(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	mhv_intercept_exception(vm, EXC_PF, true);
	mhv_l2_call(vm, l2_vmread_unmapped, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMREAD to an unmapped address, #PF intercepted", &e);
	uint64_t rip = (uint64_t)l2_vmread_unmapped + L2_UNMAPPED_OFFSET;
	MHV_CHECK(mhv_expect_exception(run, &e, EXC_PF, true, PF_WRITE_NOT_PRESENT, rip));
	EXPECT_EQ(run, "VMX exit qualification (the faulting address)", UNMAPPED, e.qualification);

	MHV_CHECK(setup(run, &vm));
	mhv_l2_call(vm, l2_vmread_unmapped, NULL);
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMREAD to an unmapped address, #PF to L2", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector delivered in L2", EXC_PF, mhv_l2_event.vector);
	EXPECT_EQ(run, "error code delivered in L2", PF_WRITE_NOT_PRESENT, mhv_l2_event.error_code);
	EXPECT_EQ(run, "RIP of the #PF", rip, mhv_l2_event.rip);
	EXPECT_EQ(run, "L2's CR2", UNMAPPED, mhv_l2_event.cr2);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-vmread-memory-pf", vmread_memory_pf);

/* L2's VMREAD to memory L1's EPT maps read-only: EPT violation (exit 48) with the
 * qualification of a write to a readable page (bits 1, 3, 7, 8: 28.2.1 Table 28-7), the
 * guest-physical and guest-linear address of the store, RIP at the VMREAD. */
MHV_L2_ASM(l2_vmread_store, "mov $0x6824, %edx\n\tvmread %rdx, 0x128(%rdi)"); /* 5 */
#define EPT_STORE_OFFSET 0x128

static enum probe_status vmread_memory_ept(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup_with(run, &vm, MHV_TDP));
	uint64_t pa = page_pa(PAGE_DATA);
	MHV_CHECK(mhv_tdp_set(run, vm, pa, TDP_R));
	mhv_l2_call(vm, l2_vmread_store, (void *)pa);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2's VMREAD to a page L1's EPT maps read-only", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_TDP_FAULT));
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_vmread_store + 5, e.rip);
	EXPECT_EQ(run, "VMX exit qualification (EPT violation: write, readable, linear, final)",
		  VMX_EPT_QUAL_WRITE | VMX_EPT_QUAL_READABLE | VMX_EPT_QUAL_LINEAR_VALID | VMX_EPT_QUAL_FINAL,
		  e.qualification & ~VMX_EPT_QUAL_NMI_UNBLOCK);
	EXPECT_EQ(run, "VMX guest-physical address", pa + EPT_STORE_OFFSET, e.guest_physical);
	EXPECT_EQ(run, "VMX guest-linear address", pa + EPT_STORE_OFFSET, e.guest_linear);
	EXPECT_EQ(run, "the read-only page (not written)", 0, *(volatile uint64_t *)(pa + EPT_STORE_OFFSET));
	return mhv_tdp_set(run, vm, pa, TDP_RWX);
}
PROBE("vminsn/vmcs-shadow-vmread-memory-ept-violation", vmread_memory_ept);

/* L2's VMWRITE of an exit-information field (the exit reason, 4402h) in the shadow
 * VMCS: VMsucceed where IA32_VMX_MISC[29] allows it, else VMfailValid 13 in L1's
 * current VMCS (vol.2B VMWRITE; vol.3D A.6). */
MHV_L2_ASM(l2_vmwrite_exit_reason, "mov $0x4402, %edx\n\tmov $0x1234, %eax\n\tvmwrite %rax, %rdx\n\t"
				   "pushfq\n\tpop %rcx\n\tmov %rcx, (%rdi)");

static enum probe_status vmwrite_exit_info(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(setup(run, &vm));
	bool any = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY;
	volatile uint64_t *flags = mhv_scratch_page(PAGE_DATA);
	*flags = ~0ull;
	mhv_l2_call(vm, l2_vmwrite_exit_reason, (void *)flags);
	MHV_CHECK(run_to_done(run, vm, "L2's VMWRITE of the shadow VMCS's exit reason"));
	if (!any) {
		EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF (VMfailValid, IA32_VMX_MISC[29] = 0)", RFLAGS_ZF,
			  *flags & RFLAGS_ARITH);
		EXPECT_EQ(run, "VM-instruction error in L1's current VMCS", VMXERR_VMWRITE_READONLY,
			  vmread(VMCS_VM_INSN_ERROR));
		return PROBE_PASS;
	}
	EXPECT_EQ(run, "L2's RFLAGS CF/PF/AF/ZF/SF/OF (VMsucceed, IA32_VMX_MISC[29] = 1)", 0, *flags & RFLAGS_ARITH);
	uint64_t value = 0;
	vmptrld(page_pa(PAGE_SHADOW));
	vmread_checked(VMCS_EXIT_REASON, &value);
	vmptrld(vm->vmcs_pa);
	EXPECT_EQ(run, "the shadow VMCS's exit reason after L2's VMWRITE", 0x1234, value);
	return PROBE_PASS;
}
PROBE("vminsn/vmcs-shadow-vmwrite-exit-info", vmwrite_exit_info);
