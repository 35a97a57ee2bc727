/* Building a VMCS for the primary guest: controls adjusted against the capability MSRs,
 * bitmaps, EPT, the CR0/CR4 guest/host masks, host state and the guest's initial state
 * (SDM vol.3 chapter 24, checks of 26.2-26.3). */
#include "vmx/vmx.h"

#include "core/pcpu.h"
#include "core/apic_base.h"
#include "core/apic_icr.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/io_intercepts.h"
#include "core/memory.h"
#include "core/string.h"
#include "core/platform.h"
#include "core/smm_msr.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"
#include "core/vmm.h"
#include "core/x86.h"

#define SEG_LIMIT_FLAT 0xffffffffu
#define SEG_LIMIT_TSS 0xffffu
#define SEG_LIMIT_REAL 0xffffu
#define EPT_MIN_TOP (4ull << 30) /* MMIO (APIC, I/O APIC, PCI holes) lives below 4 GiB */
#define FOUR_GIB (4ull << 30)

/* What nestbed wants of each control set; the REQUIRED subset it cannot run without. */
/* External interrupts and NMIs are the guest's: delivered to it directly (passthrough). */
#define PIN_WANTED 0u
#define PIN_REQUIRED 0u
#define PROC_WANTED (VMX_PROC_HLT_EXITING | VMX_PROC_USE_IO_BITMAPS | VMX_PROC_USE_MSR_BITMAPS | \
		     VMX_PROC_ACTIVATE_SECONDARY)
#define PROC_REQUIRED PROC_WANTED
/* RDTSCP, INVPCID and XSAVES raise #UD in the guest unless enabled (25.3). */
#define PROC2_WANTED (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID | VMX_PROC2_UNRESTRICTED_GUEST | \
		      VMX_PROC2_ENABLE_RDTSCP | VMX_PROC2_ENABLE_INVPCID | VMX_PROC2_ENABLE_XSAVES)
#define PROC2_REQUIRED (VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST)
#define EXIT_WANTED (VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | VMX_EXIT_CTL_SAVE_IA32_EFER | \
		     VMX_EXIT_CTL_LOAD_IA32_EFER | VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS | \
		     VMX_EXIT_CTL_SAVE_IA32_PAT | VMX_EXIT_CTL_LOAD_IA32_PAT)
#define EXIT_REQUIRED (VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | VMX_EXIT_CTL_SAVE_IA32_EFER | \
		       VMX_EXIT_CTL_LOAD_IA32_EFER)
#define ENTRY_WANTED (VMX_ENTRY_CTL_LOAD_IA32_EFER | VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS | \
		      VMX_ENTRY_CTL_LOAD_IA32_PAT)
#define ENTRY_REQUIRED VMX_ENTRY_CTL_LOAD_IA32_EFER
#define PAT_EXIT_CTLS (VMX_EXIT_CTL_SAVE_IA32_PAT | VMX_EXIT_CTL_LOAD_IA32_PAT)

struct segment_fields {
	uint32_t selector, limit, ar, base;
};

static const struct segment_fields seg_es = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, VMCS_GUEST_ES_BASE };
static const struct segment_fields seg_cs = { VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, VMCS_GUEST_CS_BASE };
static const struct segment_fields seg_ss = { VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, VMCS_GUEST_SS_BASE };
static const struct segment_fields seg_ds = { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, VMCS_GUEST_DS_BASE };
static const struct segment_fields seg_fs = { VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, VMCS_GUEST_FS_BASE };
static const struct segment_fields seg_gs = { VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, VMCS_GUEST_GS_BASE };
static const struct segment_fields seg_ldtr = { VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR, VMCS_GUEST_LDTR_BASE };
static const struct segment_fields seg_tr = { VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, VMCS_GUEST_TR_BASE };

static void write_segment(const struct segment_fields *f, uint16_t selector, uint32_t ar,
			  uint32_t limit, uint64_t base)
{
	vmcs_write(f->selector, selector);
	vmcs_write(f->ar, ar);
	vmcs_write(f->limit, limit);
	vmcs_write(f->base, base);
}

uint64_t vmx_alloc_frames(const struct machine *m, uint64_t count, const char *what)
{
	uint64_t pa = alloc_frames_zeroed(count, FRAME_SIZE);
	if (!pa) {
		kprintf("nestbed: vmx: out of memory for the %s\n", what);
		return 0;
	}
	if ((m->caps.vmx_caps.basic & VMX_BASIC_ADDR_WIDTH_32) && pa + count * FRAME_SIZE > FOUR_GIB) {
		kprintf("nestbed: vmx: the %s at %#llx is above 4 GiB, which IA32_VMX_BASIC[48] forbids\n",
			what, (unsigned long long)pa);
		return 0;
	}
	return pa;
}

static int adjust(const struct vmx_caps *caps, enum vmx_control_set set, uint32_t wanted,
		  uint32_t required, uint32_t *out)
{
	uint64_t cap = vmx_control_cap(caps, set);
	uint32_t missing = vmx_controls_adjust(cap, wanted, required, out);
	if (missing) {
		kprintf("nestbed: vmx: the CPU does not allow the %s controls %#x nestbed needs "
			"(capability MSR %#llx)\n", vmx_control_set_name(set), missing,
			(unsigned long long)cap);
		return -1;
	}
	return 0;
}

static int choose_controls(const struct machine *m, struct vmx_vcpu *vv)
{
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	if (adjust(caps, VMX_CTLS_PIN, PIN_WANTED, PIN_REQUIRED, &vv->pin) ||
	    adjust(caps, VMX_CTLS_PROC, PROC_WANTED, PROC_REQUIRED, &vv->proc) ||
	    adjust(caps, VMX_CTLS_PROC2, PROC2_WANTED, PROC2_REQUIRED, &vv->proc2) ||
	    adjust(caps, VMX_CTLS_EXIT, EXIT_WANTED, EXIT_REQUIRED, &vv->exit_ctls) ||
	    adjust(caps, VMX_CTLS_ENTRY, ENTRY_WANTED, ENTRY_REQUIRED, &vv->entry_ctls))
		return -1;
	if (!(vmx_allowed1(vmx_control_cap(caps, VMX_CTLS_ENTRY)) & VMX_ENTRY_CTL_IA32E_MODE_GUEST)) {
		kprintf("nestbed: vmx: the CPU cannot enter 64-bit guests (IA-32e mode guest not allowed)\n");
		return -1;
	}
	/* The guest's PAT is switched only when all three controls are there. */
	vv->load_pat = (vv->exit_ctls & PAT_EXIT_CTLS) == PAT_EXIT_CTLS &&
		       (vv->entry_ctls & VMX_ENTRY_CTL_LOAD_IA32_PAT);
	if (!vv->load_pat) {
		vv->exit_ctls &= ~(PAT_EXIT_CTLS & ~vmx_allowed0(vmx_control_cap(caps, VMX_CTLS_EXIT)));
		vv->entry_ctls &= ~(VMX_ENTRY_CTL_LOAD_IA32_PAT & ~vmx_allowed0(vmx_control_cap(caps, VMX_CTLS_ENTRY)));
	}
	/* The entry control follows the guest's EFER.LMA at every entry. */
	vv->entry_ctls &= ~VMX_ENTRY_CTL_IA32E_MODE_GUEST;

	/* EPT: 4-level walks (A.10); write-back paging structures if allowed, else UC. */
	if (!(caps->ept_vpid & VMX_EPT_CAP_WALK_4) ||
	    !(caps->ept_vpid & (VMX_EPT_CAP_MEMTYPE_WB | VMX_EPT_CAP_MEMTYPE_UC))) {
		kprintf("nestbed: vmx: EPT without 4-level walks or a usable memory type "
			"(IA32_VMX_EPT_VPID_CAP=%#llx)\n", (unsigned long long)caps->ept_vpid);
		return -1;
	}
	/* VPID only with a way to flush it (INVVPID single- or all-context, 30.3). */
	vv->invvpid_single = (caps->ept_vpid & VMX_VPID_CAP_INVVPID) && (caps->ept_vpid & VMX_VPID_CAP_INVVPID_SINGLE);
	vv->invvpid_all = (caps->ept_vpid & VMX_VPID_CAP_INVVPID) && (caps->ept_vpid & VMX_VPID_CAP_INVVPID_ALL);
	if (!vv->invvpid_single && !vv->invvpid_all)
		vv->proc2 &= ~VMX_PROC2_ENABLE_VPID;
	vv->vpid = (vv->proc2 & VMX_PROC2_ENABLE_VPID) ? VMX_PRIMARY_VPID : 0;

	vv->fixed = (struct vmx_cr_fixed){
		.cr0_fixed0 = caps->cr0_fixed0, .cr0_fixed1 = caps->cr0_fixed1,
		.cr4_fixed0 = caps->cr4_fixed0, .cr4_fixed1 = caps->cr4_fixed1,
		.unrestricted_guest = (vv->proc2 & VMX_PROC2_UNRESTRICTED_GUEST) != 0,
		.allow_vmxe = false, /* until the nested layer offers VMX to the guest */
	};
	vv->cr0_mask = vmx_cr0_forced(&vv->fixed);
	vv->cr4_mask = vmx_cr4_forced(&vv->fixed);
	return 0;
}

static uint64_t build_ept(const struct machine *m, struct vmx_vcpu *vv)
{
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	struct ept ept;
	if (ept_init(&ept, &nestbed_frames, identity_frame_ptr))
		return 0;
	ept.allow_2m = (caps->ept_vpid & VMX_EPT_CAP_2M_PAGES) != 0;
	ept.allow_1g = (caps->ept_vpid & VMX_EPT_CAP_1G_PAGES) != 0;
	/* several CPUs build their vCPU's EPT at once: the plan is this call's own */
	uint64_t plan_frames = (sizeof(struct ept_region) * EPT_PLAN_MAX + FRAME_SIZE - 1) / FRAME_SIZE;
	uint64_t plan_pa = alloc_frames_zeroed(plan_frames, FRAME_SIZE);
	if (!plan_pa)
		return 0;
	struct ept_region *plan = phys_to_virt(plan_pa);
	int n = ept_identity_plan(m->guest_map.ranges, m->guest_map.nr_ranges, EPT_MIN_TOP, plan,
				  EPT_PLAN_MAX);
	if (n < 0) {
		frame_free_range(&nestbed_frames, plan_pa, plan_frames);
		return 0;
	}
	uint64_t mapped = 0;
	for (int i = 0; i < n; i++) {
		if (ept_map(&ept, plan[i].base, plan[i].base, plan[i].size, plan[i].memtype)) {
			frame_free_range(&nestbed_frames, plan_pa, plan_frames);
			return 0;
		}
		mapped += plan[i].size;
	}
	frame_free_range(&nestbed_frames, plan_pa, plan_frames);
	/* the xAPIC page read-only: the guest's ICR writes exit (apic_emulation.h) */
	vv->apic_page = apic_base_mmio_page(rdmsr(MSR_IA32_APIC_BASE));
	if (vv->apic_page && ept_set_4k_permissions(&ept, vv->apic_page, EPT_READ))
		return 0;
	vv->ept = ept;
	unsigned memtype = (caps->ept_vpid & VMX_EPT_CAP_MEMTYPE_WB) ? EPT_MEMTYPE_WB : EPT_MEMTYPE_UC;
	vv->eptp = ept_pointer(ept.root, memtype);
	kprintf("nestbed: vmx: EPT identity map of %llu MiB in %d regions (RAM write-back, the rest "
		"uncacheable), nestbed's memory unmapped, pages up to %s, eptp %#llx\n",
		(unsigned long long)(mapped >> 20), n, ept.allow_1g ? "1G" : ept.allow_2m ? "2M" : "4K",
		(unsigned long long)vv->eptp);
	return ept.root;
}

static int build_bitmaps(const struct machine *m, struct vmx_vcpu *vv)
{
	vv->msr_bitmap_pa = vmx_alloc_frames(m, 1, "MSR bitmap");
	vv->io_bitmap_a_pa = vmx_alloc_frames(m, 1, "I/O bitmap A");
	vv->io_bitmap_b_pa = vmx_alloc_frames(m, 1, "I/O bitmap B");
	if (!vv->msr_bitmap_pa || !vv->io_bitmap_a_pa || !vv->io_bitmap_b_pa)
		return -1;
	uint8_t *msr = phys_to_virt(vv->msr_bitmap_pa);
	/* The core keeps the guest's EFER; IA32_FEATURE_CONTROL and the VMX capability MSRs
	 * describe VMX itself, which is nestbed's. Everything else is the guest's. */
	vmx_msr_bitmap_intercept(msr, MSR_EFER, true, true);
	vmx_msr_bitmap_intercept(msr, MSR_IA32_FEATURE_CONTROL, true, true);
	for (uint32_t i = MSR_IA32_VMX_BASIC; i <= MSR_IA32_VMX_VMFUNC; i++)
		vmx_msr_bitmap_intercept(msr, i, true, true);
	/* SMM's placement is the firmware's (smm_msr.c). */
	for (unsigned i = 0; i < smm_msrs_intel_count; i++)
		vmx_msr_bitmap_intercept(msr, smm_msrs_intel[i], true, true);
	/* The exit ports, and the devices nestbed mediates (io_intercepts.h). */
	struct port_range ports[IO_INTERCEPT_MAX_RANGES];
	unsigned nr_ports = io_intercepted_ports(m, ports);
	for (unsigned i = 0; i < nr_ports; i++)
		for (unsigned p = 0; p < ports[i].count; p++)
			vmx_io_bitmap_intercept(phys_to_virt(vv->io_bitmap_a_pa),
						phys_to_virt(vv->io_bitmap_b_pa),
						(uint16_t)(ports[i].first + p));
	/* The APIC base must not move onto nestbed's memory (core/guest_msr.c): writes only. */
	vmx_msr_bitmap_intercept(msr, MSR_IA32_APIC_BASE, false, true);
	/* INIT and startup IPIs are nestbed's to deliver (apic_emulation.h). */
	vmx_msr_bitmap_intercept(msr, MSR_X2APIC_ICR, false, true);
	return 0;
}

void vmx_write_vm_controls(struct vmx_vcpu *vv)
{
	vmcs_write(VMCS_PIN_BASED_CTLS, vv->pin);
	vmcs_write(VMCS_PROC_BASED_CTLS, vv->proc);
	vmcs_write(VMCS_PROC_BASED_CTLS2, vv->proc2);
	vmcs_write(VMCS_EXIT_CTLS, vv->exit_ctls);
	vmcs_write(VMCS_ENTRY_CTLS, vv->entry_ctls);
	vv->entry_ctls_written = vv->entry_ctls;
}

static void write_controls(struct vmx_vcpu *vv)
{
	if (vv->vpid)
		vmcs_write(VMCS_VPID, vv->vpid);
	vmx_write_vm_controls(vv);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0); /* every exception is the guest's */
	vmcs_write(VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_IO_BITMAP_A, vv->io_bitmap_a_pa);
	vmcs_write(VMCS_IO_BITMAP_B, vv->io_bitmap_b_pa);
	vmcs_write(VMCS_MSR_BITMAP, vv->msr_bitmap_pa);
	vmcs_write(VMCS_TSC_OFFSET, 0);
	vmcs_write(VMCS_EPT_POINTER, vv->eptp);
	if (vv->proc2 & VMX_PROC2_ENABLE_XSAVES)
		vmcs_write(VMCS_XSS_EXIT_BITMAP, 0); /* XSAVES/XRSTORS never exit */
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, vv->cr0_mask);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, vv->cr4_mask);
}

struct descriptor_table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* The base of the 16-byte TSS descriptor `selector` names in the GDT (SDM vol.3 7.2.3). */
static uint64_t tss_base(uint64_t gdt_base, uint16_t selector)
{
	const uint32_t *d = (const uint32_t *)(uintptr_t)(gdt_base + (selector & ~SELECTOR_RPL_TI));
	uint64_t base = (d[0] >> 16) | ((uint64_t)(d[1] & 0xff) << 16) | ((uint64_t)(d[1] >> 24) << 24);
	return base | ((uint64_t)d[2] << 32);
}

/* 26.2.2-26.2.4: the host state the CPU loads at every VM exit, read from the live CPU. */
static int write_host_state(const struct vmx_vcpu *vv)
{
	struct descriptor_table_register gdtr, idtr;
	uint16_t cs, ss, ds, es, fs, gs, tr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	__asm__ volatile("mov %%es, %0" : "=r"(es));
	__asm__ volatile("mov %%fs, %0" : "=r"(fs));
	__asm__ volatile("mov %%gs, %0" : "=r"(gs));
	__asm__ volatile("str %0" : "=r"(tr));
	/* 26.2.3: host selectors have RPL 0 and TI 0; CS and TR are not null. */
	if (!tr) {
		kprintf("nestbed: vmx: the host TR is null: VMX needs a TSS (SDM vol.3 26.2.3)\n");
		return -1;
	}
	if ((cs | ss | ds | es | fs | gs | tr) & SELECTOR_RPL_TI) {
		kprintf("nestbed: vmx: host selectors cs=%#x ss=%#x ds=%#x es=%#x fs=%#x gs=%#x tr=%#x "
			"must have RPL 0 and TI 0 (SDM vol.3 26.2.3)\n", cs, ss, ds, es, fs, gs, tr);
		return -1;
	}
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SELECTOR, cs);
	vmcs_write(VMCS_HOST_SS_SELECTOR, ss);
	vmcs_write(VMCS_HOST_DS_SELECTOR, ds);
	vmcs_write(VMCS_HOST_ES_SELECTOR, es);
	vmcs_write(VMCS_HOST_FS_SELECTOR, fs);
	vmcs_write(VMCS_HOST_GS_SELECTOR, gs);
	vmcs_write(VMCS_HOST_TR_SELECTOR, tr);
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(VMCS_HOST_TR_BASE, tss_base(gdtr.base, tr));
	vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmcs_write(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmcs_write(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	if (vv->load_pat)
		vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
	/* HOST_RSP is written by vmx_enter before each entry. */
	return 0;
}

/* 26.3.1: GUEST_START_PROTECTED32 is what a Multiboot loader leaves (flat 32-bit
 * segments, CR0.PE=1, paging off: legal for an unrestricted guest, 26.3.1.1);
 * GUEST_START_LONG64 is 64-bit code with the given identity page tables. */
static void write_guest_state(struct vmx_vcpu *vv, const struct guest_start *start,
			      struct vcpu_state *st)
{
	bool long64 = start->mode == GUEST_START_LONG64;
	write_segment(&seg_cs, MULTIBOOT_CODE_SELECTOR, long64 ? VMX_AR_CODE64 : VMX_AR_CODE32_FLAT,
		      SEG_LIMIT_FLAT, 0);
	const struct segment_fields *data[] = { &seg_ds, &seg_es, &seg_ss, &seg_fs, &seg_gs };
	for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		write_segment(data[i], MULTIBOOT_DATA_SELECTOR, VMX_AR_DATA_FLAT, SEG_LIMIT_FLAT, 0);
	write_segment(&seg_ldtr, 0, VMX_AR_UNUSABLE, 0, 0);
	write_segment(&seg_tr, 0, VMX_AR_TSS32_BUSY, SEG_LIMIT_TSS, 0);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, IDT_REAL_MODE_LIMIT);

	uint64_t cr0 = VMX_CR0_PE | VMX_CR0_ET | (long64 ? VMX_CR0_PG : 0);
	uint64_t cr4 = long64 ? VMX_CR4_PAE : 0;
	uint64_t efer = long64 ? (EFER_LME | EFER_LMA) : 0;
	vmcs_write(VMCS_GUEST_CR0, cr0 | vv->cr0_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR3, long64 ? start->cr3 : 0);
	vmcs_write(VMCS_GUEST_CR4, cr4 | vv->cr4_mask);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE(i), 0);
	vmcs_write(VMCS_GUEST_DR7, DR7_INIT);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	if (vv->load_pat)
		vmcs_write(VMCS_GUEST_IA32_PAT, VMX_PAT_POWER_ON);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_RSP, start->rsp);
	vmcs_write(VMCS_GUEST_RIP, start->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, VMX_ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);

	st->gpr = start->gpr;
	st->rip = start->rip;
	st->rsp = start->rsp;
	st->rflags = RFLAGS_FIXED;
	st->cr0 = cr0;
	st->cr2 = 0;
	st->cr3 = long64 ? start->cr3 : 0;
	st->cr4 = cr4;
	st->efer = efer;
	st->cs_base = 0;
	st->cs_long = long64;
	st->cs_db = !long64;
	st->cpl = 0;
}

/* Real mode as INIT leaves it (SDM vol.3 table 9-1) with CS as given (F000h/FFFF0000h/
 * FFF0h after INIT; vector << 8 / vector << 12 / 0 at a SIPI), in `activity`: the CPU
 * waits for SIPI in guest mode (26.6.2, 27.2: the SIPI is exit reason 4). Needs
 * unrestricted guest (26.3.1.1: CR0.PE=0). */
void vmx_write_real_mode_state(struct vmx_vcpu *vv, struct vcpu_state *st, uint16_t cs,
			       uint64_t cs_base, uint64_t rip, uint32_t activity)
{
	write_segment(&seg_cs, cs, VMX_AR_REAL_CODE, SEG_LIMIT_REAL, cs_base);
	const struct segment_fields *data[] = { &seg_ds, &seg_es, &seg_ss, &seg_fs, &seg_gs };
	for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		write_segment(data[i], 0, VMX_AR_REAL_DATA, SEG_LIMIT_REAL, 0);
	write_segment(&seg_ldtr, 0, VMX_AR_LDT, SEG_LIMIT_REAL, 0);
	write_segment(&seg_tr, 0, VMX_AR_TSS32_BUSY, SEG_LIMIT_REAL, 0);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, SEG_LIMIT_REAL);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, SEG_LIMIT_REAL);
	vmcs_write(VMCS_GUEST_CR0, CR0_INIT | vv->cr0_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_INIT);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR4, vv->cr4_mask);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE(i), 0);
	vmcs_write(VMCS_GUEST_DR7, DR7_INIT);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	if (vv->load_pat)
		vmcs_write(VMCS_GUEST_IA32_PAT, VMX_PAT_POWER_ON);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RIP, rip);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, activity);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);

	memset(&st->gpr, 0, sizeof(st->gpr));
	st->gpr.rdx = cpuid(1, 0).eax; /* the processor signature */
	st->rip = rip;
	st->rsp = 0;
	st->rflags = RFLAGS_FIXED;
	st->cr0 = CR0_INIT;
	st->cr2 = st->cr3 = st->cr4 = 0;
	st->efer = 0;
	st->cs_base = cs_base;
	st->cs_long = st->cs_db = false;
	st->cpl = 0;
}

static void flush_new_context(const struct machine *m, struct vmx_vcpu *vv)
{
	/* Nothing cached may survive from an earlier user of this EPTP or VPID (28.3.3). */
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	if (caps->ept_vpid & VMX_EPT_CAP_INVEPT) {
		if (caps->ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE)
			(void)invept(VMX_INVEPT_SINGLE_CONTEXT, vv->eptp);
		else if (caps->ept_vpid & VMX_EPT_CAP_INVEPT_ALL)
			(void)invept(VMX_INVEPT_ALL_CONTEXT, 0);
	}
	if (vv->vpid) {
		if (vv->invvpid_single)
			(void)invvpid(VMX_INVVPID_SINGLE_CONTEXT, vv->vpid, 0);
		else
			(void)invvpid(VMX_INVVPID_ALL_CONTEXT, 0, 0);
	}
}

int vmx_vmcs_create(struct machine *m, struct vmx_vcpu *vv, const struct guest_start *start,
		    struct vcpu_state *st)
{
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	uint32_t revision = (uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK);
	if (choose_controls(m, vv))
		return -1;
	vv->vmcs_pa = vmx_alloc_frames(m, 1, "VMCS");
	if (!vv->vmcs_pa || build_bitmaps(m, vv))
		return -1;
	if (!build_ept(m, vv)) {
		kprintf("nestbed: vmx: out of memory for the EPT tables\n");
		return -1;
	}
	/* 24.2: the revision identifier in the first 31 bits, bit 31 clear (no shadow VMCS). */
	*(uint32_t *)phys_to_virt(vv->vmcs_pa) = revision;
	enum vmx_result r = vmclear(vv->vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMCLEAR", r);
		return -1;
	}
	r = vmptrld(vv->vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMPTRLD", r);
		return -1;
	}
	vv->launched = false;
	const struct pcpu *cpu = pcpu_this();
	unsigned errors_before = cpu->vmcs_access_errors;
	write_controls(vv);
	if (write_host_state(vv))
		return -1;
	if (start->mode == GUEST_START_WAIT_FOR_SIPI) {
		if (!(caps->misc & VMX_MISC_ACTIVITY_WAIT_SIPI)) {
			kprintf("nestbed: vmx: the CPU has no wait-for-SIPI activity state (IA32_VMX_MISC[8]): "
				"an AP cannot wait for its startup IPI in guest mode\n");
			return -1;
		}
		vmx_write_real_mode_state(vv, st, INIT_CS_SELECTOR, INIT_CS_BASE, INIT_RIP,
					  VMX_ACTIVITY_WAIT_SIPI);
		vmcs_write(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
		vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
		vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
		vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	} else {
		write_guest_state(vv, start, st);
	}
	if (cpu->vmcs_access_errors != errors_before) {
		kprintf("nestbed: vmx: %u VMCS field(s) could not be written (see above)\n",
			cpu->vmcs_access_errors - errors_before);
		return -1;
	}
	flush_new_context(m, vv);
	kprintf("nestbed: vmx: VMCS at %#llx: pin=%#x proc=%#x proc2=%#x exit=%#x entry=%#x vpid=%u "
		"cr0_mask=%#llx cr4_mask=%#llx pat=%s (%s controls)\n",
		(unsigned long long)vv->vmcs_pa, vv->pin, vv->proc, vv->proc2, vv->exit_ctls,
		vv->entry_ctls, vv->vpid, (unsigned long long)vv->cr0_mask,
		(unsigned long long)vv->cr4_mask, vv->load_pat ? "switched" : "shared",
		(caps->basic & VMX_BASIC_TRUE_CTLS) ? "TRUE" : "original");
	return 0;
}
