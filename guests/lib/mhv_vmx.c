/* The mini-hypervisor's VT-x half: IA32_FEATURE_CONTROL, the CR0/CR4 fixed bits,
 * VMXON, a VMCS per VM, EPT, the controls, I/O and MSR bitmaps, event injection.
 * SDM vol.3C chapters 24-29, vol.3D appendix A. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/layout.h"
#include "lib/mhv_backend.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define MSR_IA32_SYSENTER_CS  0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_FS_BASE           0xc0000100u
#define MSR_GS_BASE           0xc0000101u
#define CPUID_1_ECX_MONITOR   (1u << 3)
#define CPUID_1_ECX_XSAVE     (1u << 26)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_7_EBX_INVPCID   (1u << 10)

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_region[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmaps[2][4096] __attribute__((aligned(4096))); /* A: 0-7fff, B: 8000-ffff */
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));

/* Allowed settings: low 32 bits must-be-one, high 32 bits may-be-one (SDM vol.3D A.3). */
static struct {
	uint64_t basic, pin, proc, proc2, exit, entry, misc, ept_vpid;
	uint32_t revision;
} caps;

uint32_t mhv_vmx_revision(void)
{
	return caps.revision;
}

uint64_t mhv_vmx_vmxon_pa(void)
{
	return (uint64_t)vmxon_region;
}

static uint32_t adjust(uint64_t cap, uint32_t wanted)
{
	return (wanted | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static bool allowed(uint64_t cap, uint32_t bits)
{
	return ((uint32_t)(cap >> 32) & bits) == bits;
}

/* IA32_FEATURE_CONTROL locked with VMX outside SMX (locking it if the firmware did not),
 * CR0/CR4 within the fixed bits with CR4.VMXE, VMXON with region (SDM vol.3C 24.7,
 * 24.8): on the calling CPU. */
static enum probe_status vmx_on(struct probe_run *run, uint8_t *region)
{
	uint64_t fc;
	if (!rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc))
		return probe_fail(run, "RDMSR IA32_FEATURE_CONTROL raised #GP");
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	}
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return probe_skip(run, "VMX disabled by the firmware (IA32_FEATURE_CONTROL = %#llx: "
				  "locked without VMX outside SMX)", (unsigned long long)fc);

	uint64_t cr0 = read_cr0();
	cr0 = (cr0 | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0) : "memory");
	uint64_t cr4 = read_cr4() | CR4_VMXE;
	cr4 = (cr4 | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4) : "memory");

	memset(region, 0, 4096);
	memcpy(region, &caps.revision, sizeof(caps.revision));
	enum vmx_result r = vmxon((uint64_t)region);
	if (r != VMX_OK)
		return probe_fail(run, "VMXON failed (%s) with CR0 %#llx CR4 %#llx, "
				  "IA32_FEATURE_CONTROL %#llx",
				  r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid",
				  (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
				  (unsigned long long)fc);
	return PROBE_PASS;
}

static enum probe_status vmx_enable(struct probe_run *run)
{
	caps.basic = rdmsr(MSR_IA32_VMX_BASIC);
	caps.revision = caps.basic & VMX_BASIC_REVISION_MASK;
	bool true_ctls = caps.basic & VMX_BASIC_TRUE_CONTROLS;
	caps.pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	caps.proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
				    : MSR_IA32_VMX_PROCBASED_CTLS);
	caps.exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	caps.entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	if (allowed(caps.proc, PROC_SECONDARY)) {
		caps.proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (allowed(caps.proc2, PROC2_EPT | PROC2_VPID) ||
		    allowed(caps.proc2, PROC2_EPT) || allowed(caps.proc2, PROC2_VPID))
			caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	enum probe_status status = vmx_on(run, vmxon_region);
	if (status != PROBE_PASS)
		return status;
	diag("VMX: basic %#llx pin %#llx proc %#llx proc2 %#llx exit %#llx entry %#llx "
	     "EPT/VPID %#llx", (unsigned long long)caps.basic, (unsigned long long)caps.pin,
	     (unsigned long long)caps.proc, (unsigned long long)caps.proc2,
	     (unsigned long long)caps.exit, (unsigned long long)caps.entry,
	     (unsigned long long)caps.ept_vpid);
	return PROBE_PASS;
}

static enum probe_status vmx_enable_cpu(struct probe_run *run, uint8_t *region)
{
	return vmx_on(run, region);
}

/* VMXOFF needs no current VMCS to be dirty; INIT is blocked in VMX root operation
 * (SDM vol.3C 24.8), so a CPU leaves it before anyone restarts it. */
static void vmx_disable_cpu(struct mhv_vm *vm)
{
	if (vm)
		vmclear(vm->vmcs_pa);
	vmxoff();
	__asm__ volatile("mov %0, %%cr4" ::"r"(read_cr4() & ~CR4_VMXE) : "memory");
}

/* A VMCS is current on one CPU at a time: VMCLEAR it here before another CPU loads it
 * (SDM vol.3C 25.11.1). */
static void vmx_release(void)
{
	uint64_t pa = ~0ull;
	if (vmptrst(&pa) == VMX_OK && pa != ~0ull)
		vmclear(pa);
}

static bool has_ept(void)
{
	return allowed(caps.proc2, PROC2_EPT) &&
	       (caps.ept_vpid & (EPT_CAP_WALK4 | EPT_CAP_WB)) == (EPT_CAP_WALK4 | EPT_CAP_WB);
}

static bool vmx_has(enum mhv_feature feature)
{
	switch (feature) {
	case MHV_FEATURE_TDP: return has_ept();
	case MHV_FEATURE_NEXT_RIP: return true;
	case MHV_FEATURE_DECODE_ASSISTS: return false;
	case MHV_FEATURE_UNRESTRICTED: return has_ept() && allowed(caps.proc2, PROC2_UNRESTRICTED);
	case MHV_FEATURE_RDTSCP:
		return allowed(caps.proc2, PROC2_RDTSCP) &&
		       (cpuid(CPUID_LEAF_EXT_FEATURES).edx & CPUID_80000001_EDX_RDTSCP);
	case MHV_FEATURE_XSAVE: return cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_XSAVE;
	case MHV_FEATURE_MONITOR: return cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_MONITOR;
	case MHV_FEATURE_INSN_INFO: return caps.basic & VMX_BASIC_INS_OUTS_INFO;
	case MHV_FEATURE_VGIF: return false;
	case MHV_FEATURE_VMCB_CLEAN: return false;
	}
	return false;
}

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* The base of this CPU's TSS, from its GDT (each CPU has its own: lib/smp.c). */
static uint64_t tss_base(void)
{
	struct descriptor_pointer gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	const uint64_t *gdt = (const uint64_t *)gdtr.base;
	uint64_t low = gdt[GDT_TSS_INDEX], high = gdt[GDT_TSS_INDEX + 1];
	return ((low >> 16) & 0xffffff) | (((low >> 56) & 0xff) << 24) | (high << 32);
}

static void write_host_state(void)
{
	struct descriptor_pointer gdtr, idtr;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, GDT_CODE64);
	vmwrite(VMCS_HOST_SS_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_DS_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_ES_SEL, GDT_DATA);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tss_base());
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
}

static void write_segment(unsigned index, uint16_t selector, uint64_t base, uint32_t limit,
			  uint32_t ar)
{
	/* Selector, limit, access rights and base fields are in the same order for ES..GS,
	 * LDTR, TR: each encoding steps by 2 (SDM vol.3D B.1.2, B.3.3, B.4.3). */
	vmwrite(VMCS_GUEST_ES_SEL + 2 * index, selector);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * index, base);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * index, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * index, ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static void write_guest_state(enum mhv_mode mode)
{
	struct descriptor_pointer gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	uint64_t cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	uint64_t cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);

	if (mode == MHV_MODE_LONG) {
		vmwrite(VMCS_GUEST_CR0, read_cr0());
		vmwrite(VMCS_GUEST_CR3, read_cr3());
		vmwrite(VMCS_GUEST_CR4, read_cr4());
		vmwrite(VMCS_GUEST_EFER, rdmsr(MSR_EFER));
		write_segment(SEG_CS, GDT_CODE64, 0, 0xffffffff, VMX_AR_CODE64);
		write_segment(SEG_SS, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
		write_segment(SEG_DS, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
		write_segment(SEG_ES, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
		vmwrite(VMCS_GUEST_GDTR_BASE, gdtr.base);
		vmwrite(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
		vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)mhv_l2_idt);
		vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(mhv_l2_idt) - 1);
	} else {
		/* Unrestricted guest: PE and PG may be 0 (SDM vol.3C 27.3.1.1). */
		uint64_t cr0 = (cr0_fixed0 & ~0x80000001ull) | 0x10; /* + ET */
		if (mode == MHV_MODE_PROT32) {
			cr0 |= 1; /* PE */
			write_segment(SEG_CS, GDT_CODE32, 0, 0xffffffff, VMX_AR_CODE32);
			write_segment(SEG_SS, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
			write_segment(SEG_DS, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
			write_segment(SEG_ES, GDT_DATA, 0, 0xffffffff, VMX_AR_DATA32);
			vmwrite(VMCS_GUEST_GDTR_BASE, gdtr.base);
			vmwrite(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
		} else {
			write_segment(SEG_CS, 0, 0, 0xffff, VMX_AR_CODE16);
			write_segment(SEG_SS, 0, 0, 0xffff, VMX_AR_DATA16);
			write_segment(SEG_DS, 0, 0, 0xffff, VMX_AR_DATA16);
			write_segment(SEG_ES, 0, 0, 0xffff, VMX_AR_DATA16);
			vmwrite(VMCS_GUEST_GDTR_BASE, 0);
			vmwrite(VMCS_GUEST_GDTR_LIMIT, 0);
		}
		vmwrite(VMCS_GUEST_CR0, cr0);
		vmwrite(VMCS_GUEST_CR3, 0);
		vmwrite(VMCS_GUEST_CR4, cr4_fixed0);
		vmwrite(VMCS_GUEST_EFER, 0);
		vmwrite(VMCS_GUEST_IDTR_BASE, 0);
		vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	}
	write_segment(SEG_FS, 0, 0, 0, VMX_AR_UNUSABLE);
	write_segment(SEG_GS, 0, 0, 0, VMX_AR_UNUSABLE);
	write_segment(SEG_LDTR, 0, 0, 0, VMX_AR_UNUSABLE);
	write_segment(SEG_TR, GDT_TSS, tss_base(), 0x67, VMX_AR_TSS64_BUSY);
	vmwrite(VMCS_CR0_SHADOW, vmread(VMCS_GUEST_CR0));
	vmwrite(VMCS_CR4_SHADOW, vmread(VMCS_GUEST_CR4));
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DEBUG, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
}

static enum probe_status vmx_vm_init(struct probe_run *run, struct mhv_vm *vm)
{
	memset(vmcs_region, 0, sizeof(vmcs_region));
	memcpy(vmcs_region, &caps.revision, sizeof(caps.revision));
	memset(io_bitmaps, 0, sizeof(io_bitmaps));
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	vm->vmcs_pa = (uint64_t)vmcs_region;
	if (vmclear(vm->vmcs_pa) != VMX_OK || vmptrld(vm->vmcs_pa) != VMX_OK)
		return probe_fail(run, "VMCLEAR/VMPTRLD of a fresh VMCS failed (VM-instruction "
				  "error %llu)", (unsigned long long)vmread(VMCS_VM_INSN_ERROR));

	bool tdp = vm->options & MHV_TDP;
	uint32_t proc2 = 0;
	if (tdp)
		proc2 |= PROC2_EPT;
	if (vm->mode != MHV_MODE_LONG)
		proc2 |= PROC2_UNRESTRICTED;
	if (vmx_has(MHV_FEATURE_RDTSCP))
		proc2 |= PROC2_RDTSCP;
	if (cpuid_subleaf(7, 0).ebx & CPUID_7_EBX_INVPCID)
		proc2 |= PROC2_INVPCID;
	proc2 |= PROC2_XSAVES;
	uint32_t proc = PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS;
	if (allowed(caps.proc, PROC_SECONDARY))
		proc |= PROC_SECONDARY;

	vmwrite(VMCS_PIN_CONTROLS, adjust(caps.pin, 0));
	vmwrite(VMCS_PROC_CONTROLS, adjust(caps.proc, proc));
	if (proc & PROC_SECONDARY)
		vmwrite(VMCS_PROC2_CONTROLS, adjust(caps.proc2, proc2));
	vmwrite(VMCS_EXIT_CONTROLS, adjust(caps.exit, EXIT_HOST_LONG_MODE | EXIT_SAVE_EFER |
						      EXIT_LOAD_EFER));
	vmwrite(VMCS_ENTRY_CONTROLS, adjust(caps.entry, (vm->mode == MHV_MODE_LONG ?
							  ENTRY_IA32E_GUEST : 0) | ENTRY_LOAD_EFER));
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_PF_ERROR_MASK, 0);
	vmwrite(VMCS_PF_ERROR_MATCH, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)io_bitmaps[0]);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)io_bitmaps[1]);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(VMCS_CR0_MASK, 0);
	vmwrite(VMCS_CR4_MASK, 0);
	vmwrite(VMCS_TSC_OFFSET, 0);
	if (tdp) {
		vm->eptp = tdp_root_pa(&mhv_tdp) | EPTP_WB | EPTP_WALK4;
		vmwrite(VMCS_EPTP, vm->eptp);
	}
	write_host_state();
	write_guest_state(vm->mode);
	vm->launched = false;
	return PROBE_PASS;
}

static void flush_ept(struct mhv_vm *vm)
{
	if (!(caps.ept_vpid & EPT_CAP_INVEPT))
		return;
	if (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE, vm->eptp);
	else if (caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL, 0);
}

static void vmx_run(struct mhv_vm *vm, struct mhv_exit *e)
{
	if (vm->tlb_dirty && (vm->options & MHV_TDP))
		flush_ept(vm);
	vm->tlb_dirty = false;

	int rc = mhv_vmx_enter(&vm->regs, vm->launched);

	e->rax = vm->regs.rax;
	if (rc) {
		e->vmfail = rc;
		e->vm_insn_error = rc == VMX_FAIL_VALID ? (uint32_t)vmread(VMCS_VM_INSN_ERROR) : 0;
		e->rip = vmread(VMCS_GUEST_RIP);
		mhv_decode_vmx(e);
		return;
	}
	e->reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	if (!(e->reason & VMX_EXIT_ENTRY_FAILURE))
		vm->launched = true;
	e->qualification = vmread(VMCS_EXIT_QUALIFICATION);
	e->guest_physical = vmread(VMCS_GUEST_PHYSICAL_ADDR);
	e->guest_linear = vmread(VMCS_GUEST_LINEAR_ADDR);
	e->insn_len = (uint32_t)vmread(VMCS_EXIT_INSN_LEN);
	e->insn_info = (uint32_t)vmread(VMCS_EXIT_INSN_INFO);
	e->intr_info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	e->intr_error = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
	e->idt_vectoring_info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	e->idt_vectoring_error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR);
	e->rip = vmread(VMCS_GUEST_RIP);
	e->rsp = vmread(VMCS_GUEST_RSP);
	e->rflags = vmread(VMCS_GUEST_RFLAGS);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	mhv_decode_vmx(e);
}

static uint64_t reg_field(enum mhv_reg reg)
{
	switch (reg) {
	case MHV_REG_RIP: return VMCS_GUEST_RIP;
	case MHV_REG_RSP: return VMCS_GUEST_RSP;
	case MHV_REG_RFLAGS: return VMCS_GUEST_RFLAGS;
	case MHV_REG_CR0: return VMCS_GUEST_CR0;
	case MHV_REG_CR3: return VMCS_GUEST_CR3;
	case MHV_REG_CR4: return VMCS_GUEST_CR4;
	case MHV_REG_EFER: return VMCS_GUEST_EFER;
	case MHV_REG_DR7: return VMCS_GUEST_DR7;
	case MHV_REG_CR2: break;
	}
	return VMCS_GUEST_RIP;
}

static uint64_t vmx_get(struct mhv_vm *vm, enum mhv_reg reg)
{
	(void)vm;
	return vmread(reg_field(reg));
}

static void vmx_set(struct mhv_vm *vm, enum mhv_reg reg, uint64_t value)
{
	(void)vm;
	vmwrite(reg_field(reg), value);
	if (reg == MHV_REG_CR0)
		vmwrite(VMCS_CR0_SHADOW, value);
	else if (reg == MHV_REG_CR4)
		vmwrite(VMCS_CR4_SHADOW, value);
}

static const char *set_control(uint64_t field, uint64_t cap, uint32_t bits, bool on)
{
	if (on && !allowed(cap, bits))
		return "the control is not supported (allowed-1 settings)";
	if (!on && ((uint32_t)cap & bits))
		return "the control is fixed to 1 (allowed-0 settings)";
	uint64_t value = vmread(field);
	vmwrite(field, on ? value | bits : value & ~(uint64_t)bits);
	return NULL;
}

static const char *proc2_control(uint32_t bits, bool on)
{
	if (!(vmread(VMCS_PROC_CONTROLS) & PROC_SECONDARY))
		return "no secondary processor-based controls";
	return set_control(VMCS_PROC2_CONTROLS, caps.proc2, bits, on);
}

static const char *always(bool on, const char *why)
{
	return on ? NULL : why;
}

static const char *vmx_intercept(struct mhv_vm *vm, enum mhv_intercept what, bool on)
{
	(void)vm;
	switch (what) {
	case MHV_INTERCEPT_CPUID:
		return always(on, "CPUID always exits in VMX non-root operation (SDM vol.3C 26.1.2)");
	case MHV_INTERCEPT_INVD:
		return always(on, "INVD always exits in VMX non-root operation (SDM vol.3C 26.1.2)");
	case MHV_INTERCEPT_XSETBV:
		return always(on, "XSETBV always exits in VMX non-root operation (SDM vol.3C 26.1.2)");
	case MHV_INTERCEPT_HYPERCALL:
		return always(on, "VMCALL always exits in VMX non-root operation (SDM vol.3C 26.1.2)");
	case MHV_INTERCEPT_SHUTDOWN:
		return always(on, "a triple fault always exits (SDM vol.3C 26.2)");
	case MHV_INTERCEPT_VM_INSN:
		return always(on, "VMX instructions always exit in VMX non-root operation");
	case MHV_INTERCEPT_HLT: return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_HLT_EXITING, on);
	case MHV_INTERCEPT_INVLPG:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_INVLPG_EXITING, on);
	case MHV_INTERCEPT_RDTSC:
	case MHV_INTERCEPT_RDTSCP:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_RDTSC_EXITING, on);
	case MHV_INTERCEPT_RDPMC:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_RDPMC_EXITING, on);
	case MHV_INTERCEPT_PAUSE:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_PAUSE_EXITING, on);
	case MHV_INTERCEPT_WBINVD: return proc2_control(PROC2_WBINVD_EXITING, on);
	case MHV_INTERCEPT_MONITOR:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_MONITOR_EXITING, on);
	case MHV_INTERCEPT_MWAIT:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_MWAIT_EXITING, on);
	case MHV_INTERCEPT_IO:
		if (!on && (uint32_t)caps.proc & PROC_UNCOND_IO_EXITING)
			return "unconditional I/O exiting is fixed to 1";
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_USE_IO_BITMAPS, on);
	case MHV_INTERCEPT_MSR:
		return always(on, "without MSR bitmaps every RDMSR/WRMSR exits (SDM vol.3C 26.1.3)");
	case MHV_INTERCEPT_CR0_READ:
	case MHV_INTERCEPT_CR4_READ:
		return "VMX has no exiting for MOV from CR0/CR4: host-owned bits read the read "
		       "shadow (SDM vol.3C 26.3)";
	case MHV_INTERCEPT_CR0_WRITE:
		vmwrite(VMCS_CR0_MASK, on ? ~0ull : 0);
		vmwrite(VMCS_CR0_SHADOW, vmread(VMCS_GUEST_CR0));
		return NULL;
	case MHV_INTERCEPT_CR4_WRITE:
		vmwrite(VMCS_CR4_MASK, on ? ~0ull : 0);
		vmwrite(VMCS_CR4_SHADOW, vmread(VMCS_GUEST_CR4));
		return NULL;
	case MHV_INTERCEPT_CR3_READ:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_CR3_STORE_EXITING, on);
	case MHV_INTERCEPT_CR3_WRITE:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_CR3_LOAD_EXITING, on);
	case MHV_INTERCEPT_CR8_READ:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_CR8_STORE_EXITING, on);
	case MHV_INTERCEPT_CR8_WRITE:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_CR8_LOAD_EXITING, on);
	case MHV_INTERCEPT_DR:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_MOV_DR_EXITING, on);
	case MHV_INTERCEPT_DESCRIPTOR: return proc2_control(PROC2_DESC_EXITING, on);
	case MHV_INTERCEPT_INTR:
		/* With "acknowledge interrupt on exit" where allowed: the vector comes in
		 * the VM-exit interruption information (SDM vol.3C 25.7.1). */
		if (allowed(caps.exit, EXIT_ACK_INTR))
			set_control(VMCS_EXIT_CONTROLS, caps.exit, EXIT_ACK_INTR, on);
		return set_control(VMCS_PIN_CONTROLS, caps.pin, PIN_EXTINT_EXITING, on);
	case MHV_INTERCEPT_NMI:
		return set_control(VMCS_PIN_CONTROLS, caps.pin, PIN_NMI_EXITING, on);
	case MHV_INTERCEPT_INTR_WINDOW:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_INTR_WINDOW, on);
	case MHV_INTERCEPT_NMI_WINDOW: {
		/* NMI-window exiting needs virtual NMIs, which need NMI exiting (SDM vol.3C
		 * 26.2.1.1); turning it off leaves those two on. */
		if (on && !allowed(caps.pin, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS))
			return "virtual NMIs are not supported (allowed-1 settings)";
		if (on && !allowed(caps.proc, PROC_NMI_WINDOW))
			return "NMI-window exiting is not supported (allowed-1 settings)";
		if (on)
			set_control(VMCS_PIN_CONTROLS, caps.pin, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, true);
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_NMI_WINDOW, on);
	}
	case MHV_INTERCEPT_MTF:
		return set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_MTF, on);
	default:
		return "unknown intercept";
	}
}

static void vmx_intercept_exception(struct mhv_vm *vm, unsigned vector, bool on)
{
	(void)vm;
	uint64_t bitmap = vmread(VMCS_EXCEPTION_BITMAP);
	bitmap = on ? bitmap | (1ull << (vector & 31)) : bitmap & ~(1ull << (vector & 31));
	vmwrite(VMCS_EXCEPTION_BITMAP, bitmap);
}

static void vmx_intercept_io(struct mhv_vm *vm, uint16_t port, bool on)
{
	(void)vm;
	uint8_t *byte = &io_bitmaps[port >> 15][(port & 0x7fff) / 8];
	if (on)
		*byte |= (uint8_t)(1u << (port % 8));
	else
		*byte &= (uint8_t)~(1u << (port % 8));
}

/* MSR bitmap layout, SDM vol.3C 25.6.9: read low, read high, write low, write high. */
static bool vmx_intercept_msr(struct mhv_vm *vm, uint32_t msr, bool read, bool write)
{
	(void)vm;
	unsigned high;
	if (msr <= 0x1fff)
		high = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		high = 1;
	else
		return false;
	uint32_t index = msr & 0x1fff;
	uint8_t bit = (uint8_t)(1u << (index % 8));
	uint8_t *rd = &msr_bitmap[high * 1024 + index / 8];
	uint8_t *wr = &msr_bitmap[2048 + high * 1024 + index / 8];
	*rd = read ? (uint8_t)(*rd | bit) : (uint8_t)(*rd & ~bit);
	*wr = write ? (uint8_t)(*wr | bit) : (uint8_t)(*wr & ~bit);
	return true;
}

static void vmx_inject(struct mhv_vm *vm, enum mhv_event_type type, uint8_t vector,
		       bool has_error, uint32_t error_code, unsigned insn_len)
{
	(void)vm;
	vmwrite(VMCS_ENTRY_INTR_INFO, VMX_INTR_VALID | ((uint32_t)type << VMX_INTR_TYPE_SHIFT) |
					      vector | (has_error ? VMX_INTR_ERROR_VALID : 0));
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error_code);
	vmwrite(VMCS_ENTRY_INSN_LEN, insn_len);
}

static void vmx_enter_at(struct mhv_vm *vm, uint64_t linear)
{
	if (vm->mode != MHV_MODE_REAL) {
		vmwrite(VMCS_GUEST_RIP, linear);
		return;
	}
	/* Real mode under unrestricted guest: CS base = selector * 16 is checked only in
	 * virtual-8086 mode (SDM vol.3C 27.3.1.2). */
	uint64_t base = linear & ~0xfffull;
	vmwrite(VMCS_GUEST_CS_BASE, base);
	vmwrite(VMCS_GUEST_CS_SEL, (base >> 4) & 0xffff);
	vmwrite(VMCS_GUEST_RIP, linear & 0xfff);
}

static void vmx_tsc_offset(struct mhv_vm *vm, uint64_t offset)
{
	(void)vm;
	set_control(VMCS_PROC_CONTROLS, caps.proc, PROC_TSC_OFFSETTING, true);
	vmwrite(VMCS_TSC_OFFSET, offset);
}

#define VMX_MISC_TIMER_RATE_MASK 0x1fu /* SDM vol.3D A.6: TSC bit X that counts the timer */

static const char *vmx_preemption_timer(struct mhv_vm *vm, bool on, uint32_t value, bool save,
					unsigned *rate_shift)
{
	(void)vm;
	if (on && save && !allowed(caps.exit, EXIT_SAVE_PREEMPTION_TIMER))
		return "'save VMX-preemption timer value' is not supported (allowed-1 settings)";
	const char *why = set_control(VMCS_PIN_CONTROLS, caps.pin, PIN_PREEMPTION_TIMER, on);
	if (why)
		return why;
	if (allowed(caps.exit, EXIT_SAVE_PREEMPTION_TIMER))
		set_control(VMCS_EXIT_CONTROLS, caps.exit, EXIT_SAVE_PREEMPTION_TIMER, on && save);
	if (on)
		vmwrite(VMCS_PREEMPTION_TIMER, value);
	*rate_shift = caps.misc & VMX_MISC_TIMER_RATE_MASK;
	return NULL;
}

static uint32_t vmx_preemption_timer_value(struct mhv_vm *vm)
{
	(void)vm;
	return (uint32_t)vmread(VMCS_PREEMPTION_TIMER);
}

const struct mhv_backend mhv_vmx_backend = {
	.vendor = MHV_VENDOR_VMX,
	.enable = vmx_enable,
	.enable_cpu = vmx_enable_cpu,
	.disable_cpu = vmx_disable_cpu,
	.release = vmx_release,
	.has = vmx_has,
	.vm_init = vmx_vm_init,
	.run = vmx_run,
	.get = vmx_get,
	.set = vmx_set,
	.intercept = vmx_intercept,
	.intercept_exception = vmx_intercept_exception,
	.intercept_io = vmx_intercept_io,
	.intercept_msr = vmx_intercept_msr,
	.inject = vmx_inject,
	.enter_at = vmx_enter_at,
	.tsc_offset = vmx_tsc_offset,
	.preemption_timer = vmx_preemption_timer,
	.preemption_timer_value = vmx_preemption_timer_value,
};
