/* The mini-hypervisor's AMD-V half: EFER.SVME and VM_HSAVE_PA, a VMCB per VM, NPT,
 * intercept vectors, the IOPM and MSRPM, EVENTINJ. APM vol.2 chapter 15. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/layout.h"
#include "lib/mhv_backend.h"
#include "lib/msr.h"
#include "lib/svm.h"

#define IOPM_SIZE  (3 * 4096) /* APM vol.2 15.10.1: 12 KiB, one bit per port */
#define MSRPM_SIZE (2 * 4096) /* APM vol.2 15.11: 8 KiB, two bits per MSR */

#define MSR_PAT            0x277u
#define EFER_NXE           (1ull << 11)
#define CPUID_80000001_EDX_NX     (1u << 20)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_XSAVE   (1u << 26)

static struct svm_vmcb vmcb __attribute__((aligned(4096)));
static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t iopm[IOPM_SIZE] __attribute__((aligned(4096)));
static uint8_t msrpm[MSRPM_SIZE] __attribute__((aligned(4096)));

static uint32_t svm_features; /* CPUID Fn8000_000A_EDX */

/* EFER.SVME (and NXE) and VM_HSAVE_PA on the calling CPU (APM vol.2 15.4, 15.30.4). */
static void svm_enable_this_cpu(uint8_t *host_save)
{
	uint64_t efer = rdmsr(MSR_EFER) | EFER_SVME;
	if (cpuid(CPUID_LEAF_EXT_FEATURES).edx & CPUID_80000001_EDX_NX)
		efer |= EFER_NXE; /* so that NPT's NX bit means something */
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)host_save);
}

static enum probe_status svm_enable_cpu(struct probe_run *run, uint8_t *region)
{
	uint64_t vm_cr;
	if (rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS))
		return probe_skip(run, "SVM disabled by the firmware on this CPU (VM_CR.SVMDIS = 1)");
	svm_enable_this_cpu(region);
	return PROBE_PASS;
}

static void svm_disable_cpu(struct mhv_vm *vm)
{
	(void)vm;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
}

static void svm_release(void)
{
}

static enum probe_status svm_enable(struct probe_run *run)
{
	uint64_t vm_cr;
	if (rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS))
		return probe_skip(run, "SVM disabled by the firmware (VM_CR.SVMDIS = 1)");
	if (cpuid_max_extended_leaf() < CPUID_LEAF_SVM)
		return probe_fail(run, "SVM present but CPUID leaf 8000000Ah absent");
	svm_features = cpuid(CPUID_LEAF_SVM).edx;
	svm_enable_this_cpu(hsave);
	diag("SVM: CPUID.8000000Ah EAX %#x EBX (ASIDs) %u EDX %#x", cpuid(CPUID_LEAF_SVM).eax,
	     cpuid(CPUID_LEAF_SVM).ebx, svm_features);
	return PROBE_PASS;
}

static bool svm_has(enum mhv_feature feature)
{
	switch (feature) {
	case MHV_FEATURE_TDP:
	case MHV_FEATURE_UNRESTRICTED: return svm_features & SVM_FEATURE_NP;
	case MHV_FEATURE_NEXT_RIP: return svm_features & SVM_FEATURE_NRIPS;
	case MHV_FEATURE_DECODE_ASSISTS: return svm_features & SVM_FEATURE_DECODE_ASSISTS;
	case MHV_FEATURE_RDTSCP:
		return cpuid(CPUID_LEAF_EXT_FEATURES).edx & CPUID_80000001_EDX_RDTSCP;
	case MHV_FEATURE_XSAVE: return cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_XSAVE;
	case MHV_FEATURE_MONITOR: return cpuid(CPUID_LEAF_FEATURES).ecx & CPUID_1_ECX_MONITOR;
	case MHV_FEATURE_INSN_INFO: return false;
	case MHV_FEATURE_VGIF: return svm_features & SVM_FEATURE_VGIF;
	case MHV_FEATURE_VMCB_CLEAN: return svm_features & SVM_FEATURE_VMCB_CLEAN;
	}
	return false;
}

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void set_segment(struct svm_segment *s, uint16_t selector, uint16_t attrib,
			uint32_t limit, uint64_t base)
{
	*s = (struct svm_segment){ selector, attrib, limit, base };
}

static void init_long_mode_state(struct svm_vmcb *v)
{
	struct descriptor_pointer gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	set_segment(&v->cs, GDT_CODE64, SVM_ATTRIB_CODE64, 0xffffffff, 0);
	set_segment(&v->ss, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
	set_segment(&v->ds, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
	set_segment(&v->es, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
	set_segment(&v->gdtr, 0, 0, gdtr.limit, gdtr.base);
	set_segment(&v->idtr, 0, 0, sizeof(mhv_l2_idt) - 1, (uint64_t)mhv_l2_idt);
	v->efer = rdmsr(MSR_EFER);
	v->cr0 = read_cr0();
	v->cr3 = read_cr3();
	v->cr4 = read_cr4();
}

static void init_unpaged_state(struct svm_vmcb *v, enum mhv_mode mode)
{
	if (mode == MHV_MODE_PROT32) {
		struct descriptor_pointer gdtr;
		__asm__ volatile("sgdt %0" : "=m"(gdtr));
		set_segment(&v->cs, GDT_CODE32, SVM_ATTRIB_CODE32, 0xffffffff, 0);
		set_segment(&v->ss, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
		set_segment(&v->ds, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
		set_segment(&v->es, GDT_DATA, SVM_ATTRIB_DATA32, 0xffffffff, 0);
		set_segment(&v->gdtr, 0, 0, gdtr.limit, gdtr.base);
		v->cr0 = 0x11; /* PE, ET */
	} else {
		set_segment(&v->cs, 0, SVM_ATTRIB_CODE16, 0xffff, 0);
		set_segment(&v->ss, 0, SVM_ATTRIB_DATA16, 0xffff, 0);
		set_segment(&v->ds, 0, SVM_ATTRIB_DATA16, 0xffff, 0);
		set_segment(&v->es, 0, SVM_ATTRIB_DATA16, 0xffff, 0);
		v->cr0 = 0x10; /* ET */
	}
	set_segment(&v->idtr, 0, 0, 0x3ff, 0);
	v->efer = EFER_SVME;
	v->cr3 = 0;
	v->cr4 = 0;
}

static enum probe_status svm_vm_init(struct probe_run *run, struct mhv_vm *vm)
{
	(void)run;
	struct svm_vmcb *v = &vmcb;
	memset(v, 0, sizeof(*v));
	memset(iopm, 0, sizeof(iopm));
	memset(msrpm, 0, sizeof(msrpm));
	vm->vmcb = v;

	v->intercept_misc1 = SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
	v->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL;
	v->iopm_base_pa = (uint64_t)iopm;
	v->msrpm_base_pa = (uint64_t)msrpm;
	v->guest_asid = 1;
	/* Physical interrupts stay masked by L1's RFLAGS.IF (0) while L2 runs. */
	v->vintr = SVM_VINTR_MASKING;
	if (vm->options & MHV_TDP) {
		v->np_control = SVM_NP_ENABLE;
		v->n_cr3 = tdp_root_pa(&mhv_tdp);
	}

	if (vm->mode == MHV_MODE_LONG)
		init_long_mode_state(v);
	else
		init_unpaged_state(v, vm->mode);
	v->cpl = 0;
	v->dr7 = 0x400;
	v->dr6 = 0xffff0ff0;
	v->rflags = 2;
	v->g_pat = rdmsr(MSR_PAT);
	return PROBE_PASS;
}

static void svm_run(struct mhv_vm *vm, struct mhv_exit *e)
{
	struct svm_vmcb *v = vm->vmcb;
	v->rax = vm->regs.rax;
	v->tlb_control = vm->tlb_dirty ? SVM_TLB_CONTROL_FLUSH_ALL : 0;
	v->clean_bits = vm->svm_clean;
	vm->svm_clean = 0;
	vm->tlb_dirty = false;

	mhv_svm_enter(&vm->regs, (uint64_t)v);

	vm->regs.rax = v->rax;
	v->eventinj = 0;
	e->exitcode = v->exitcode;
	e->exitinfo1 = v->exitinfo1;
	e->exitinfo2 = v->exitinfo2;
	e->exitintinfo = v->exitintinfo;
	e->next_rip = v->next_rip;
	e->rip = v->rip;
	e->rsp = v->rsp;
	e->rflags = v->rflags;
	e->rax = v->rax;
	mhv_decode_svm(e);
}

static uint64_t *reg_field(struct svm_vmcb *v, enum mhv_reg reg)
{
	switch (reg) {
	case MHV_REG_RIP: return &v->rip;
	case MHV_REG_RSP: return &v->rsp;
	case MHV_REG_RFLAGS: return &v->rflags;
	case MHV_REG_CR0: return &v->cr0;
	case MHV_REG_CR3: return &v->cr3;
	case MHV_REG_CR4: return &v->cr4;
	case MHV_REG_EFER: return &v->efer;
	case MHV_REG_DR7: return &v->dr7;
	case MHV_REG_CR2: return &v->cr2;
	}
	return &v->rip;
}

static uint64_t svm_get(struct mhv_vm *vm, enum mhv_reg reg)
{
	return *reg_field(vm->vmcb, reg);
}

static void svm_set(struct mhv_vm *vm, enum mhv_reg reg, uint64_t value)
{
	*reg_field(vm->vmcb, reg) = value;
}

static void set_bits(uint32_t *word, uint32_t bits, bool on)
{
	if (on)
		*word |= bits;
	else
		*word &= ~bits;
}

static const char *svm_intercept(struct mhv_vm *vm, enum mhv_intercept what, bool on)
{
	struct svm_vmcb *v = vm->vmcb;
	uint32_t *m1 = &v->intercept_misc1, *m2 = &v->intercept_misc2, *cr = &v->intercept_cr;
	switch (what) {
	case MHV_INTERCEPT_CPUID: set_bits(m1, SVM_INTERCEPT_CPUID, on); break;
	case MHV_INTERCEPT_HLT: set_bits(m1, SVM_INTERCEPT_HLT, on); break;
	case MHV_INTERCEPT_INVLPG: set_bits(m1, SVM_INTERCEPT_INVLPG, on); break;
	case MHV_INTERCEPT_RDTSC: set_bits(m1, SVM_INTERCEPT_RDTSC, on); break;
	case MHV_INTERCEPT_RDTSCP: set_bits(m2, SVM_INTERCEPT_RDTSCP, on); break;
	case MHV_INTERCEPT_RDPMC: set_bits(m1, SVM_INTERCEPT_RDPMC, on); break;
	case MHV_INTERCEPT_PAUSE:
		set_bits(m1, SVM_INTERCEPT_PAUSE, on);
		/* Pause filter count 0: every PAUSE exits (APM vol.2 15.14.4). */
		v->pause_filter_count = 0;
		break;
	case MHV_INTERCEPT_WBINVD: set_bits(m2, SVM_INTERCEPT_WBINVD, on); break;
	case MHV_INTERCEPT_INVD: set_bits(m1, SVM_INTERCEPT_INVD, on); break;
	case MHV_INTERCEPT_XSETBV: set_bits(m2, SVM_INTERCEPT_XSETBV, on); break;
	case MHV_INTERCEPT_MONITOR: set_bits(m2, SVM_INTERCEPT_MONITOR, on); break;
	case MHV_INTERCEPT_MWAIT: set_bits(m2, SVM_INTERCEPT_MWAIT, on); break;
	case MHV_INTERCEPT_HYPERCALL: set_bits(m2, SVM_INTERCEPT_VMMCALL, on); break;
	case MHV_INTERCEPT_IO: set_bits(m1, SVM_INTERCEPT_IOIO, on); break;
	case MHV_INTERCEPT_MSR: set_bits(m1, SVM_INTERCEPT_MSR, on); break;
	case MHV_INTERCEPT_CR0_READ: set_bits(cr, 1u << 0, on); break;
	case MHV_INTERCEPT_CR0_WRITE: set_bits(cr, 1u << 16, on); break;
	case MHV_INTERCEPT_CR3_READ: set_bits(cr, 1u << 3, on); break;
	case MHV_INTERCEPT_CR3_WRITE: set_bits(cr, 1u << 19, on); break;
	case MHV_INTERCEPT_CR4_READ: set_bits(cr, 1u << 4, on); break;
	case MHV_INTERCEPT_CR4_WRITE: set_bits(cr, 1u << 20, on); break;
	case MHV_INTERCEPT_CR8_READ: set_bits(cr, 1u << 8, on); break;
	case MHV_INTERCEPT_CR8_WRITE: set_bits(cr, 1u << 24, on); break;
	case MHV_INTERCEPT_DR: v->intercept_dr = on ? 0xffffffffu : 0; break;
	case MHV_INTERCEPT_DESCRIPTOR: set_bits(m1, 0xffu << 6, on); break;
	case MHV_INTERCEPT_INTR:
		/* Physical interrupts exit while L2 has IF = 1: V_INTR_MASKING off, so that
		 * L2's IF (not L1's, which is 0) gates them (APM vol.2 15.21.1). */
		set_bits(m1, SVM_INTERCEPT_INTR, on);
		if (on)
			v->vintr &= ~SVM_VINTR_MASKING;
		else
			v->vintr |= SVM_VINTR_MASKING;
		break;
	case MHV_INTERCEPT_NMI: set_bits(m1, SVM_INTERCEPT_NMI, on); break;
	case MHV_INTERCEPT_INTR_WINDOW:
		set_bits(m1, SVM_INTERCEPT_VINTR, on);
		if (on)
			v->vintr |= SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT);
		else
			v->vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT));
		break;
	case MHV_INTERCEPT_SHUTDOWN: set_bits(m1, SVM_INTERCEPT_SHUTDOWN, on); break;
	case MHV_INTERCEPT_VM_INSN:
		set_bits(m2, SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI |
			 SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT, on);
		set_bits(m1, SVM_INTERCEPT_INVLPGA, on);
		break;
	case MHV_INTERCEPT_NMI_WINDOW:
		return "AMD-V has no NMI-window intercept (APM vol.2 table B-1; a VMM watches for "
		       "the guest's IRET with the IRET intercept instead)";
	case MHV_INTERCEPT_MTF:
		return "AMD-V has no monitor trap flag (APM vol.2 table B-1: no intercept after each "
		       "guest instruction)";
	default: return "unknown intercept";
	}
	return NULL;
}

static void svm_intercept_exception(struct mhv_vm *vm, unsigned vector, bool on)
{
	set_bits(&vm->vmcb->intercept_exceptions, 1u << (vector & 31), on);
}

static void svm_intercept_io(struct mhv_vm *vm, uint16_t port, bool on)
{
	(void)vm;
	if (on)
		iopm[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		iopm[port / 8] &= (uint8_t)~(1u << (port % 8));
}

/* MSRPM ranges, APM vol.2 15.11 Table 15-5. */
static bool svm_intercept_msr(struct mhv_vm *vm, uint32_t msr, bool read, bool write)
{
	(void)vm;
	static const struct { uint32_t first; uint32_t offset; } ranges[] = {
		{ 0x00000000u, 0x0000 }, { 0xc0000000u, 0x0800 }, { 0xc0010000u, 0x1000 },
	};
	for (unsigned i = 0; i < 3; i++) {
		if (msr < ranges[i].first || msr - ranges[i].first >= 0x2000)
			continue;
		uint32_t bit = (msr - ranges[i].first) * 2;
		uint8_t *byte = &msrpm[ranges[i].offset + bit / 8];
		uint8_t mask = (uint8_t)(3u << (bit % 8));
		uint8_t value = (uint8_t)(((read ? 1u : 0u) | (write ? 2u : 0u)) << (bit % 8));
		*byte = (uint8_t)((*byte & ~mask) | value);
		return true;
	}
	return false;
}

static void svm_inject(struct mhv_vm *vm, enum mhv_event_type type, uint8_t vector,
		       bool has_error, uint32_t error_code, unsigned insn_len)
{
	(void)insn_len;
	vm->vmcb->eventinj = SVM_EVENT_VALID | vector | ((uint64_t)type << SVM_EVENT_TYPE_SHIFT) |
			     (has_error ? SVM_EVENT_ERROR_VALID |
					  ((uint64_t)error_code << SVM_EVENT_ERROR_SHIFT) : 0);
}

static void svm_enter_at(struct mhv_vm *vm, uint64_t linear)
{
	struct svm_vmcb *v = vm->vmcb;
	if (vm->mode != MHV_MODE_REAL) {
		v->rip = linear;
		return;
	}
	/* Real mode: the hidden CS base need not be selector * 16 (APM vol.2 15.5.1 loads
	 * the segment registers from the VMCB as given). */
	v->cs.base = linear & ~0xfffull;
	v->cs.selector = (uint16_t)(v->cs.base >> 4);
	v->rip = linear & 0xfff;
}

static void svm_tsc_offset(struct mhv_vm *vm, uint64_t offset)
{
	vm->vmcb->tsc_offset = offset;
}

const struct mhv_backend mhv_svm_backend = {
	.vendor = MHV_VENDOR_SVM,
	.enable = svm_enable,
	.enable_cpu = svm_enable_cpu,
	.disable_cpu = svm_disable_cpu,
	.release = svm_release,
	.has = svm_has,
	.vm_init = svm_vm_init,
	.run = svm_run,
	.get = svm_get,
	.set = svm_set,
	.intercept = svm_intercept,
	.intercept_exception = svm_intercept_exception,
	.intercept_io = svm_intercept_io,
	.intercept_msr = svm_intercept_msr,
	.inject = svm_inject,
	.enter_at = svm_enter_at,
	.tsc_offset = svm_tsc_offset,
};
