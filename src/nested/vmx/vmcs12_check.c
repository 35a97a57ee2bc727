/* VM-entry checks on a VMCS12, Intel SDM vol.3 26.2 (controls and host state) and 26.3.1
 * (guest state), in the SDM's order. Every failing rule returns through one of
 * control_failed / host_failed / guest_failed with its section in the text. */
#include "nested/vmx/vmcs12_check.h"

#include "vmx/vmcs.h"
#include "core/x86.h"

/* ---- architectural constants the checks need beyond vmx/vmcs.h ---- */

#define EFER_INTEL_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE) /* all others reserved on Intel */
#define RFLAGS_FIXED_1 (1ull << 1)  /* SDM vol.1 3.4.3 */
#define RFLAGS_RESERVED (~((1ull << 22) - 1) | (1ull << 15) | (1ull << 5) | (1ull << 3))
#define DEBUGCTL_BTF (1ull << 1)    /* SDM vol.3 18.4.1 */
/* IA32_DEBUGCTL: LBR, BTF, TR..RTM_DEBUG (bits 15:6); bits 5:3 and 63:16 reserved, bit 2
 * (bus-lock detection) too where CPUID.(EAX=07H,ECX=0):ECX[24] is 0 (vol.4 table 2-2,
 * 18.4.1). */
#define DEBUGCTL_RESERVED (~0xffc3ull)
#define DEBUGCTL_BUS_LOCK_DETECT (1ull << 2)
#define DR7_RESERVED_HIGH (~0xffffffffull) /* 26.3.1.1: bits 63:32 of DR7 */
#define BNDCFGS_RESERVED 0xffcull          /* bits 11:2, SDM vol.1 17.3.3 */
#define BNDCFGS_BASE_SHIFT 12
#define S_CET_RESERVED 0x3c0ull             /* bits 9:6, SDM vol.1 18.3.1 */
#define S_CET_SUPPRESS (1ull << 10)
#define S_CET_TRACKER (1ull << 11)
#define SSP_ALIGN_MASK 3ull                 /* 26.2.2, 26.3.1.1: SSP bits 1:0 */
#define PKRS_RESERVED HIGH_32_BITS         /* 26.2.2, 26.3.1.1: IA32_PKRS bits 63:32 */
#define PAT_ENTRY_BITS 8
#define PAT_ENTRIES 8
#define PAT_ENTRY_MASK 0xffu
#define PAT_TYPE_WC 1u                      /* SDM vol.3 11.12.2 table 11-10 */
#define PAT_TYPE_WT 4u
#define PAT_TYPE_UC_MINUS 7u
#define FIELD_16_MASK 0xffffu               /* selectors and the VPID are 16-bit fields */
#define DESCRIPTOR_TABLE_LIMIT_MAX 0xffffull /* 26.3.1.3: GDTR/IDTR limit bits 31:16 are 0 */
#define VTPR_BYTE_MASK 0xffu
#define SELECTOR_RPL_MASK 3u
#define SELECTOR_TI (1u << 2)
#define SELECTOR_RPL_TI_MASK (SELECTOR_RPL_MASK | SELECTOR_TI)
#define SELECTOR_INDEX_SHIFT 4          /* real/virtual-8086 base = selector << 4 */
#define HIGH_32_BITS (~0xffffffffull)
#define PAGE_OFFSET_MASK 0xfffull
#define MSR_AREA_ENTRY_BYTES 16ull       /* 24.7.2: one MSR entry is 128 bits */
#define MSR_AREA_ALIGN_MASK 0xfull
#define POSTED_INTR_DESC_ALIGN_MASK 0x3full  /* 24.6.8: 64-byte aligned */
#define POSTED_INTR_VECTOR_HIGH_MASK 0xff00u /* 26.2.1.1: bits 15:8 of the notification vector */
#define VIRTUAL_APIC_VTPR_OFFSET 0x80u        /* 29.1.1: VTPR at offset 80H */
#define VTPR_PRIORITY_SHIFT 4
#define TPR_THRESHOLD_PRIORITY_MASK 0xfu
#define TPR_THRESHOLD_RESERVED (~0xfull)      /* bits 31:4 */
#define INTR_INFO_RESERVED 0x7ffff000u        /* 24.8.3: bits 30:12 */
#define ERROR_CODE_RESERVED 0xffff0000u       /* 26.2.1.3: bits 31:16 */
#define INSTRUCTION_LEN_MAX 15u
#define EXCEPTION_VECTOR_LAST 31u
#define VECTOR_MC 18u
#define VECTOR_MTF_PENDING 0u                 /* type 7 "other event": pending MTF VM exit */
/* The vectors 26.2.1.3 requires an error code for: #DF #TS #NP #SS #GP #PF #AC. #CP (21)
 * pushes one too, but only processors with CET have it, and they set IA32_VMX_BASIC[56],
 * which lifts the rule; without it vector 21 counts as one without an error code. */
#define EXCEPTIONS_WITH_ERROR_CODE ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | \
				    (1u << 13) | (1u << 14) | (1u << 17))
#define INTERRUPTIBILITY_RESERVED (~0x1full)  /* bits 31:5 */
#define PENDING_DBG_RESERVED (~(VMX_PENDING_DBG_B0_B3 | VMX_PENDING_DBG_ENABLED_BP | \
				VMX_PENDING_DBG_BS | VMX_PENDING_DBG_RTM))
#define PENDING_DBG_RTM_MUST_BE_0 (~(VMX_PENDING_DBG_ENABLED_BP | VMX_PENDING_DBG_BS | \
				     VMX_PENDING_DBG_RTM)) /* with RTM: bits 11:0, 15, 63:17 */
#define LINK_REVISION_MASK 0x7fffffffull   /* 24.2: bits 30:0 of the first 4 bytes */
#define LINK_SHADOW_INDICATOR (1ull << 31)
#define PDPTE_BYTES 8u
#define PAE_PDPT_ADDR_MASK 0xffffffe0ull    /* 4.4.1: CR3 bits 31:5 locate the PDPT */
#define PDPTE_PRESENT (1ull << 0)
#define PDPTE_RESERVED_LOW 0x1e6ull         /* 4.4.1 table 4-8: bits 2:1 and 8:5 */
#define LINEAR_WIDTH_4LEVEL 48u
#define LINEAR_WIDTH_5LEVEL 57u
#define ADDR_WIDTH_32 32u
#define EPTP_WALK_4 3ull                     /* bits 5:3 hold the walk length minus 1 */
#define EPTP_WALK_5 4ull

/* Segment access-rights fields, 24.4.1 table 24-2 */
#define AR_TYPE_ACCESSED 1u
#define AR_TYPE_READABLE 2u                  /* for code segments */
#define AR_TYPE_CODE 8u
#define AR_TYPE_LAST_NOT_CONFORMING 11u      /* data (0-7) and non-conforming code (8-11) */
#define AR_TYPE_DATA_RW_ACCESSED 3u
#define AR_TYPE_DATA_RW_DOWN_ACCESSED 7u
#define AR_TYPE_CODE_X_ACCESSED 9u
#define AR_TYPE_CODE_XR_ACCESSED 11u
#define AR_TYPE_CODE_XC_ACCESSED 13u
#define AR_TYPE_CODE_XRC_ACCESSED 15u
#define AR_TYPE_TSS16_BUSY 3u
#define AR_TYPE_TSS_BUSY 11u
#define AR_TYPE_LDT 2u
#define AR_RESERVED_11_8 0xf00u
#define AR_RESERVED_31_17 0xfffe0000u
#define AR_VIRTUAL_8086 0xf3u                /* present, DPL 3, read/write accessed data */
#define LIMIT_VIRTUAL_8086 0xffffu
#define LIMIT_LOW_12 0xfffu
#define LIMIT_HIGH_12 0xfff00000u

#define VMX_CONTROL_ALLOWED1_SHIFT 32
#define ADDRESS_BITS 64u

/* ---- results ---- */

static int check_failed(struct vmcs12_check_result *r, uint32_t insn_error, uint32_t exit_reason,
			uint64_t qualification, const char *rule)
{
	r->insn_error = insn_error;
	r->exit_reason = exit_reason;
	r->qualification = qualification;
	r->rule = rule;
	return -1;
}

static int control_failed(struct vmcs12_check_result *r, const char *rule)
{
	return check_failed(r, VMX_ERROR_ENTRY_INVALID_CONTROL, 0, 0, rule);
}

static int host_failed(struct vmcs12_check_result *r, const char *rule)
{
	return check_failed(r, VMX_ERROR_ENTRY_INVALID_HOST_STATE, 0, 0, rule);
}

static int guest_failed(struct vmcs12_check_result *r, uint64_t qualification, const char *rule)
{
	return check_failed(r, 0, VMX_EXIT_REASON_INVALID_GUEST_STATE, qualification, rule);
}

static int check_passed(struct vmcs12_check_result *r)
{
	r->insn_error = 0;
	r->exit_reason = 0;
	r->qualification = 0;
	r->rule = 0;
	return 0;
}

/* ---- small helpers ---- */

static uint64_t field(const struct vmcs12_view *v, uint32_t encoding)
{
	return v->read(v->ctx, encoding);
}

static uint32_t field32(const struct vmcs12_view *v, uint32_t encoding)
{
	return (uint32_t)v->read(v->ctx, encoding);
}

static uint32_t allowed0(uint64_t cap) { return (uint32_t)cap; }
static uint32_t allowed1(uint64_t cap) { return (uint32_t)(cap >> VMX_CONTROL_ALLOWED1_SHIFT); }

static bool beyond_width(uint64_t addr, unsigned width)
{
	return width < ADDRESS_BITS && (addr >> width) != 0;
}

/* Physical-address width for the structures a VMCS points to: MAXPHYADDR, or 32 bits when
 * IA32_VMX_BASIC[48] limits them (A.1). */
static unsigned pointer_width(const struct nvmx_caps *c)
{
	if ((c->basic & VMX_BASIC_ADDR_WIDTH_32) && c->maxphyaddr > ADDR_WIDTH_32)
		return ADDR_WIDTH_32;
	return c->maxphyaddr;
}

static bool bad_page_pointer(const struct nvmx_caps *c, uint64_t addr)
{
	return (addr & PAGE_OFFSET_MASK) || beyond_width(addr, pointer_width(c));
}

/* Linear-address width: 57 bits where the CPU offered to L1 has 5-level paging (A.8). */
static unsigned linear_width(const struct nvmx_caps *c)
{
	return (c->cr4_fixed1 & CR4_LA57) ? LINEAR_WIDTH_5LEVEL : LINEAR_WIDTH_4LEVEL;
}

static bool is_canonical(const struct nvmx_caps *c, uint64_t addr)
{
	unsigned shift = ADDRESS_BITS - linear_width(c);
	return (uint64_t)((int64_t)(addr << shift) >> shift) == addr;
}

/* PAT entries: UC(0), WC(1), WT(4), WP(5), WB(6), UC-(7); 2, 3 and above 7 are reserved. */
static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < PAT_ENTRIES; i++) {
		unsigned type = (unsigned)(pat >> (i * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK;
		if (type > PAT_TYPE_WC && (type < PAT_TYPE_WT || type > PAT_TYPE_UC_MINUS))
			return false;
	}
	return true;
}

/* An MSR area of `count` 16-byte entries: aligned to 16, first and last byte within the
 * physical-address width (26.2.1.2, 26.2.1.3). */
static bool bad_msr_area(const struct nvmx_caps *c, uint64_t addr, uint32_t count)
{
	if (count == 0)
		return false;
	unsigned width = pointer_width(c);
	return (addr & MSR_AREA_ALIGN_MASK) || beyond_width(addr, width) ||
	       beyond_width(addr + (uint64_t)count * MSR_AREA_ENTRY_BYTES - 1, width);
}

static uint32_t secondary_controls(const struct vmcs12_view *v)
{
	/* 26.2.1.1: without "activate secondary controls" the processor acts as if they were 0 */
	if (!(field32(v, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY))
		return 0;
	return field32(v, VMCS_PROC_BASED_CTLS2);
}

static unsigned intr_type(uint32_t info)
{
	return (info >> VMX_INTR_INFO_TYPE_SHIFT) & VMX_INTR_INFO_TYPE_MASK;
}

static bool is_software_event(unsigned type)
{
	return type == VMX_INTR_TYPE_SW_INTERRUPT || type == VMX_INTR_TYPE_PRIV_SW_EXCEPTION ||
	       type == VMX_INTR_TYPE_SW_EXCEPTION;
}

static unsigned ar_type(uint32_t ar) { return ar & VMX_AR_TYPE_MASK; }
static unsigned ar_dpl(uint32_t ar) { return (ar >> VMX_AR_DPL_SHIFT) & VMX_AR_DPL_MASK; }
static bool ar_usable(uint32_t ar) { return !(ar & VMX_AR_UNUSABLE); }

/* Limit vs granularity (26.3.1.2): any of limit bits 11:0 clear needs G=0, any of bits
 * 31:20 set needs G=1. */
static bool granularity_mismatch(uint32_t ar, uint32_t limit)
{
	if ((limit & LIMIT_LOW_12) != LIMIT_LOW_12 && (ar & VMX_AR_G))
		return true;
	if ((limit & LIMIT_HIGH_12) && !(ar & VMX_AR_G))
		return true;
	return false;
}

/* ==== 26.2.1.1 VM-execution control fields ==== */

static int check_execution_controls(const struct vmcs12_view *v, const struct nvmx_caps *c,
				    struct vmcs12_check_result *r)
{
	uint32_t pin = field32(v, VMCS_PIN_BASED_CTLS);
	uint32_t proc = field32(v, VMCS_PROC_BASED_CTLS);
	uint32_t proc2 = secondary_controls(v);
	uint32_t exit = field32(v, VMCS_EXIT_CTLS);
	uint32_t entry = field32(v, VMCS_ENTRY_CTLS);

	if (pin & ~allowed1(c->pinbased))
		return control_failed(r, "26.2.1.1: pin-based VM-execution controls: a bit not allowed to be 1 is set");
	if (~pin & allowed0(c->pinbased))
		return control_failed(r, "26.2.1.1: pin-based VM-execution controls: a bit not allowed to be 0 is clear");
	if (proc & ~allowed1(c->procbased))
		return control_failed(r, "26.2.1.1: primary processor-based VM-execution controls: a bit not allowed to be 1 is set");
	if (~proc & allowed0(c->procbased))
		return control_failed(r, "26.2.1.1: primary processor-based VM-execution controls: a bit not allowed to be 0 is clear");
	if (proc & VMX_PROC_ACTIVATE_SECONDARY) {
		if (proc2 & ~allowed1(c->procbased2))
			return control_failed(r, "26.2.1.1: secondary processor-based VM-execution controls: a bit not allowed to be 1 is set");
		if (~proc2 & allowed0(c->procbased2))
			return control_failed(r, "26.2.1.1: secondary processor-based VM-execution controls: a bit not allowed to be 0 is clear");
	}

	uint32_t cr3_targets = (uint32_t)((c->misc >> VMX_MISC_CR3_TARGETS_SHIFT) & VMX_MISC_CR3_TARGETS_MASK);
	if (field32(v, VMCS_CR3_TARGET_COUNT) > cr3_targets)
		return control_failed(r, "26.2.1.1: the CR3-target count is greater than IA32_VMX_MISC[24:16] allows");

	if (proc & VMX_PROC_USE_IO_BITMAPS) {
		if (bad_page_pointer(c, field(v, VMCS_IO_BITMAP_A)))
			return control_failed(r, "26.2.1.1: I/O bitmap A address is not 4-KByte aligned or beyond the physical-address width");
		if (bad_page_pointer(c, field(v, VMCS_IO_BITMAP_B)))
			return control_failed(r, "26.2.1.1: I/O bitmap B address is not 4-KByte aligned or beyond the physical-address width");
	}
	if ((proc & VMX_PROC_USE_MSR_BITMAPS) && bad_page_pointer(c, field(v, VMCS_MSR_BITMAP)))
		return control_failed(r, "26.2.1.1: MSR bitmap address is not 4-KByte aligned or beyond the physical-address width");

	if (proc & VMX_PROC_TPR_SHADOW) {
		uint64_t vapic = field(v, VMCS_VIRTUAL_APIC_ADDR);
		uint32_t threshold = field32(v, VMCS_TPR_THRESHOLD);
		if (bad_page_pointer(c, vapic))
			return control_failed(r, "26.2.1.1: virtual-APIC address is not 4-KByte aligned or beyond the physical-address width");
		if (!(proc2 & VMX_PROC2_VIRTUAL_INTR_DELIVERY) && (threshold & TPR_THRESHOLD_RESERVED))
			return control_failed(r, "26.2.1.1: TPR threshold bits 31:4 are not 0 (use TPR shadow without virtual-interrupt delivery)");
		if (!(proc2 & (VMX_PROC2_VIRTUALIZE_APIC | VMX_PROC2_VIRTUAL_INTR_DELIVERY))) {
			uint64_t page_word;
			/* An unreadable page reads as all ones on hardware: VTPR FFH passes. */
			if (v->read_phys(v->ctx, vapic + VIRTUAL_APIC_VTPR_OFFSET, &page_word) == 0) {
				uint32_t vtpr_priority = ((uint32_t)page_word & VTPR_BYTE_MASK) >> VTPR_PRIORITY_SHIFT;
				if ((threshold & TPR_THRESHOLD_PRIORITY_MASK) > vtpr_priority)
					return control_failed(r, "26.2.1.1: TPR threshold bits 3:0 are greater than VTPR bits 7:4 (virtual-APIC page offset 80H)");
			}
		}
	} else if (proc2 & (VMX_PROC2_VIRTUALIZE_X2APIC | VMX_PROC2_APIC_REGISTER_VIRT |
			    VMX_PROC2_VIRTUAL_INTR_DELIVERY)) {
		return control_failed(r, "26.2.1.1: virtualize x2APIC mode, APIC-register virtualization or virtual-interrupt delivery without use TPR shadow");
	}

	if (!(pin & VMX_PIN_NMI_EXITING) && (pin & VMX_PIN_VIRTUAL_NMIS))
		return control_failed(r, "26.2.1.1: virtual NMIs is 1 and NMI exiting is 0");
	if (!(pin & VMX_PIN_VIRTUAL_NMIS) && (proc & VMX_PROC_NMI_WINDOW_EXITING))
		return control_failed(r, "26.2.1.1: NMI-window exiting is 1 and virtual NMIs is 0");

	if ((proc2 & VMX_PROC2_VIRTUALIZE_APIC) && bad_page_pointer(c, field(v, VMCS_APIC_ACCESS_ADDR)))
		return control_failed(r, "26.2.1.1: APIC-access address is not 4-KByte aligned or beyond the physical-address width");
	if ((proc2 & VMX_PROC2_VIRTUALIZE_X2APIC) && (proc2 & VMX_PROC2_VIRTUALIZE_APIC))
		return control_failed(r, "26.2.1.1: virtualize x2APIC mode and virtualize APIC accesses are both 1");
	if ((proc2 & VMX_PROC2_VIRTUAL_INTR_DELIVERY) && !(pin & VMX_PIN_EXTERNAL_INTR_EXITING))
		return control_failed(r, "26.2.1.1: virtual-interrupt delivery is 1 and external-interrupt exiting is 0");

	if (pin & VMX_PIN_POSTED_INTERRUPTS) {
		uint64_t desc = field(v, VMCS_POSTED_INTR_DESC_ADDR);
		if (!(proc2 & VMX_PROC2_VIRTUAL_INTR_DELIVERY))
			return control_failed(r, "26.2.1.1: process posted interrupts is 1 and virtual-interrupt delivery is 0");
		if (!(exit & VMX_EXIT_CTL_ACK_INTR_ON_EXIT))
			return control_failed(r, "26.2.1.1: process posted interrupts is 1 and acknowledge interrupt on exit is 0");
		if (field32(v, VMCS_POSTED_INTR_NOTIFICATION_VECTOR) & POSTED_INTR_VECTOR_HIGH_MASK)
			return control_failed(r, "26.2.1.1: posted-interrupt notification vector bits 15:8 are not 0");
		if ((desc & POSTED_INTR_DESC_ALIGN_MASK) || beyond_width(desc, pointer_width(c)))
			return control_failed(r, "26.2.1.1: posted-interrupt descriptor address is not 64-byte aligned or beyond the physical-address width");
	}

	if ((proc2 & VMX_PROC2_ENABLE_VPID) && (field32(v, VMCS_VPID) & FIELD_16_MASK) == 0)
		return control_failed(r, "26.2.1.1: enable VPID is 1 and the VPID is 0000H");

	if (proc2 & VMX_PROC2_ENABLE_EPT) {
		uint64_t eptp = field(v, VMCS_EPT_POINTER);
		uint64_t memtype = eptp & VMX_EPTP_MEMTYPE_MASK;
		uint64_t walk = (eptp >> VMX_EPTP_WALK_SHIFT) & VMX_EPTP_WALK_MASK;
		if (!(memtype == VMX_EPTP_MEMTYPE_UC && (c->ept_vpid_cap & VMX_EPT_CAP_MEMTYPE_UC)) &&
		    !(memtype == VMX_EPTP_MEMTYPE_WB && (c->ept_vpid_cap & VMX_EPT_CAP_MEMTYPE_WB)))
			return control_failed(r, "26.2.1.1: EPTP memory type (bits 2:0) is not UC or WB as IA32_VMX_EPT_VPID_CAP allows");
		if (!(walk == EPTP_WALK_4 && (c->ept_vpid_cap & VMX_EPT_CAP_WALK_4)) &&
		    !(walk == EPTP_WALK_5 && (c->ept_vpid_cap & VMX_EPT_CAP_WALK_5)))
			return control_failed(r, "26.2.1.1: EPTP page-walk length (bits 5:3) is not one IA32_VMX_EPT_VPID_CAP allows");
		if ((eptp & VMX_EPTP_ACCESSED_DIRTY) && !(c->ept_vpid_cap & VMX_EPT_CAP_ACCESSED_DIRTY))
			return control_failed(r, "26.2.1.1: EPTP enables accessed and dirty flags (bit 6) and IA32_VMX_EPT_VPID_CAP[21] is 0");
		/* Bit 7 (supervisor shadow-stack control) exists only with CET. */
		if ((eptp & VMX_EPTP_SUPERVISOR_SHADOW_STACK) && !(c->cr4_fixed1 & CR4_CET))
			return control_failed(r, "26.2.1.1: EPTP bit 7 (supervisor shadow-stack control) is set without CET");
		if ((eptp & VMX_EPTP_RESERVED_11_8) || beyond_width(eptp, c->maxphyaddr))
			return control_failed(r, "26.2.1.1: EPTP reserved bits 11:8 or bits beyond the physical-address width are set");
	}

	if (proc2 & VMX_PROC2_ENABLE_PML) {
		if (!(proc2 & VMX_PROC2_ENABLE_EPT))
			return control_failed(r, "26.2.1.1: enable PML is 1 and enable EPT is 0");
		if (bad_page_pointer(c, field(v, VMCS_PML_ADDRESS)))
			return control_failed(r, "26.2.1.1: PML address is not 4-KByte aligned or beyond the physical-address width");
	}
	if ((proc2 & VMX_PROC2_UNRESTRICTED_GUEST) && !(proc2 & VMX_PROC2_ENABLE_EPT))
		return control_failed(r, "26.2.1.1: unrestricted guest is 1 and enable EPT is 0");
	if ((proc2 & VMX_PROC2_MODE_BASED_EPT_EXEC) && !(proc2 & VMX_PROC2_ENABLE_EPT))
		return control_failed(r, "26.2.1.1: mode-based execute control for EPT is 1 and enable EPT is 0");
	if (proc2 & VMX_PROC2_SUB_PAGE_WRITE) {
		if (!(proc2 & VMX_PROC2_ENABLE_EPT))
			return control_failed(r, "26.2.1.1: sub-page write permissions for EPT is 1 and enable EPT is 0");
		if (bad_page_pointer(c, field(v, VMCS_SPP_TABLE_POINTER)))
			return control_failed(r, "26.2.1.1: SPP-table pointer bits 11:0 or bits beyond the physical-address width are set");
	}
	if (proc2 & VMX_PROC2_PT_USES_GPA) {
		if (!(proc2 & VMX_PROC2_ENABLE_EPT))
			return control_failed(r, "26.2.1.1: Intel PT uses guest physical addresses is 1 and enable EPT is 0");
		if (!(exit & VMX_EXIT_CTL_CLEAR_IA32_RTIT_CTL))
			return control_failed(r, "26.2.1.1: Intel PT uses guest physical addresses is 1 and the clear IA32_RTIT_CTL VM-exit control is 0");
		if (!(entry & VMX_ENTRY_CTL_LOAD_IA32_RTIT_CTL))
			return control_failed(r, "26.2.1.1: Intel PT uses guest physical addresses is 1 and the load IA32_RTIT_CTL VM-entry control is 0");
	}

	if (proc2 & VMX_PROC2_ENABLE_VMFUNC) {
		uint64_t vmfunc = field(v, VMCS_VMFUNC_CONTROLS);
		if (vmfunc & ~c->vmfunc)
			return control_failed(r, "26.2.1.1: VM-function controls set a bit IA32_VMX_VMFUNC does not allow");
		if (vmfunc & VMX_VMFUNC_EPTP_SWITCHING) {
			if (!(proc2 & VMX_PROC2_ENABLE_EPT))
				return control_failed(r, "26.2.1.1: EPTP switching is 1 and enable EPT is 0");
			if (bad_page_pointer(c, field(v, VMCS_EPTP_LIST_ADDR)))
				return control_failed(r, "26.2.1.1: EPTP-list address is not 4-KByte aligned or beyond the physical-address width");
		}
	}

	if (proc2 & VMX_PROC2_VMCS_SHADOWING) {
		if (bad_page_pointer(c, field(v, VMCS_VMREAD_BITMAP)))
			return control_failed(r, "26.2.1.1: VMREAD-bitmap address is not 4-KByte aligned or beyond the physical-address width");
		if (bad_page_pointer(c, field(v, VMCS_VMWRITE_BITMAP)))
			return control_failed(r, "26.2.1.1: VMWRITE-bitmap address is not 4-KByte aligned or beyond the physical-address width");
	}
	if ((proc2 & VMX_PROC2_EPT_VIOLATION_VE) && bad_page_pointer(c, field(v, VMCS_VE_INFO_ADDR)))
		return control_failed(r, "26.2.1.1: virtualization-exception information address is not 4-KByte aligned or beyond the physical-address width");
	return 0;
}

/* ==== 26.2.1.2 VM-exit control fields ==== */

static int check_exit_controls(const struct vmcs12_view *v, const struct nvmx_caps *c,
			       struct vmcs12_check_result *r)
{
	uint32_t exit = field32(v, VMCS_EXIT_CTLS);
	uint32_t pin = field32(v, VMCS_PIN_BASED_CTLS);

	if (exit & ~allowed1(c->exit))
		return control_failed(r, "26.2.1.2: VM-exit controls: a bit not allowed to be 1 is set");
	if (~exit & allowed0(c->exit))
		return control_failed(r, "26.2.1.2: VM-exit controls: a bit not allowed to be 0 is clear");
	if (!(pin & VMX_PIN_PREEMPTION_TIMER) && (exit & VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER))
		return control_failed(r, "26.2.1.2: save VMX-preemption timer value is 1 and activate VMX-preemption timer is 0");
	if (bad_msr_area(c, field(v, VMCS_EXIT_MSR_STORE_ADDR), field32(v, VMCS_EXIT_MSR_STORE_COUNT)))
		return control_failed(r, "26.2.1.2: VM-exit MSR-store address is not 16-byte aligned or the area goes beyond the physical-address width");
	if (bad_msr_area(c, field(v, VMCS_EXIT_MSR_LOAD_ADDR), field32(v, VMCS_EXIT_MSR_LOAD_COUNT)))
		return control_failed(r, "26.2.1.2: VM-exit MSR-load address is not 16-byte aligned or the area goes beyond the physical-address width");
	return 0;
}

/* ==== 26.2.1.3 VM-entry control fields ==== */

static int check_event_injection(const struct vmcs12_view *v, const struct nvmx_caps *c,
				 struct vmcs12_check_result *r)
{
	uint32_t info = field32(v, VMCS_ENTRY_INTR_INFO);
	if (!(info & VMX_INTR_INFO_VALID))
		return 0;
	unsigned type = intr_type(info);
	unsigned vector = info & VMX_INTR_INFO_VECTOR_MASK;
	bool unrestricted = secondary_controls(v) & VMX_PROC2_UNRESTRICTED_GUEST;
	bool protected_mode = !unrestricted || (field(v, VMCS_GUEST_CR0) & VMX_CR0_PE);
	bool has_error_code = info & VMX_INTR_INFO_ERROR_VALID;

	if (type == VMX_INTR_TYPE_RESERVED)
		return control_failed(r, "26.2.1.3: VM-entry interruption type 1 is reserved");
	if (type == VMX_INTR_TYPE_OTHER_EVENT && !(allowed1(c->procbased) & VMX_PROC_MONITOR_TRAP_FLAG))
		return control_failed(r, "26.2.1.3: VM-entry interruption type 7 is reserved without the monitor trap flag control");
	if (type == VMX_INTR_TYPE_NMI && vector != VECTOR_NMI)
		return control_failed(r, "26.2.1.3: VM-entry interruption type NMI with a vector other than 2");
	if (type == VMX_INTR_TYPE_HW_EXCEPTION && vector > EXCEPTION_VECTOR_LAST)
		return control_failed(r, "26.2.1.3: VM-entry interruption type hardware exception with a vector above 31");
	if (type == VMX_INTR_TYPE_OTHER_EVENT && vector != VECTOR_MTF_PENDING)
		return control_failed(r, "26.2.1.3: VM-entry interruption type other event with a vector other than 0");

	/* With IA32_VMX_BASIC[56] a hardware exception in protected mode may carry an error code
	 * or not, whatever its vector; everything else must match the vector (A.1). */
	bool free_choice = type == VMX_INTR_TYPE_HW_EXCEPTION && protected_mode &&
			   (c->basic & VMX_BASIC_NO_HW_ERRCODE_CHECK);
	if (!free_choice) {
		bool needs_error_code = type == VMX_INTR_TYPE_HW_EXCEPTION && protected_mode &&
					((EXCEPTIONS_WITH_ERROR_CODE >> vector) & 1u);
		if (has_error_code && !needs_error_code)
			return control_failed(r, "26.2.1.3: deliver-error-code is 1 for an event without an error code (not a hardware exception that pushes one, or CR0.PE=0 under unrestricted guest)");
		if (!has_error_code && needs_error_code)
			return control_failed(r, "26.2.1.3: deliver-error-code is 0 for a hardware exception that pushes an error code in protected mode");
	}
	if (info & INTR_INFO_RESERVED)
		return control_failed(r, "26.2.1.3: VM-entry interruption-information bits 30:12 are not 0");
	if (has_error_code && (field32(v, VMCS_ENTRY_EXCEPTION_ERROR_CODE) & ERROR_CODE_RESERVED))
		return control_failed(r, "26.2.1.3: VM-entry exception error code bits 31:16 are not 0");
	if (is_software_event(type)) {
		uint32_t length = field32(v, VMCS_ENTRY_INSTRUCTION_LEN);
		if (length > INSTRUCTION_LEN_MAX)
			return control_failed(r, "26.2.1.3: VM-entry instruction length is above 15 for a software interrupt or exception");
		if (length == 0 && !(c->misc & VMX_MISC_ZERO_LEN_INJECTION))
			return control_failed(r, "26.2.1.3: VM-entry instruction length is 0 for a software interrupt or exception and IA32_VMX_MISC[30] is 0");
	}
	return 0;
}

static int check_entry_controls(const struct vmcs12_view *v, const struct nvmx_caps *c,
				struct vmcs12_check_result *r)
{
	uint32_t entry = field32(v, VMCS_ENTRY_CTLS);

	if (entry & ~allowed1(c->entry))
		return control_failed(r, "26.2.1.3: VM-entry controls: a bit not allowed to be 1 is set");
	if (~entry & allowed0(c->entry))
		return control_failed(r, "26.2.1.3: VM-entry controls: a bit not allowed to be 0 is clear");
	if (check_event_injection(v, c, r))
		return -1;
	if (bad_msr_area(c, field(v, VMCS_ENTRY_MSR_LOAD_ADDR), field32(v, VMCS_ENTRY_MSR_LOAD_COUNT)))
		return control_failed(r, "26.2.1.3: VM-entry MSR-load address is not 16-byte aligned or the area goes beyond the physical-address width");
	/* L1 never runs in SMM under nestbed. */
	if (entry & VMX_ENTRY_CTL_ENTRY_TO_SMM)
		return control_failed(r, "26.2.1.3: entry to SMM is 1 outside SMM");
	if (entry & VMX_ENTRY_CTL_DEACTIVATE_DUAL_MONITOR)
		return control_failed(r, "26.2.1.3: deactivate dual-monitor treatment is 1 outside SMM");
	return 0;
}

int vmcs12_check_controls(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r)
{
	if (check_execution_controls(v, c, r) || check_exit_controls(v, c, r) || check_entry_controls(v, c, r))
		return -1;
	return check_passed(r);
}

/* ==== 26.2.2 host control registers and MSRs ==== */

static bool cr_fixed_mismatch(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (~value & fixed0) || (value & ~fixed1);
}

static int check_host_control_registers(const struct vmcs12_view *v, const struct nvmx_caps *c,
					struct vmcs12_check_result *r)
{
	uint32_t exit = field32(v, VMCS_EXIT_CTLS);
	uint64_t cr0 = field(v, VMCS_HOST_CR0);
	uint64_t cr4 = field(v, VMCS_HOST_CR4);
	bool host_64 = exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;

	if (cr_fixed_mismatch(cr0, c->cr0_fixed0, c->cr0_fixed1))
		return host_failed(r, "26.2.2: host CR0 does not have the bits IA32_VMX_CR0_FIXED0/FIXED1 fix");
	if (cr_fixed_mismatch(cr4, c->cr4_fixed0, c->cr4_fixed1))
		return host_failed(r, "26.2.2: host CR4 does not have the bits IA32_VMX_CR4_FIXED0/FIXED1 fix");
	if (beyond_width(field(v, VMCS_HOST_CR3), c->maxphyaddr))
		return host_failed(r, "26.2.2: host CR3 sets bits beyond the physical-address width");
	if ((cr4 & CR4_CET) && !(cr0 & VMX_CR0_WP))
		return host_failed(r, "26.2.2: host CR4.CET is 1 and CR0.WP is 0");
	if (!is_canonical(c, field(v, VMCS_HOST_SYSENTER_ESP)))
		return host_failed(r, "26.2.2: host IA32_SYSENTER_ESP is not canonical");
	if (!is_canonical(c, field(v, VMCS_HOST_SYSENTER_EIP)))
		return host_failed(r, "26.2.2: host IA32_SYSENTER_EIP is not canonical");
	if (exit & VMX_EXIT_CTL_LOAD_CET_STATE) {
		uint64_t s_cet = field(v, VMCS_HOST_S_CET);
		if (s_cet & S_CET_RESERVED)
			return host_failed(r, "26.2.2: host IA32_S_CET sets reserved bits 9:6");
		if ((s_cet & S_CET_SUPPRESS) && (s_cet & S_CET_TRACKER))
			return host_failed(r, "26.2.2: host IA32_S_CET sets both SUPPRESS (bit 10) and TRACKER (bit 11)");
		if (!is_canonical(c, s_cet) || (!host_64 && (s_cet & HIGH_32_BITS)))
			return host_failed(r, "26.2.2: host IA32_S_CET is not canonical (or bits 63:32 are not 0 with host address-space size 0)");
		uint64_t ssp = field(v, VMCS_HOST_SSP);
		if (!is_canonical(c, ssp) || (!host_64 && (ssp & HIGH_32_BITS)))
			return host_failed(r, "26.2.2: host SSP is not canonical (or bits 63:32 are not 0 with host address-space size 0)");
		if (ssp & SSP_ALIGN_MASK)
			return host_failed(r, "26.2.2: host SSP bits 1:0 are not 0");
		if (!is_canonical(c, field(v, VMCS_HOST_INTR_SSP_TABLE_ADDR)))
			return host_failed(r, "26.2.2: host IA32_INTERRUPT_SSP_TABLE_ADDR is not canonical");
	}
	if ((exit & VMX_EXIT_CTL_LOAD_IA32_PAT) && !pat_valid(field(v, VMCS_HOST_IA32_PAT)))
		return host_failed(r, "26.2.2: host IA32_PAT has an entry with a reserved memory type (2, 3 or above 7)");
	if (exit & VMX_EXIT_CTL_LOAD_IA32_EFER) {
		uint64_t efer = field(v, VMCS_HOST_IA32_EFER);
		if (efer & ~EFER_INTEL_BITS)
			return host_failed(r, "26.2.2: host IA32_EFER sets reserved bits");
		if (!!(efer & EFER_LMA) != host_64)
			return host_failed(r, "26.2.2: host IA32_EFER.LMA differs from the host address-space size VM-exit control");
		if (!!(efer & EFER_LME) != host_64)
			return host_failed(r, "26.2.2: host IA32_EFER.LME differs from the host address-space size VM-exit control");
	}
	if ((exit & VMX_EXIT_CTL_LOAD_PKRS) && (field(v, VMCS_HOST_IA32_PKRS) & PKRS_RESERVED))
		return host_failed(r, "26.2.2: host IA32_PKRS bits 63:32 are not 0");
	return 0;
}

/* ==== 26.2.3 host segment and descriptor-table registers ==== */

static const struct {
	uint32_t encoding;
	const char *rule;
} host_selectors[] = {
	{ VMCS_HOST_ES_SELECTOR, "26.2.3: host ES selector has RPL or TI set" },
	{ VMCS_HOST_CS_SELECTOR, "26.2.3: host CS selector has RPL or TI set" },
	{ VMCS_HOST_SS_SELECTOR, "26.2.3: host SS selector has RPL or TI set" },
	{ VMCS_HOST_DS_SELECTOR, "26.2.3: host DS selector has RPL or TI set" },
	{ VMCS_HOST_FS_SELECTOR, "26.2.3: host FS selector has RPL or TI set" },
	{ VMCS_HOST_GS_SELECTOR, "26.2.3: host GS selector has RPL or TI set" },
	{ VMCS_HOST_TR_SELECTOR, "26.2.3: host TR selector has RPL or TI set" },
};

static const struct {
	uint32_t encoding;
	const char *rule;
} host_bases[] = {
	{ VMCS_HOST_FS_BASE, "26.2.3: host FS base is not canonical" },
	{ VMCS_HOST_GS_BASE, "26.2.3: host GS base is not canonical" },
	{ VMCS_HOST_GDTR_BASE, "26.2.3: host GDTR base is not canonical" },
	{ VMCS_HOST_IDTR_BASE, "26.2.3: host IDTR base is not canonical" },
	{ VMCS_HOST_TR_BASE, "26.2.3: host TR base is not canonical" },
};

static int check_host_segments(const struct vmcs12_view *v, const struct nvmx_caps *c,
			       struct vmcs12_check_result *r)
{
	bool host_64 = field32(v, VMCS_EXIT_CTLS) & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;

	for (unsigned i = 0; i < sizeof host_selectors / sizeof host_selectors[0]; i++)
		if (field32(v, host_selectors[i].encoding) & SELECTOR_RPL_TI_MASK)
			return host_failed(r, host_selectors[i].rule);
	if ((field32(v, VMCS_HOST_CS_SELECTOR) & FIELD_16_MASK) == 0)
		return host_failed(r, "26.2.3: host CS selector is 0000H");
	if ((field32(v, VMCS_HOST_TR_SELECTOR) & FIELD_16_MASK) == 0)
		return host_failed(r, "26.2.3: host TR selector is 0000H");
	if (!host_64 && (field32(v, VMCS_HOST_SS_SELECTOR) & FIELD_16_MASK) == 0)
		return host_failed(r, "26.2.3: host SS selector is 0000H and host address-space size is 0");
	for (unsigned i = 0; i < sizeof host_bases / sizeof host_bases[0]; i++)
		if (!is_canonical(c, field(v, host_bases[i].encoding)))
			return host_failed(r, host_bases[i].rule);
	return 0;
}

/* ==== 26.2.4 checks related to address-space size (the part the VMCS12 decides) ==== */

static int check_host_address_space(const struct vmcs12_view *v, const struct nvmx_caps *c,
				    struct vmcs12_check_result *r)
{
	uint32_t exit = field32(v, VMCS_EXIT_CTLS);
	uint64_t cr4 = field(v, VMCS_HOST_CR4);
	uint64_t rip = field(v, VMCS_HOST_RIP);

	if (!(exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE)) {
		if (field32(v, VMCS_ENTRY_CTLS) & VMX_ENTRY_CTL_IA32E_MODE_GUEST)
			return host_failed(r, "26.2.4: IA-32e mode guest is 1 and host address-space size is 0");
		if (cr4 & VMX_CR4_PCIDE)
			return host_failed(r, "26.2.4: host CR4.PCIDE is 1 and host address-space size is 0");
		if (rip & HIGH_32_BITS)
			return host_failed(r, "26.2.4: host RIP bits 63:32 are not 0 and host address-space size is 0");
	} else {
		if (!(cr4 & VMX_CR4_PAE))
			return host_failed(r, "26.2.4: host CR4.PAE is 0 and host address-space size is 1");
		if (!is_canonical(c, rip))
			return host_failed(r, "26.2.4: host RIP is not canonical and host address-space size is 1");
	}
	return 0;
}

int vmcs12_check_host_state(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r)
{
	if (check_host_control_registers(v, c, r) || check_host_segments(v, c, r) ||
	    check_host_address_space(v, c, r))
		return -1;
	return check_passed(r);
}

int vmcs12_check_l1_mode(const struct vmcs12_view *v, bool l1_in_ia32e_mode, struct vmcs12_check_result *r)
{
	uint32_t exit = field32(v, VMCS_EXIT_CTLS);
	uint32_t entry = field32(v, VMCS_ENTRY_CTLS);

	if (!l1_in_ia32e_mode && (entry & VMX_ENTRY_CTL_IA32E_MODE_GUEST))
		return host_failed(r, "26.2.4: IA-32e mode guest is 1 and the logical processor is outside IA-32e mode");
	if (!l1_in_ia32e_mode && (exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE))
		return host_failed(r, "26.2.4: host address-space size is 1 and the logical processor is outside IA-32e mode");
	if (l1_in_ia32e_mode && !(exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE))
		return host_failed(r, "26.2.4: host address-space size is 0 and the logical processor is in IA-32e mode");
	return check_passed(r);
}

/* ==== 26.3.1 guest state ==== */

/* What several guest checks need, read once. */
struct guest_context {
	uint32_t pin, proc2, entry, intr_info;
	uint64_t cr0, cr4, rflags;
	bool ia32e, unrestricted, virtual_8086;
};

static void read_guest_context(const struct vmcs12_view *v, struct guest_context *g)
{
	g->pin = field32(v, VMCS_PIN_BASED_CTLS);
	g->proc2 = secondary_controls(v);
	g->entry = field32(v, VMCS_ENTRY_CTLS);
	g->intr_info = field32(v, VMCS_ENTRY_INTR_INFO);
	g->cr0 = field(v, VMCS_GUEST_CR0);
	g->cr4 = field(v, VMCS_GUEST_CR4);
	g->rflags = field(v, VMCS_GUEST_RFLAGS);
	g->ia32e = g->entry & VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	g->unrestricted = g->proc2 & VMX_PROC2_UNRESTRICTED_GUEST;
	g->virtual_8086 = g->rflags & RFLAGS_VM;
}

static bool injecting(const struct guest_context *g, unsigned type)
{
	return (g->intr_info & VMX_INTR_INFO_VALID) && intr_type(g->intr_info) == type;
}

/* ---- 26.3.1.1 control registers, debug registers and MSRs ---- */

static int check_guest_control_registers(const struct vmcs12_view *v, const struct nvmx_caps *c,
					 const struct guest_context *g, struct vmcs12_check_result *r)
{
	uint64_t cr0_fixed0 = c->cr0_fixed0;
	if (g->unrestricted) /* PE and PG may then be 0 */
		cr0_fixed0 &= ~(VMX_CR0_PE | VMX_CR0_PG);

	if (cr_fixed_mismatch(g->cr0, cr0_fixed0, c->cr0_fixed1))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR0 does not have the bits IA32_VMX_CR0_FIXED0/FIXED1 fix (PE and PG exempt under unrestricted guest)");
	if ((g->cr0 & VMX_CR0_PG) && !(g->cr0 & VMX_CR0_PE))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR0.PG is 1 and CR0.PE is 0");
	if (cr_fixed_mismatch(g->cr4, c->cr4_fixed0, c->cr4_fixed1))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR4 does not have the bits IA32_VMX_CR4_FIXED0/FIXED1 fix");
	if ((g->cr4 & CR4_CET) && !(g->cr0 & VMX_CR0_WP))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR4.CET is 1 and CR0.WP is 0");
	if ((g->entry & VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS) &&
	    (field(v, VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_RESERVED &
	     ~(c->bus_lock_detect ? DEBUGCTL_BUS_LOCK_DETECT : 0)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits (load debug controls is 1)");
	if (g->ia32e && !(g->cr0 & VMX_CR0_PG))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: IA-32e mode guest is 1 and guest CR0.PG is 0");
	if (g->ia32e && !(g->cr4 & VMX_CR4_PAE))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: IA-32e mode guest is 1 and guest CR4.PAE is 0");
	if (!g->ia32e && (g->cr4 & VMX_CR4_PCIDE))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: IA-32e mode guest is 0 and guest CR4.PCIDE is 1");
	if (beyond_width(field(v, VMCS_GUEST_CR3), c->maxphyaddr))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR3 sets bits beyond the physical-address width");
	if ((g->entry & VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS) && (field(v, VMCS_GUEST_DR7) & DR7_RESERVED_HIGH))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest DR7 bits 63:32 are not 0 (load debug controls is 1)");
	if (!is_canonical(c, field(v, VMCS_GUEST_SYSENTER_ESP)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_SYSENTER_ESP is not canonical");
	if (!is_canonical(c, field(v, VMCS_GUEST_SYSENTER_EIP)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_SYSENTER_EIP is not canonical");
	if ((g->entry & VMX_ENTRY_CTL_LOAD_IA32_PAT) && !pat_valid(field(v, VMCS_GUEST_IA32_PAT)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_PAT has an entry with a reserved memory type (2, 3 or above 7)");
	if (g->entry & VMX_ENTRY_CTL_LOAD_IA32_EFER) {
		uint64_t efer = field(v, VMCS_GUEST_IA32_EFER);
		if (efer & ~EFER_INTEL_BITS)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_EFER sets reserved bits");
		if (!!(efer & EFER_LMA) != g->ia32e)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_EFER.LMA differs from the IA-32e mode guest VM-entry control");
		if ((g->cr0 & VMX_CR0_PG) && !!(efer & EFER_LME) != g->ia32e)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest CR0.PG is 1 and IA32_EFER.LME differs from IA32_EFER.LMA");
	}
	if (g->entry & VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS) {
		uint64_t bndcfgs = field(v, VMCS_GUEST_IA32_BNDCFGS);
		if (bndcfgs & BNDCFGS_RESERVED)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_BNDCFGS sets reserved bits 11:2");
		if (!is_canonical(c, bndcfgs & ~((1ull << BNDCFGS_BASE_SHIFT) - 1)))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_BNDCFGS base (bits 63:12) is not canonical");
	}
	if (g->entry & VMX_ENTRY_CTL_LOAD_CET_STATE) {
		uint64_t s_cet = field(v, VMCS_GUEST_S_CET);
		if (s_cet & S_CET_RESERVED)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_S_CET sets reserved bits 9:6");
		if ((s_cet & S_CET_SUPPRESS) && (s_cet & S_CET_TRACKER))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_S_CET sets both SUPPRESS (bit 10) and TRACKER (bit 11)");
		if (!is_canonical(c, s_cet) || (!g->ia32e && (s_cet & HIGH_32_BITS)))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_S_CET is not canonical (or bits 63:32 are not 0 outside IA-32e mode)");
		uint64_t ssp = field(v, VMCS_GUEST_SSP);
		if (!is_canonical(c, ssp) || (!g->ia32e && (ssp & HIGH_32_BITS)))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest SSP is not canonical (or bits 63:32 are not 0 outside IA-32e mode)");
		if (ssp & SSP_ALIGN_MASK)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest SSP bits 1:0 are not 0");
		if (!is_canonical(c, field(v, VMCS_GUEST_INTR_SSP_TABLE_ADDR)))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_INTERRUPT_SSP_TABLE_ADDR is not canonical");
	}
	if ((g->entry & VMX_ENTRY_CTL_LOAD_PKRS) && (field(v, VMCS_GUEST_IA32_PKRS) & PKRS_RESERVED))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.1: guest IA32_PKRS bits 63:32 are not 0");
	return 0;
}

/* ---- 26.3.1.2 segment registers ---- */

enum guest_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_TR, SEG_LDTR, SEG_COUNT };

struct segment {
	uint32_t selector, limit, ar;
	uint64_t base;
};

static const struct {
	uint32_t selector, base, limit, ar;
	const char *name;
} segment_fields[SEG_COUNT] = {
	[SEG_ES] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, "ES" },
	[SEG_CS] = { VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, "CS" },
	[SEG_SS] = { VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, "SS" },
	[SEG_DS] = { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, "DS" },
	[SEG_FS] = { VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, "FS" },
	[SEG_GS] = { VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, "GS" },
	[SEG_TR] = { VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, "TR" },
	[SEG_LDTR] = { VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR, "LDTR" },
};

/* The rules that apply to each of DS, ES, FS, GS alike, one string per register so the
 * report names it. Index: SEG_ES, SEG_DS, SEG_FS, SEG_GS. */
enum data_segment_rule {
	DATA_BASE_HIGH, DATA_NOT_ACCESSED, DATA_CODE_NOT_READABLE, DATA_S, DATA_DPL, DATA_P,
	DATA_RESERVED_11_8, DATA_GRANULARITY, DATA_RESERVED_31_17, DATA_V86_BASE, DATA_V86_LIMIT,
	DATA_V86_AR, DATA_BASE_CANONICAL, DATA_RULE_COUNT
};

#define DATA_SEGMENT_RULES(reg) { \
	[DATA_BASE_HIGH] = "26.3.1.2: guest " reg " is usable and its base bits 63:32 are not 0", \
	[DATA_NOT_ACCESSED] = "26.3.1.2: guest " reg " is usable and its type is not accessed (bit 0)", \
	[DATA_CODE_NOT_READABLE] = "26.3.1.2: guest " reg " is usable and is an execute-only code segment", \
	[DATA_S] = "26.3.1.2: guest " reg " is usable and its S bit is 0", \
	[DATA_DPL] = "26.3.1.2: guest " reg " is usable, data or non-conforming code, and its DPL is below its RPL", \
	[DATA_P] = "26.3.1.2: guest " reg " is usable and not present", \
	[DATA_RESERVED_11_8] = "26.3.1.2: guest " reg " is usable and its access-rights bits 11:8 are not 0", \
	[DATA_GRANULARITY] = "26.3.1.2: guest " reg " is usable and its G bit does not match its limit", \
	[DATA_RESERVED_31_17] = "26.3.1.2: guest " reg " is usable and its access-rights bits 31:17 are not 0", \
	[DATA_V86_BASE] = "26.3.1.2: virtual-8086 guest " reg " base is not its selector times 16", \
	[DATA_V86_LIMIT] = "26.3.1.2: virtual-8086 guest " reg " limit is not FFFFH", \
	[DATA_V86_AR] = "26.3.1.2: virtual-8086 guest " reg " access rights are not F3H", \
	[DATA_BASE_CANONICAL] = "26.3.1.2: guest " reg " base is not canonical", \
}

static const char *const data_segment_rules[SEG_COUNT][DATA_RULE_COUNT] = {
	[SEG_ES] = DATA_SEGMENT_RULES("ES"),
	[SEG_DS] = DATA_SEGMENT_RULES("DS"),
	[SEG_FS] = DATA_SEGMENT_RULES("FS"),
	[SEG_GS] = DATA_SEGMENT_RULES("GS"),
	[SEG_SS] = DATA_SEGMENT_RULES("SS"),
	[SEG_CS] = DATA_SEGMENT_RULES("CS"),
};

static int check_virtual_8086_segment(const struct segment *s, enum guest_segment i,
				      struct vmcs12_check_result *r)
{
	if (s->base != (uint64_t)s->selector << SELECTOR_INDEX_SHIFT)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, data_segment_rules[i][DATA_V86_BASE]);
	if (s->limit != LIMIT_VIRTUAL_8086)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, data_segment_rules[i][DATA_V86_LIMIT]);
	if (s->ar != AR_VIRTUAL_8086)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, data_segment_rules[i][DATA_V86_AR]);
	return 0;
}

/* DS, ES, FS, GS outside virtual-8086 mode (and the common part of SS). */
static int check_data_segment(const struct nvmx_caps *c, const struct guest_context *g,
			      const struct segment *s, enum guest_segment i, struct vmcs12_check_result *r)
{
	const char *const *rule = data_segment_rules[i];
	unsigned type = ar_type(s->ar);

	if ((i == SEG_FS || i == SEG_GS) && !is_canonical(c, s->base))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_BASE_CANONICAL]);
	if (!ar_usable(s->ar))
		return 0;
	if ((i == SEG_DS || i == SEG_ES || i == SEG_SS) && (s->base & HIGH_32_BITS))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_BASE_HIGH]);
	if (i != SEG_SS) {
		if (!(type & AR_TYPE_ACCESSED))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_NOT_ACCESSED]);
		if ((type & AR_TYPE_CODE) && !(type & AR_TYPE_READABLE))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_CODE_NOT_READABLE]);
	}
	if (!(s->ar & VMX_AR_S))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_S]);
	if (i != SEG_SS && !g->unrestricted && type <= AR_TYPE_LAST_NOT_CONFORMING &&
	    ar_dpl(s->ar) < (s->selector & SELECTOR_RPL_MASK))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_DPL]);
	if (!(s->ar & VMX_AR_P))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_P]);
	if (s->ar & AR_RESERVED_11_8)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_RESERVED_11_8]);
	if (granularity_mismatch(s->ar, s->limit))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_GRANULARITY]);
	if (s->ar & AR_RESERVED_31_17)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, rule[DATA_RESERVED_31_17]);
	return 0;
}

static int check_guest_segments(const struct vmcs12_view *v, const struct nvmx_caps *c,
				const struct guest_context *g, struct vmcs12_check_result *r)
{
	struct segment seg[SEG_COUNT];
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		seg[i].selector = field32(v, segment_fields[i].selector) & FIELD_16_MASK;
		seg[i].base = field(v, segment_fields[i].base);
		seg[i].limit = field32(v, segment_fields[i].limit);
		seg[i].ar = field32(v, segment_fields[i].ar);
	}
	const struct segment *cs = &seg[SEG_CS], *ss = &seg[SEG_SS];
	const struct segment *tr = &seg[SEG_TR], *ldtr = &seg[SEG_LDTR];
	unsigned cs_type = ar_type(cs->ar);

	/* Selectors */
	if (tr->selector & SELECTOR_TI)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR selector has TI set");
	if (ar_usable(ldtr->ar) && (ldtr->selector & SELECTOR_TI))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its selector has TI set");
	if (!g->virtual_8086 && !g->unrestricted &&
	    (ss->selector & SELECTOR_RPL_MASK) != (cs->selector & SELECTOR_RPL_MASK))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest SS selector RPL differs from CS selector RPL");

	if (g->virtual_8086) {
		static const enum guest_segment v86_order[] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
		for (unsigned k = 0; k < sizeof v86_order / sizeof v86_order[0]; k++)
			if (check_virtual_8086_segment(&seg[v86_order[k]], v86_order[k], r))
				return -1;
	} else {
		/* CS */
		if (cs->base & HIGH_32_BITS)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS base bits 63:32 are not 0");
		bool cs_type_ok = cs_type == AR_TYPE_CODE_X_ACCESSED || cs_type == AR_TYPE_CODE_XR_ACCESSED ||
				  cs_type == AR_TYPE_CODE_XC_ACCESSED || cs_type == AR_TYPE_CODE_XRC_ACCESSED ||
				  (g->unrestricted && cs_type == AR_TYPE_DATA_RW_ACCESSED);
		if (!cs_type_ok)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS type is not 9, 11, 13 or 15 (or 3 under unrestricted guest)");
		if (!(cs->ar & VMX_AR_S))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS S bit is 0");
		if (cs_type == AR_TYPE_DATA_RW_ACCESSED && ar_dpl(cs->ar) != 0)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS type is 3 and its DPL is not 0");
		if ((cs_type == AR_TYPE_CODE_X_ACCESSED || cs_type == AR_TYPE_CODE_XR_ACCESSED) &&
		    ar_dpl(cs->ar) != ar_dpl(ss->ar))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS is non-conforming code and its DPL differs from SS.DPL");
		if ((cs_type == AR_TYPE_CODE_XC_ACCESSED || cs_type == AR_TYPE_CODE_XRC_ACCESSED) &&
		    ar_dpl(cs->ar) > ar_dpl(ss->ar))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS is conforming code and its DPL is greater than SS.DPL");
		if (!(cs->ar & VMX_AR_P))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS is not present");
		if (cs->ar & AR_RESERVED_11_8)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS access-rights bits 11:8 are not 0");
		if (g->ia32e && (cs->ar & VMX_AR_L) && (cs->ar & VMX_AR_DB))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: IA-32e mode guest with CS.L=1 and CS.D/B=1");
		if (granularity_mismatch(cs->ar, cs->limit))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS G bit does not match its limit");
		if (cs->ar & AR_RESERVED_31_17)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest CS access-rights bits 31:17 are not 0");

		/* SS */
		if (ar_usable(ss->ar) && ar_type(ss->ar) != AR_TYPE_DATA_RW_ACCESSED &&
		    ar_type(ss->ar) != AR_TYPE_DATA_RW_DOWN_ACCESSED)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest SS is usable and its type is not 3 or 7");
		if (!g->unrestricted && ar_dpl(ss->ar) != (ss->selector & SELECTOR_RPL_MASK))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest SS DPL differs from its selector RPL");
		if ((cs_type == AR_TYPE_DATA_RW_ACCESSED || !(g->cr0 & VMX_CR0_PE)) && ar_dpl(ss->ar) != 0)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest SS DPL is not 0 with CS type 3 or CR0.PE=0");
		if (check_data_segment(c, g, ss, SEG_SS, r))
			return -1;

		/* DS, ES, FS, GS */
		static const enum guest_segment data_order[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
		for (unsigned k = 0; k < sizeof data_order / sizeof data_order[0]; k++)
			if (check_data_segment(c, g, &seg[data_order[k]], data_order[k], r))
				return -1;
	}
	/* In virtual-8086 mode FS and GS bases are selector times 16: canonical already. */

	/* TR */
	if (!is_canonical(c, tr->base))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR base is not canonical");
	unsigned tr_type = ar_type(tr->ar);
	if (g->ia32e ? tr_type != AR_TYPE_TSS_BUSY : (tr_type != AR_TYPE_TSS16_BUSY && tr_type != AR_TYPE_TSS_BUSY))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR type is not a busy TSS (11, or 3 outside IA-32e mode)");
	if (tr->ar & VMX_AR_S)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR S bit is 1");
	if (!(tr->ar & VMX_AR_P))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR is not present");
	if (tr->ar & AR_RESERVED_11_8)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR access-rights bits 11:8 are not 0");
	if (granularity_mismatch(tr->ar, tr->limit))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR G bit does not match its limit");
	if (!ar_usable(tr->ar))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR is unusable");
	if (tr->ar & AR_RESERVED_31_17)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest TR access-rights bits 31:17 are not 0");

	/* LDTR */
	if (ar_usable(ldtr->ar)) {
		if (!is_canonical(c, ldtr->base))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its base is not canonical");
		if (ar_type(ldtr->ar) != AR_TYPE_LDT)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its type is not 2");
		if (ldtr->ar & VMX_AR_S)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its S bit is 1");
		if (!(ldtr->ar & VMX_AR_P))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and not present");
		if (ldtr->ar & AR_RESERVED_11_8)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its access-rights bits 11:8 are not 0");
		if (granularity_mismatch(ldtr->ar, ldtr->limit))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its G bit does not match its limit");
		if (ldtr->ar & AR_RESERVED_31_17)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.2: guest LDTR is usable and its access-rights bits 31:17 are not 0");
	}
	return 0;
}

/* ---- 26.3.1.3 descriptor-table registers ---- */

static int check_guest_descriptor_tables(const struct vmcs12_view *v, const struct nvmx_caps *c,
					 struct vmcs12_check_result *r)
{
	if (!is_canonical(c, field(v, VMCS_GUEST_GDTR_BASE)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.3: guest GDTR base is not canonical");
	if (!is_canonical(c, field(v, VMCS_GUEST_IDTR_BASE)))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.3: guest IDTR base is not canonical");
	if (field(v, VMCS_GUEST_GDTR_LIMIT) > DESCRIPTOR_TABLE_LIMIT_MAX)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.3: guest GDTR limit bits 31:16 are not 0");
	if (field(v, VMCS_GUEST_IDTR_LIMIT) > DESCRIPTOR_TABLE_LIMIT_MAX)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.3: guest IDTR limit bits 31:16 are not 0");
	return 0;
}

/* ---- 26.3.1.4 RIP and RFLAGS ---- */

static int check_guest_rip_rflags(const struct vmcs12_view *v, const struct nvmx_caps *c,
				  const struct guest_context *g, struct vmcs12_check_result *r)
{
	uint64_t rip = field(v, VMCS_GUEST_RIP);
	bool cs_long = field32(v, VMCS_GUEST_CS_AR) & VMX_AR_L;

	if ((!g->ia32e || !cs_long) && (rip & HIGH_32_BITS))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RIP bits 63:32 are not 0 outside 64-bit mode (IA-32e mode guest or CS.L is 0)");
	if (g->ia32e && cs_long && !is_canonical(c, rip))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RIP is not canonical in 64-bit mode");
	if (g->rflags & RFLAGS_RESERVED)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RFLAGS sets reserved bits (63:22, 15, 5 or 3)");
	if (!(g->rflags & RFLAGS_FIXED_1))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RFLAGS bit 1 is 0");
	if ((g->ia32e || !(g->cr0 & VMX_CR0_PE)) && (g->rflags & RFLAGS_VM))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RFLAGS.VM is 1 with IA-32e mode guest or CR0.PE=0");
	if (injecting(g, VMX_INTR_TYPE_EXTERNAL) && !(g->rflags & RFLAGS_IF))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.4: guest RFLAGS.IF is 0 and an external interrupt is injected");
	return 0;
}

/* ---- 26.3.1.5 non-register state ---- */

static bool activity_state_supported(const struct nvmx_caps *c, uint32_t activity)
{
	switch (activity) {
	case VMX_ACTIVITY_ACTIVE: return true;
	case VMX_ACTIVITY_HLT: return c->misc & VMX_MISC_ACTIVITY_HLT;
	case VMX_ACTIVITY_SHUTDOWN: return c->misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	case VMX_ACTIVITY_WAIT_SIPI: return c->misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	default: return false;
	}
}

/* Which injected events an activity state lets through (26.3.1.5). */
static bool injection_allowed_in(uint32_t activity, uint32_t info)
{
	unsigned type = intr_type(info);
	unsigned vector = info & VMX_INTR_INFO_VECTOR_MASK;
	bool machine_check = type == VMX_INTR_TYPE_HW_EXCEPTION && vector == VECTOR_MC;

	switch (activity) {
	case VMX_ACTIVITY_HLT:
		return type == VMX_INTR_TYPE_EXTERNAL || type == VMX_INTR_TYPE_NMI || machine_check ||
		       (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == VECTOR_DB) ||
		       (type == VMX_INTR_TYPE_OTHER_EVENT && vector == VECTOR_MTF_PENDING);
	case VMX_ACTIVITY_SHUTDOWN:
		return type == VMX_INTR_TYPE_NMI || machine_check;
	case VMX_ACTIVITY_WAIT_SIPI:
		return false;
	default:
		return true;
	}
}

static int check_guest_activity_and_interruptibility(const struct vmcs12_view *v, const struct nvmx_caps *c,
						     const struct guest_context *g, struct vmcs12_check_result *r)
{
	uint32_t activity = field32(v, VMCS_GUEST_ACTIVITY_STATE);
	uint64_t interruptibility = field(v, VMCS_GUEST_INTERRUPTIBILITY);
	bool sti = interruptibility & VMX_INTERRUPTIBILITY_STI;
	bool mov_ss = interruptibility & VMX_INTERRUPTIBILITY_MOV_SS;
	bool nmi = injecting(g, VMX_INTR_TYPE_NMI);

	if (!activity_state_supported(c, activity))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest activity state is not 0-3 or not one IA32_VMX_MISC[8:6] supports");
	if (activity == VMX_ACTIVITY_HLT && ar_dpl(field32(v, VMCS_GUEST_SS_AR)) != 0)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest activity state is HLT and SS.DPL is not 0");
	if (activity != VMX_ACTIVITY_ACTIVE && (sti || mov_ss))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest activity state is not active with blocking by STI or MOV SS");
	if ((g->intr_info & VMX_INTR_INFO_VALID) && !injection_allowed_in(activity, g->intr_info))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: the injected event is one the guest activity state blocks (HLT: external interrupt, NMI, #DB, #MC, MTF; shutdown: NMI, #MC; wait-for-SIPI: none)");

	if (interruptibility & INTERRUPTIBILITY_RESERVED)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state sets reserved bits 31:5");
	if (sti && mov_ss)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state has blocking by STI and by MOV SS");
	if (sti && !(g->rflags & RFLAGS_IF))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state has blocking by STI and RFLAGS.IF is 0");
	if (injecting(g, VMX_INTR_TYPE_EXTERNAL) && (sti || mov_ss))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: an external interrupt is injected with blocking by STI or MOV SS");
	if (nmi && mov_ss)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: an NMI is injected with blocking by MOV SS");
	/* L1 never runs in SMM under nestbed. */
	if (interruptibility & VMX_INTERRUPTIBILITY_SMI)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state has blocking by SMI outside SMM");
	if (nmi && (g->pin & VMX_PIN_VIRTUAL_NMIS) && (interruptibility & VMX_INTERRUPTIBILITY_NMI))
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: an NMI is injected with virtual NMIs and blocking by NMI");
	if ((interruptibility & VMX_INTERRUPTIBILITY_ENCLAVE) && mov_ss)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state has enclave interruption and blocking by MOV SS");
	if ((interruptibility & VMX_INTERRUPTIBILITY_ENCLAVE) && !c->sgx)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest interruptibility state has enclave interruption and the processor has no SGX (CPUID.(EAX=07H,ECX=0):EBX[2] = 0)");
	/* The SDM lets a processor fail this entry (26.8, qualification 3); nestbed does, so
	 * that L1 learns of it on every platform. */
	if (nmi && sti)
		return guest_failed(r, VMX_ENTRY_QUAL_NMI_INJECTION, "26.3.1.5: an NMI is injected with blocking by STI (26.8 qualification 3)");
	return 0;
}

static int check_guest_pending_debug(const struct vmcs12_view *v, const struct nvmx_caps *c,
				     const struct guest_context *g, struct vmcs12_check_result *r)
{
	uint64_t pending = field(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	uint64_t interruptibility = field(v, VMCS_GUEST_INTERRUPTIBILITY);
	bool blocking = interruptibility & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS);
	bool halted = field32(v, VMCS_GUEST_ACTIVITY_STATE) == VMX_ACTIVITY_HLT;

	if (pending & PENDING_DBG_RESERVED)
		return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: guest pending debug exceptions set reserved bits (11:4, 13, 15, 63:17)");
	if (blocking || halted) {
		/* A single step is pending exactly when TF is set and BTF is not. */
		bool single_step = (g->rflags & RFLAGS_TF) && !(field(v, VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		if (single_step && !(pending & VMX_PENDING_DBG_BS))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions BS is 0 with RFLAGS.TF=1, BTF=0 and blocking by STI/MOV SS or HLT");
		if (!single_step && (pending & VMX_PENDING_DBG_BS))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions BS is 1 with RFLAGS.TF=0 or BTF=1 and blocking by STI/MOV SS or HLT");
	}
	if (pending & VMX_PENDING_DBG_RTM) {
		if (pending & PENDING_DBG_RTM_MUST_BE_0 & ~VMX_PENDING_DBG_BS)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions RTM is 1 with bits 11:0 set");
		if (!(pending & VMX_PENDING_DBG_ENABLED_BP))
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions RTM is 1 and enabled breakpoint (bit 12) is 0");
		if (!c->rtm)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions RTM is 1 and the processor has no RTM (CPUID.(EAX=07H,ECX=0):EBX[11] = 0)");
		if (interruptibility & VMX_INTERRUPTIBILITY_MOV_SS)
			return guest_failed(r, VMX_ENTRY_QUAL_DEFAULT, "26.3.1.5: pending debug exceptions RTM is 1 with blocking by MOV SS");
	}
	return 0;
}

static int check_guest_link_pointer(const struct vmcs12_view *v, const struct nvmx_caps *c,
				    const struct guest_context *g, struct vmcs12_check_result *r)
{
	uint64_t link = field(v, VMCS_LINK_POINTER);
	uint64_t header;

	if (link == VMX_LINK_POINTER_NONE)
		return 0;
	if (bad_page_pointer(c, link))
		return guest_failed(r, VMX_ENTRY_QUAL_LINK_POINTER, "26.3.1.5: VMCS link pointer is not 4-KByte aligned or beyond the physical-address width");
	if (v->read_phys(v->ctx, link, &header) != 0)
		return guest_failed(r, VMX_ENTRY_QUAL_LINK_POINTER, "26.3.1.5: VMCS link pointer points outside L1's memory");
	if ((header & LINK_REVISION_MASK) != (c->basic & VMX_BASIC_REVISION_MASK))
		return guest_failed(r, VMX_ENTRY_QUAL_LINK_POINTER, "26.3.1.5: the VMCS the link pointer references does not have the VMCS revision identifier");
	bool shadow = header & LINK_SHADOW_INDICATOR;
	if (shadow != !!(g->proc2 & VMX_PROC2_VMCS_SHADOWING))
		return guest_failed(r, VMX_ENTRY_QUAL_LINK_POINTER, "26.3.1.5: the shadow-VMCS indicator of the linked VMCS differs from the VMCS shadowing control");
	return 0;
}

/* ---- 26.3.1.6 PDPTEs: PAE paging outside IA-32e mode ---- */

static int check_guest_pdptes(const struct vmcs12_view *v, const struct nvmx_caps *c,
			      const struct guest_context *g, struct vmcs12_check_result *r)
{
	if (!(g->cr0 & VMX_CR0_PG) || !(g->cr4 & VMX_CR4_PAE) || g->ia32e)
		return 0;
	bool ept = g->proc2 & VMX_PROC2_ENABLE_EPT;
	uint64_t pdpt = field(v, VMCS_GUEST_CR3) & PAE_PDPT_ADDR_MASK;
	uint64_t reserved = PDPTE_RESERVED_LOW;
	if (c->maxphyaddr < ADDRESS_BITS)
		reserved |= ~((1ull << c->maxphyaddr) - 1);

	for (unsigned i = 0; i < PDPTE_COUNT; i++) {
		uint64_t pdpte;
		if (ept) {
			/* With EPT the processor takes the PDPTEs from the guest-state area. */
			pdpte = field(v, VMCS_GUEST_PDPTE(i));
		} else if (v->read_phys(v->ctx, pdpt + i * PDPTE_BYTES, &pdpte) != 0) {
			return guest_failed(r, VMX_ENTRY_QUAL_PDPTE, "26.3.1.6: the PDPTEs CR3 references are outside L1's memory");
		}
		if ((pdpte & PDPTE_PRESENT) && (pdpte & reserved))
			return guest_failed(r, VMX_ENTRY_QUAL_PDPTE, ept ?
					    "26.3.1.6: a present guest PDPTE field sets reserved bits (2:1, 8:5 or beyond MAXPHYADDR)" :
					    "26.3.1.6: a present PDPTE CR3 references sets reserved bits (2:1, 8:5 or beyond MAXPHYADDR)");
	}
	return 0;
}

int vmcs12_check_guest_state(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r)
{
	struct guest_context g;
	read_guest_context(v, &g);
	if (check_guest_control_registers(v, c, &g, r) || check_guest_segments(v, c, &g, r) ||
	    check_guest_descriptor_tables(v, c, r) || check_guest_rip_rflags(v, c, &g, r) ||
	    check_guest_activity_and_interruptibility(v, c, &g, r) || check_guest_pending_debug(v, c, &g, r) ||
	    check_guest_link_pointer(v, c, &g, r) || check_guest_pdptes(v, c, &g, r))
		return -1;
	return check_passed(r);
}

int vmcs12_check_link_pointer_not_current(const struct vmcs12_view *v, uint64_t current_vmcs_pa,
					  struct vmcs12_check_result *r)
{
	/* Outside SMM (L1 always is) the link pointer may not name the current VMCS. */
	if (field(v, VMCS_LINK_POINTER) == current_vmcs_pa)
		return guest_failed(r, VMX_ENTRY_QUAL_LINK_POINTER, "26.3.1.5: VMCS link pointer is the current-VMCS pointer");
	return check_passed(r);
}

int vmcs12_check_entry(const struct vmcs12_view *v, const struct nvmx_caps *c, bool l1_in_ia32e_mode,
		       struct vmcs12_check_result *r)
{
	if (vmcs12_check_controls(v, c, r) || vmcs12_check_host_state(v, c, r) ||
	    vmcs12_check_l1_mode(v, l1_in_ia32e_mode, r) || vmcs12_check_guest_state(v, c, r))
		return -1;
	return 0;
}
