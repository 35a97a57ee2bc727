/* covers: src/nested/vmx/vmcs12_check.c */
/* The VMCS12 VM-entry checks (SDM vol.3 26.2, 26.3.1): a valid 64-bit VMCS12, a valid
 * unrestricted-guest (real-mode) one, a PAE one without EPT and a virtual-8086 one, on
 * Bochs tigerlake's capabilities; then, for each rule, one case that breaks exactly that
 * rule and checks the VMfail number / exit reason / qualification and the rule named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/vmx/vmcs12_check.h"
#include "vmx/vmcs.h"

/* ---- a VMCS12 in an array indexed by encoding, and a few words of L1 memory ---- */

#define FIELD_SLOTS 0x8000u
#define MEMORY_WORDS 16u

struct fake_l1 {
	uint64_t field[FIELD_SLOTS];
	struct { uint64_t pa, value; } memory[MEMORY_WORDS];
	unsigned memory_words;
};

static struct fake_l1 l1;
static struct nvmx_caps caps;

static uint64_t fake_read(const void *ctx, uint32_t encoding)
{
	const struct fake_l1 *f = ctx;
	assert_true(encoding < FIELD_SLOTS);
	return f->field[encoding];
}

static int fake_read_phys(const void *ctx, uint64_t pa, uint64_t *value)
{
	const struct fake_l1 *f = ctx;
	for (unsigned i = 0; i < f->memory_words; i++)
		if (f->memory[i].pa == pa) {
			*value = f->memory[i].value;
			return 0;
		}
	return -1;
}

static const struct vmcs12_view view = { fake_read, fake_read_phys, &l1 };

static void set(uint32_t encoding, uint64_t value) { l1.field[encoding] = value; }
static uint64_t get(uint32_t encoding) { return l1.field[encoding]; }
static void set_bits(uint32_t encoding, uint64_t bits) { l1.field[encoding] |= bits; }
static void clear_bits(uint32_t encoding, uint64_t bits) { l1.field[encoding] &= ~bits; }

static void poke(uint64_t pa, uint64_t value)
{
	for (unsigned i = 0; i < l1.memory_words; i++)
		if (l1.memory[i].pa == pa) {
			l1.memory[i].value = value;
			return;
		}
	assert_true(l1.memory_words < MEMORY_WORDS);
	l1.memory[l1.memory_words].pa = pa;
	l1.memory[l1.memory_words].value = value;
	l1.memory_words++;
}

static void unpoke(uint64_t pa)
{
	for (unsigned i = 0; i < l1.memory_words; i++)
		if (l1.memory[i].pa == pa)
			l1.memory[i] = l1.memory[--l1.memory_words];
}

#define ALLOWED1(bits) ((uint64_t)(bits) << 32)

static void inject(unsigned type, unsigned vector, bool error_code)
{
	set(VMCS_ENTRY_INTR_INFO, VMX_INTR_INFO_VALID | (type << VMX_INTR_INFO_TYPE_SHIFT) | vector |
				  (error_code ? VMX_INTR_INFO_ERROR_VALID : 0));
}

/* ---- the valid VMCS12s ---- */

/* Bochs 2.7 tigerlake as nestbed prints it (`nestbed: vmx ...`), TRUE_* controls. */
static void tigerlake_caps(void)
{
	caps = (struct nvmx_caps){
		.basic = 0x1d8100000000004ull,
		.pinbased = 0x7f00000016ull,
		.procbased = 0xfff9fffe04006172ull,
		.procbased2 = 0x2977fff00000000ull,
		.exit = 0x107fffff00036dfbull,
		.entry = 0x10ffff000011fbull,
		.misc = 0x600401e0ull,
		.cr0_fixed0 = 0x80000021ull,
		.cr0_fixed1 = 0xffffffffull,
		.cr4_fixed0 = 0x2000ull,
		.cr4_fixed1 = 0xf72fffull,
		.ept_vpid_cap = 0xf0106b34141ull,
		.vmfunc = 0x1ull,
		.maxphyaddr = 39,
	};
}

#define REVISION 4ull
#define IO_BITMAP_A 0x10000ull
#define IO_BITMAP_B 0x11000ull
#define MSR_BITMAP 0x12000ull
#define VIRTUAL_APIC 0x13000ull
#define EPT_PML4 0x14000ull
#define EPTP_WB_4LEVEL (EPT_PML4 | VMX_EPTP_MEMTYPE_WB | (3ull << VMX_EPTP_WALK_SHIFT))
#define LINK_VMCS 0x20000ull
#define PAE_PDPT 0x300000ull
#define NONCANONICAL 0x0000800000000000ull
#define BEYOND_39 (1ull << 39)

#define CR0_64 (VMX_CR0_PG | VMX_CR0_WP | VMX_CR0_NE | VMX_CR0_ET | VMX_CR0_MP | VMX_CR0_PE)
#define CR4_64 (VMX_CR4_VMXE | VMX_CR4_PGE | VMX_CR4_PAE | (1ull << 9) | (1ull << 10))
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_64 (EFER_LME | EFER_LMA | EFER_NXE)
#define PAT_DEFAULT 0x0007040600070406ull
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17)
#define CR4_PCIDE (1ull << 17)
#define CR4_CET (1ull << 23)
#define AR_UNUSABLE VMX_AR_UNUSABLE
#define AR_DPL3 (3u << VMX_AR_DPL_SHIFT)
#define AR_LDT (VMX_AR_P | 2u)
#define AR_REAL_CODE (VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_CODE_XR_ACCESSED)
#define AR_REAL_DATA (VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_DATA_RW_ACCESSED)
#define AR_V86 0xf3u

static const uint32_t data_segments[][4] = {
	/* selector, base, limit, access rights */
	{ VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR },
	{ VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR },
	{ VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR },
	{ VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR },
	{ VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR },
};

static void set_segment(const uint32_t *enc, uint64_t selector, uint64_t base, uint64_t limit, uint64_t ar)
{
	set(enc[0], selector);
	set(enc[1], base);
	set(enc[2], limit);
	set(enc[3], ar);
}

static const uint32_t cs_fields[4] = { VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR };
static const uint32_t tr_fields[4] = { VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR };
static const uint32_t ldtr_fields[4] = { VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR };

/* What KVM-like L1 hands over for a 64-bit L2: EPT, VPID, bitmaps, TPR shadow. */
static void valid_64(void)
{
	memset(&l1, 0, sizeof l1);
	tigerlake_caps();

	set(VMCS_PIN_BASED_CTLS, 0x16u | VMX_PIN_EXTERNAL_INTR_EXITING | VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS);
	set(VMCS_PROC_BASED_CTLS, 0x04006172u | VMX_PROC_HLT_EXITING | VMX_PROC_USE_IO_BITMAPS |
				  VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_TPR_SHADOW | VMX_PROC_ACTIVATE_SECONDARY);
	set(VMCS_PROC_BASED_CTLS2, VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID | VMX_PROC2_ENABLE_RDTSCP);
	set(VMCS_EXIT_CTLS, 0x36dfbu | VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | VMX_EXIT_CTL_ACK_INTR_ON_EXIT |
			    VMX_EXIT_CTL_SAVE_IA32_PAT | VMX_EXIT_CTL_LOAD_IA32_PAT |
			    VMX_EXIT_CTL_SAVE_IA32_EFER | VMX_EXIT_CTL_LOAD_IA32_EFER);
	set(VMCS_ENTRY_CTLS, 0x11fbu | VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS | VMX_ENTRY_CTL_IA32E_MODE_GUEST |
			     VMX_ENTRY_CTL_LOAD_IA32_PAT | VMX_ENTRY_CTL_LOAD_IA32_EFER);
	set(VMCS_IO_BITMAP_A, IO_BITMAP_A);
	set(VMCS_IO_BITMAP_B, IO_BITMAP_B);
	set(VMCS_MSR_BITMAP, MSR_BITMAP);
	set(VMCS_VIRTUAL_APIC_ADDR, VIRTUAL_APIC);
	set(VMCS_EPT_POINTER, EPTP_WB_4LEVEL);
	set(VMCS_VPID, 1);
	set(VMCS_CR3_TARGET_COUNT, 0);

	set(VMCS_HOST_CR0, CR0_64);
	set(VMCS_HOST_CR3, 0x100000);
	set(VMCS_HOST_CR4, CR4_64);
	set(VMCS_HOST_CS_SELECTOR, 0x08);
	set(VMCS_HOST_SS_SELECTOR, 0x10);
	set(VMCS_HOST_DS_SELECTOR, 0x10);
	set(VMCS_HOST_ES_SELECTOR, 0x10);
	set(VMCS_HOST_FS_SELECTOR, 0);
	set(VMCS_HOST_GS_SELECTOR, 0);
	set(VMCS_HOST_TR_SELECTOR, 0x18);
	set(VMCS_HOST_GS_BASE, 0xffff888000000000ull);
	set(VMCS_HOST_TR_BASE, 0xfffffe0000001000ull);
	set(VMCS_HOST_GDTR_BASE, 0xfffffe0000000000ull);
	set(VMCS_HOST_IDTR_BASE, 0xfffffe0000000000ull);
	set(VMCS_HOST_IA32_PAT, PAT_DEFAULT);
	set(VMCS_HOST_IA32_EFER, EFER_64);
	set(VMCS_HOST_RIP, 0xffffffff81000000ull);
	set(VMCS_HOST_RSP, 0xffffc90000004000ull);

	set(VMCS_GUEST_CR0, CR0_64);
	set(VMCS_GUEST_CR3, 0x200000);
	set(VMCS_GUEST_CR4, CR4_64);
	set(VMCS_GUEST_DR7, 0x400);
	set(VMCS_GUEST_IA32_PAT, PAT_DEFAULT);
	set(VMCS_GUEST_IA32_EFER, EFER_64);
	set_segment(cs_fields, 0x08, 0, 0xffffffff, VMX_AR_CODE64);
	for (unsigned i = 0; i < sizeof data_segments / sizeof data_segments[0]; i++)
		set_segment(data_segments[i], 0x10, 0, 0xffffffff, VMX_AR_DATA_FLAT);
	set(VMCS_GUEST_GS_BASE, 0xffff888000000000ull);
	set_segment(tr_fields, 0x18, 0x5000, 0x67, VMX_AR_TSS32_BUSY);
	set_segment(ldtr_fields, 0, 0, 0, AR_UNUSABLE);
	set(VMCS_GUEST_GDTR_LIMIT, 0x7f);
	set(VMCS_GUEST_IDTR_LIMIT, 0xfff);
	set(VMCS_GUEST_RIP, 0x401000);
	set(VMCS_GUEST_RSP, 0x7ffffff0);
	set(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	set(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
}

/* An unrestricted guest at the reset vector: real mode, no paging, a usable LDTR and a
 * VMCS link pointer to an ordinary VMCS. */
static void valid_ug(void)
{
	valid_64();
	set_bits(VMCS_PROC_BASED_CTLS2, VMX_PROC2_UNRESTRICTED_GUEST);
	clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST);
	set(VMCS_GUEST_CR0, VMX_CR0_NE | VMX_CR0_ET);
	set(VMCS_GUEST_CR3, 0);
	set(VMCS_GUEST_CR4, VMX_CR4_VMXE);
	set(VMCS_GUEST_IA32_EFER, 0);
	set_segment(cs_fields, 0xf000, 0xf0000, 0xffff, AR_REAL_CODE);
	for (unsigned i = 0; i < sizeof data_segments / sizeof data_segments[0]; i++)
		set_segment(data_segments[i], 0, 0, 0xffff, AR_REAL_DATA);
	set_segment(tr_fields, 0, 0, 0xffff, VMX_AR_TSS32_BUSY);
	set_segment(ldtr_fields, 0, 0, 0xffff, AR_LDT);
	set(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	set(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	set(VMCS_GUEST_RIP, 0xfff0);
	set(VMCS_LINK_POINTER, LINK_VMCS);
	poke(LINK_VMCS, REVISION);
}

/* A 32-bit protected-mode guest with PAE paging and no EPT: the PDPTEs come from memory. */
static void valid_pae(void)
{
	valid_64();
	clear_bits(VMCS_PROC_BASED_CTLS2, VMX_PROC2_ENABLE_EPT);
	clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST);
	set(VMCS_GUEST_IA32_EFER, EFER_NXE);
	set(VMCS_GUEST_CR3, PAE_PDPT);
	set(VMCS_GUEST_CS_AR, VMX_AR_CODE32_FLAT);
	poke(PAE_PDPT + 0, 0x301001);
	poke(PAE_PDPT + 8, 0x302001);
	poke(PAE_PDPT + 16, 0xdeadbeefull << 32); /* not present: the rest is free */
	poke(PAE_PDPT + 24, 0x303001);
}

static void make_v86_segments(void)
{
	set_segment(cs_fields, 0x1000, 0x10000, 0xffff, AR_V86);
	for (unsigned i = 0; i < sizeof data_segments / sizeof data_segments[0]; i++)
		set_segment(data_segments[i], 0x2000, 0x20000, 0xffff, AR_V86);
}

/* The PAE guest in virtual-8086 mode. */
static void valid_v86(void)
{
	valid_pae();
	set_bits(VMCS_GUEST_RFLAGS, RFLAGS_VM);
	make_v86_segments();
	set(VMCS_GUEST_RIP, 0x100);
}

/* ---- expectations ---- */

enum expect { CONTROLS, HOST, GUEST, PASS, PASS_HOST };

static void expect_pass(int rc, const struct vmcs12_check_result *r)
{
	if (rc != 0)
		print_error("unexpected failure: %s\n", r->rule);
	assert_int_equal(rc, 0);
	assert_int_equal(r->insn_error, 0);
	assert_int_equal(r->exit_reason, 0);
	assert_null(r->rule);
}

static void expect_rule(int rc, const struct vmcs12_check_result *r, const char *rule)
{
	assert_int_equal(rc, -1);
	assert_non_null(r->rule);
	if (!strstr(r->rule, rule))
		print_error("expected rule \"%s\", got \"%s\"\n", rule, r->rule);
	assert_non_null(strstr(r->rule, rule));
}

static void expect(enum expect what, uint64_t qualification, const char *rule)
{
	struct vmcs12_check_result r;
	int rc = vmcs12_check_controls(&view, &caps, &r);
	if (what == CONTROLS) {
		expect_rule(rc, &r, rule);
		assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_CONTROL);
		assert_int_equal(r.exit_reason, 0);
		return;
	}
	expect_pass(rc, &r);
	rc = vmcs12_check_host_state(&view, &caps, &r);
	if (what == HOST) {
		expect_rule(rc, &r, rule);
		assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
		assert_int_equal(r.exit_reason, 0);
		return;
	}
	expect_pass(rc, &r);
	if (what == PASS_HOST)
		return;
	rc = vmcs12_check_guest_state(&view, &caps, &r);
	if (what == GUEST) {
		expect_rule(rc, &r, rule);
		assert_int_equal(r.insn_error, 0);
		assert_int_equal(r.exit_reason, VMX_EXIT_REASON_INVALID_GUEST_STATE);
		assert_int_equal(r.qualification, qualification);
		return;
	}
	expect_pass(rc, &r);
}

/* ---- the cases: name, valid VMCS12 to start from, expected outcome, qualification,
 * the rule (a distinctive part of its text), the change that breaks it ---- */

#define Q0 VMX_ENTRY_QUAL_DEFAULT
#define SECONDARY VMCS_PROC_BASED_CTLS2

#define CASES(X) \
	/* the valid VMCS12s */ \
	X(valid_64_passes, valid_64, PASS, 0, "", (void)0) \
	X(valid_ug_passes, valid_ug, PASS, 0, "", (void)0) \
	X(valid_pae_passes, valid_pae, PASS, 0, "", (void)0) \
	X(valid_v86_passes, valid_v86, PASS, 0, "", (void)0) \
	\
	/* 26.2.1.1 VM-execution controls */ \
	X(pin_bit_not_allowed_1, valid_64, CONTROLS, 0, "26.2.1.1: pin-based VM-execution controls: a bit not allowed to be 1", \
	  set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS)) \
	X(pin_bit_not_allowed_0, valid_64, CONTROLS, 0, "26.2.1.1: pin-based VM-execution controls: a bit not allowed to be 0", \
	  clear_bits(VMCS_PIN_BASED_CTLS, 1u << 1)) \
	X(proc_bit_not_allowed_1, valid_64, CONTROLS, 0, "26.2.1.1: primary processor-based VM-execution controls: a bit not allowed to be 1", \
	  set_bits(VMCS_PROC_BASED_CTLS, 1u << 0)) \
	X(proc_bit_not_allowed_0, valid_64, CONTROLS, 0, "26.2.1.1: primary processor-based VM-execution controls: a bit not allowed to be 0", \
	  clear_bits(VMCS_PROC_BASED_CTLS, 1u << 26)) \
	X(proc2_bit_not_allowed_1, valid_64, CONTROLS, 0, "26.2.1.1: secondary processor-based VM-execution controls: a bit not allowed to be 1", \
	  set_bits(SECONDARY, 1u << 15)) \
	X(proc2_bit_not_allowed_0, valid_64, CONTROLS, 0, "26.2.1.1: secondary processor-based VM-execution controls: a bit not allowed to be 0", \
	  caps.procbased2 |= VMX_PROC2_DESC_TABLE_EXITING) \
	X(proc2_ignored_without_activate_secondary, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_ACTIVATE_SECONDARY); set(SECONDARY, 0xffffffff)) \
	X(cr3_target_count_above_misc, valid_64, CONTROLS, 0, "26.2.1.1: the CR3-target count", \
	  set(VMCS_CR3_TARGET_COUNT, 5)) \
	X(cr3_target_count_at_misc, valid_64, PASS, 0, "", set(VMCS_CR3_TARGET_COUNT, 4)) \
	X(io_bitmap_a_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: I/O bitmap A address", \
	  set(VMCS_IO_BITMAP_A, IO_BITMAP_A + 0x800)) \
	X(io_bitmap_b_beyond_maxphyaddr, valid_64, CONTROLS, 0, "26.2.1.1: I/O bitmap B address", \
	  set(VMCS_IO_BITMAP_B, BEYOND_39)) \
	X(io_bitmap_beyond_32_bits_with_basic_48, valid_64, CONTROLS, 0, "26.2.1.1: I/O bitmap A address", \
	  caps.basic |= VMX_BASIC_ADDR_WIDTH_32; set(VMCS_IO_BITMAP_A, 1ull << 32)) \
	X(io_bitmap_above_4g_without_basic_48, valid_64, PASS, 0, "", set(VMCS_IO_BITMAP_A, 1ull << 32)) \
	X(io_bitmaps_ignored_when_unused, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_USE_IO_BITMAPS); set(VMCS_IO_BITMAP_A, 0x123)) \
	X(msr_bitmap_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: MSR bitmap address", \
	  set(VMCS_MSR_BITMAP, MSR_BITMAP + 8)) \
	X(virtual_apic_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: virtual-APIC address", \
	  set(VMCS_VIRTUAL_APIC_ADDR, VIRTUAL_APIC + 4)) \
	X(tpr_threshold_high_bits, valid_64, CONTROLS, 0, "26.2.1.1: TPR threshold bits 31:4", \
	  set(VMCS_TPR_THRESHOLD, 0x10)) \
	X(tpr_threshold_high_bits_with_vid, valid_64, PASS, 0, "", \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); set(VMCS_TPR_THRESHOLD, 0x10)) \
	X(tpr_threshold_above_vtpr, valid_64, CONTROLS, 0, "26.2.1.1: TPR threshold bits 3:0 are greater than VTPR", \
	  poke(VIRTUAL_APIC + 0x80, 0x40); set(VMCS_TPR_THRESHOLD, 5)) \
	X(tpr_threshold_equal_vtpr, valid_64, PASS, 0, "", \
	  poke(VIRTUAL_APIC + 0x80, 0x40); set(VMCS_TPR_THRESHOLD, 4)) \
	X(tpr_threshold_vs_vtpr_not_with_apic_access, valid_64, PASS, 0, "", \
	  poke(VIRTUAL_APIC + 0x80, 0x40); set(VMCS_TPR_THRESHOLD, 5); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUALIZE_APIC); set(VMCS_APIC_ACCESS_ADDR, 0xfee00000)) \
	X(x2apic_without_tpr_shadow, valid_64, CONTROLS, 0, "without use TPR shadow", \
	  clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_TPR_SHADOW); set_bits(SECONDARY, VMX_PROC2_VIRTUALIZE_X2APIC)) \
	X(apic_register_virt_without_tpr_shadow, valid_64, CONTROLS, 0, "without use TPR shadow", \
	  clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_TPR_SHADOW); set_bits(SECONDARY, VMX_PROC2_APIC_REGISTER_VIRT)) \
	X(vid_without_tpr_shadow, valid_64, CONTROLS, 0, "without use TPR shadow", \
	  clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_TPR_SHADOW); set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY)) \
	X(virtual_nmis_without_nmi_exiting, valid_64, CONTROLS, 0, "26.2.1.1: virtual NMIs is 1 and NMI exiting is 0", \
	  clear_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_NMI_EXITING)) \
	X(nmi_window_without_virtual_nmis, valid_64, CONTROLS, 0, "26.2.1.1: NMI-window exiting is 1 and virtual NMIs is 0", \
	  clear_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_VIRTUAL_NMIS); set_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_NMI_WINDOW_EXITING)) \
	X(nmi_window_with_virtual_nmis, valid_64, PASS, 0, "", set_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_NMI_WINDOW_EXITING)) \
	X(apic_access_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: APIC-access address", \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUALIZE_APIC); set(VMCS_APIC_ACCESS_ADDR, 0xfee00010)) \
	X(x2apic_and_apic_access, valid_64, CONTROLS, 0, "26.2.1.1: virtualize x2APIC mode and virtualize APIC accesses are both 1", \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUALIZE_APIC | VMX_PROC2_VIRTUALIZE_X2APIC); set(VMCS_APIC_ACCESS_ADDR, 0xfee00000)) \
	X(vid_without_external_interrupt_exiting, valid_64, CONTROLS, 0, "26.2.1.1: virtual-interrupt delivery is 1 and external-interrupt exiting is 0", \
	  clear_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_EXTERNAL_INTR_EXITING); set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY)) \
	X(posted_interrupts_without_vid, valid_64, CONTROLS, 0, "26.2.1.1: process posted interrupts is 1 and virtual-interrupt delivery is 0", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS)) \
	X(posted_interrupts_without_ack_on_exit, valid_64, CONTROLS, 0, "acknowledge interrupt on exit is 0", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_ACK_INTR_ON_EXIT)) \
	X(posted_interrupt_vector_high_bits, valid_64, CONTROLS, 0, "notification vector bits 15:8", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); set(VMCS_POSTED_INTR_NOTIFICATION_VECTOR, 0x1f2)) \
	X(posted_interrupt_descriptor_unaligned, valid_64, CONTROLS, 0, "posted-interrupt descriptor address", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); set(VMCS_POSTED_INTR_DESC_ADDR, 0x15020)) \
	X(posted_interrupts_valid, valid_64, PASS, 0, "", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); set(VMCS_POSTED_INTR_NOTIFICATION_VECTOR, 0xf2); \
	  set(VMCS_POSTED_INTR_DESC_ADDR, 0x15040)) \
	X(vpid_zero, valid_64, CONTROLS, 0, "26.2.1.1: enable VPID is 1 and the VPID is 0000H", set(VMCS_VPID, 0)) \
	X(vpid_zero_without_enable_vpid, valid_64, PASS, 0, "", clear_bits(SECONDARY, VMX_PROC2_ENABLE_VPID); set(VMCS_VPID, 0)) \
	X(eptp_memtype_wc, valid_64, CONTROLS, 0, "26.2.1.1: EPTP memory type", \
	  set(VMCS_EPT_POINTER, (EPTP_WB_4LEVEL & ~VMX_EPTP_MEMTYPE_MASK) | 1)) \
	X(eptp_memtype_uc_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: EPTP memory type", \
	  caps.ept_vpid_cap &= ~VMX_EPT_CAP_MEMTYPE_UC; set(VMCS_EPT_POINTER, EPTP_WB_4LEVEL & ~VMX_EPTP_MEMTYPE_MASK)) \
	X(eptp_memtype_uc_offered, valid_64, PASS, 0, "", set(VMCS_EPT_POINTER, EPTP_WB_4LEVEL & ~VMX_EPTP_MEMTYPE_MASK)) \
	X(eptp_walk_length_3, valid_64, CONTROLS, 0, "26.2.1.1: EPTP page-walk length", \
	  set(VMCS_EPT_POINTER, EPT_PML4 | VMX_EPTP_MEMTYPE_WB | (2ull << VMX_EPTP_WALK_SHIFT))) \
	X(eptp_walk_length_5_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: EPTP page-walk length", \
	  set(VMCS_EPT_POINTER, EPT_PML4 | VMX_EPTP_MEMTYPE_WB | (4ull << VMX_EPTP_WALK_SHIFT))) \
	X(eptp_walk_length_5_offered, valid_64, PASS, 0, "", caps.ept_vpid_cap |= VMX_EPT_CAP_WALK_5; \
	  set(VMCS_EPT_POINTER, EPT_PML4 | VMX_EPTP_MEMTYPE_WB | (4ull << VMX_EPTP_WALK_SHIFT))) \
	X(eptp_accessed_dirty_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: EPTP enables accessed and dirty flags", \
	  caps.ept_vpid_cap &= ~VMX_EPT_CAP_ACCESSED_DIRTY; set_bits(VMCS_EPT_POINTER, VMX_EPTP_ACCESSED_DIRTY)) \
	X(eptp_accessed_dirty_offered, valid_64, PASS, 0, "", set_bits(VMCS_EPT_POINTER, VMX_EPTP_ACCESSED_DIRTY)) \
	X(eptp_shadow_stack_without_cet, valid_64, CONTROLS, 0, "26.2.1.1: EPTP bit 7", \
	  caps.cr4_fixed1 &= ~CR4_CET; set_bits(VMCS_EPT_POINTER, VMX_EPTP_SUPERVISOR_SHADOW_STACK)) \
	X(eptp_reserved_bit_8, valid_64, CONTROLS, 0, "26.2.1.1: EPTP reserved bits", set_bits(VMCS_EPT_POINTER, 1ull << 8)) \
	X(eptp_beyond_maxphyaddr, valid_64, CONTROLS, 0, "26.2.1.1: EPTP reserved bits", set_bits(VMCS_EPT_POINTER, BEYOND_39)) \
	X(eptp_ignored_without_ept, valid_64, PASS, 0, "", clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); set(VMCS_EPT_POINTER, 0xfff)) \
	X(pml_without_ept, valid_64, CONTROLS, 0, "26.2.1.1: enable PML is 1 and enable EPT is 0", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_PML); clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); set(VMCS_PML_ADDRESS, 0x16000)) \
	X(pml_address_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: PML address", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_PML); set(VMCS_PML_ADDRESS, 0x16008)) \
	X(pml_valid, valid_64, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_ENABLE_PML); set(VMCS_PML_ADDRESS, 0x16000)) \
	X(unrestricted_guest_without_ept, valid_ug, CONTROLS, 0, "26.2.1.1: unrestricted guest is 1 and enable EPT is 0", \
	  clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT)) \
	X(mode_based_execute_without_ept, valid_64, CONTROLS, 0, "26.2.1.1: mode-based execute control for EPT is 1 and enable EPT is 0", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_MODE_BASED_EPT_EXEC); \
	  set_bits(SECONDARY, VMX_PROC2_MODE_BASED_EPT_EXEC); clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT)) \
	X(sub_page_write_without_ept, valid_64, CONTROLS, 0, "26.2.1.1: sub-page write permissions for EPT is 1 and enable EPT is 0", \
	  set_bits(SECONDARY, VMX_PROC2_SUB_PAGE_WRITE); clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); set(VMCS_SPP_TABLE_POINTER, 0x17000)) \
	X(spp_table_pointer_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: SPP-table pointer", \
	  set_bits(SECONDARY, VMX_PROC2_SUB_PAGE_WRITE); set(VMCS_SPP_TABLE_POINTER, 0x17001)) \
	X(pt_uses_gpa_without_ept, valid_64, CONTROLS, 0, "26.2.1.1: Intel PT uses guest physical addresses is 1 and enable EPT is 0", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_PT_USES_GPA); set_bits(SECONDARY, VMX_PROC2_PT_USES_GPA); \
	  clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT)) \
	X(pt_uses_gpa_without_clear_rtit_ctl, valid_64, CONTROLS, 0, "the clear IA32_RTIT_CTL VM-exit control is 0", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_PT_USES_GPA); set_bits(SECONDARY, VMX_PROC2_PT_USES_GPA)) \
	X(pt_uses_gpa_without_load_rtit_ctl, valid_64, CONTROLS, 0, "the load IA32_RTIT_CTL VM-entry control is 0", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_PT_USES_GPA); set_bits(SECONDARY, VMX_PROC2_PT_USES_GPA); \
	  caps.exit |= ALLOWED1(VMX_EXIT_CTL_CLEAR_IA32_RTIT_CTL); set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_CLEAR_IA32_RTIT_CTL)) \
	X(pt_uses_gpa_valid, valid_64, PASS, 0, "", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_PT_USES_GPA); set_bits(SECONDARY, VMX_PROC2_PT_USES_GPA); \
	  caps.exit |= ALLOWED1(VMX_EXIT_CTL_CLEAR_IA32_RTIT_CTL); set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_CLEAR_IA32_RTIT_CTL); \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_IA32_RTIT_CTL); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_RTIT_CTL)) \
	X(vmfunc_control_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: VM-function controls set a bit", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_VMFUNC); set(VMCS_VMFUNC_CONTROLS, 2)) \
	X(eptp_switching_without_ept, valid_64, CONTROLS, 0, "26.2.1.1: EPTP switching is 1 and enable EPT is 0", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_VMFUNC); clear_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); \
	  set(VMCS_VMFUNC_CONTROLS, VMX_VMFUNC_EPTP_SWITCHING); set(VMCS_EPTP_LIST_ADDR, 0x18000)) \
	X(eptp_list_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: EPTP-list address", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_VMFUNC); set(VMCS_VMFUNC_CONTROLS, VMX_VMFUNC_EPTP_SWITCHING); \
	  set(VMCS_EPTP_LIST_ADDR, 0x18010)) \
	X(eptp_switching_valid, valid_64, PASS, 0, "", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_VMFUNC); set(VMCS_VMFUNC_CONTROLS, VMX_VMFUNC_EPTP_SWITCHING); \
	  set(VMCS_EPTP_LIST_ADDR, 0x18000)) \
	X(vmread_bitmap_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: VMREAD-bitmap address", \
	  set_bits(SECONDARY, VMX_PROC2_VMCS_SHADOWING); set(VMCS_VMREAD_BITMAP, 0x19100); set(VMCS_VMWRITE_BITMAP, 0x1a000)) \
	X(vmwrite_bitmap_beyond_maxphyaddr, valid_64, CONTROLS, 0, "26.2.1.1: VMWRITE-bitmap address", \
	  set_bits(SECONDARY, VMX_PROC2_VMCS_SHADOWING); set(VMCS_VMREAD_BITMAP, 0x19000); set(VMCS_VMWRITE_BITMAP, BEYOND_39)) \
	X(spp_valid, valid_64, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_SUB_PAGE_WRITE); set(VMCS_SPP_TABLE_POINTER, 0x17000)) \
	X(mode_based_execute_with_ept, valid_64, PASS, 0, "", \
	  caps.procbased2 |= ALLOWED1(VMX_PROC2_MODE_BASED_EPT_EXEC); set_bits(SECONDARY, VMX_PROC2_MODE_BASED_EPT_EXEC)) \
	X(x2apic_with_tpr_shadow, valid_64, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_VIRTUALIZE_X2APIC | VMX_PROC2_APIC_REGISTER_VIRT)) \
	X(vmfunc_without_functions, valid_64, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_ENABLE_VMFUNC)) \
	X(nmi_exiting_without_virtual_nmis, valid_64, PASS, 0, "", clear_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_VIRTUAL_NMIS)) \
	X(posted_interrupt_descriptor_beyond_maxphyaddr, valid_64, CONTROLS, 0, "posted-interrupt descriptor address", \
	  caps.pinbased |= ALLOWED1(VMX_PIN_POSTED_INTERRUPTS); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_POSTED_INTERRUPTS); \
	  set_bits(SECONDARY, VMX_PROC2_VIRTUAL_INTR_DELIVERY); set(VMCS_POSTED_INTR_DESC_ADDR, BEYOND_39 | 0x40)) \
	X(eptp_memtype_wb_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: EPTP memory type", caps.ept_vpid_cap &= ~VMX_EPT_CAP_MEMTYPE_WB) \
	X(eptp_walk_length_4_not_offered, valid_64, CONTROLS, 0, "26.2.1.1: EPTP page-walk length", caps.ept_vpid_cap &= ~VMX_EPT_CAP_WALK_4) \
	X(eptp_shadow_stack_with_cet, valid_64, PASS, 0, "", set_bits(VMCS_EPT_POINTER, VMX_EPTP_SUPERVISOR_SHADOW_STACK)) \
	X(ve_info_valid, valid_64, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_EPT_VIOLATION_VE); set(VMCS_VE_INFO_ADDR, 0x1b000)) \
	X(ve_info_unaligned, valid_64, CONTROLS, 0, "26.2.1.1: virtualization-exception information address", \
	  set_bits(SECONDARY, VMX_PROC2_EPT_VIOLATION_VE); set(VMCS_VE_INFO_ADDR, 0x1b004)) \
	\
	/* 26.2.1.2 VM-exit controls */ \
	X(exit_bit_not_allowed_1, valid_64, CONTROLS, 0, "26.2.1.2: VM-exit controls: a bit not allowed to be 1", \
	  set_bits(VMCS_EXIT_CTLS, 1u << 23)) \
	X(exit_bit_not_allowed_0, valid_64, CONTROLS, 0, "26.2.1.2: VM-exit controls: a bit not allowed to be 0", \
	  clear_bits(VMCS_EXIT_CTLS, 1u << 0)) \
	X(save_preemption_timer_without_activate, valid_64, CONTROLS, 0, "26.2.1.2: save VMX-preemption timer value is 1", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER)) \
	X(save_preemption_timer_with_activate, valid_64, PASS, 0, "", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER); set_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_PREEMPTION_TIMER)) \
	X(exit_msr_store_unaligned, valid_64, CONTROLS, 0, "26.2.1.2: VM-exit MSR-store address", \
	  set(VMCS_EXIT_MSR_STORE_COUNT, 1); set(VMCS_EXIT_MSR_STORE_ADDR, 0x1c008)) \
	X(exit_msr_store_area_ends_beyond_maxphyaddr, valid_64, CONTROLS, 0, "26.2.1.2: VM-exit MSR-store address", \
	  set(VMCS_EXIT_MSR_STORE_COUNT, 2); set(VMCS_EXIT_MSR_STORE_ADDR, BEYOND_39 - 16)) \
	X(exit_msr_store_area_ends_at_maxphyaddr, valid_64, PASS, 0, "", \
	  set(VMCS_EXIT_MSR_STORE_COUNT, 1); set(VMCS_EXIT_MSR_STORE_ADDR, BEYOND_39 - 16)) \
	X(exit_msr_store_ignored_when_count_0, valid_64, PASS, 0, "", set(VMCS_EXIT_MSR_STORE_ADDR, 0x1c008)) \
	X(exit_msr_load_unaligned, valid_64, CONTROLS, 0, "26.2.1.2: VM-exit MSR-load address", \
	  set(VMCS_EXIT_MSR_LOAD_COUNT, 1); set(VMCS_EXIT_MSR_LOAD_ADDR, 0x1d004)) \
	\
	/* 26.2.1.3 VM-entry controls */ \
	X(entry_bit_not_allowed_1, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry controls: a bit not allowed to be 1", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS)) \
	X(entry_bit_not_allowed_0, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry controls: a bit not allowed to be 0", \
	  clear_bits(VMCS_ENTRY_CTLS, 1u << 0)) \
	X(inject_type_1, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption type 1 is reserved", inject(1, 0x20, false)) \
	X(inject_type_7_without_mtf, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption type 7 is reserved", \
	  caps.procbased &= ~ALLOWED1(VMX_PROC_MONITOR_TRAP_FLAG); inject(VMX_INTR_TYPE_OTHER_EVENT, 0, false)) \
	X(inject_pending_mtf, valid_64, PASS, 0, "", inject(VMX_INTR_TYPE_OTHER_EVENT, 0, false)) \
	X(inject_nmi_vector_3, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption type NMI with a vector other than 2", \
	  inject(VMX_INTR_TYPE_NMI, 3, false)) \
	X(inject_exception_vector_32, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption type hardware exception with a vector above 31", \
	  inject(VMX_INTR_TYPE_HW_EXCEPTION, 32, false)) \
	X(inject_other_event_vector_1, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption type other event with a vector other than 0", \
	  inject(VMX_INTR_TYPE_OTHER_EVENT, 1, false)) \
	X(inject_external_with_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 1 for an event without an error code", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_IF); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, true)) \
	X(inject_ud_with_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 1 for an event without an error code", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, true)) \
	X(inject_ud_with_error_code_basic_56, valid_64, PASS, 0, "", inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, true)) \
	X(inject_gp_without_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 0 for a hardware exception", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, false)) \
	X(inject_cp_without_error_code, valid_64, PASS, 0, "", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 21, false)) \
	X(inject_cp_with_error_code_without_basic_56, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 1 for an event without", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 21, true)) \
	X(inject_cp_with_error_code_basic_56, valid_64, PASS, 0, "", inject(VMX_INTR_TYPE_HW_EXCEPTION, 21, true)) \
	X(inject_pf_without_error_code_basic_56, valid_64, PASS, 0, "", inject(VMX_INTR_TYPE_HW_EXCEPTION, 14, false)) \
	X(inject_ac_without_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 0 for a hardware exception", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 17, false)) \
	X(inject_df_without_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 0 for a hardware exception", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 8, false)) \
	X(inject_gp_with_error_code, valid_64, PASS, 0, "", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, true)) \
	X(inject_gp_with_error_code_in_real_mode, valid_ug, CONTROLS, 0, "26.2.1.3: deliver-error-code is 1 for an event without an error code", \
	  inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, true)) \
	X(inject_gp_without_error_code_in_real_mode, valid_ug, PASS, 0, "", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, false)) \
	X(inject_gp_with_error_code_unrestricted_protected, valid_ug, PASS, 0, "", \
	  caps.basic &= ~VMX_BASIC_NO_HW_ERRCODE_CHECK; set_bits(VMCS_GUEST_CR0, VMX_CR0_PE); inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, true)) \
	X(inject_software_interrupt_with_error_code, valid_64, CONTROLS, 0, "26.2.1.3: deliver-error-code is 1", \
	  inject(VMX_INTR_TYPE_SW_INTERRUPT, 0x80, true); set(VMCS_ENTRY_INSTRUCTION_LEN, 2)) \
	X(inject_info_reserved_bit_12, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption-information bits 30:12", \
	  inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, false); set_bits(VMCS_ENTRY_INTR_INFO, 1u << 12)) \
	X(inject_info_reserved_bit_30, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry interruption-information bits 30:12", \
	  inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, false); set_bits(VMCS_ENTRY_INTR_INFO, 1u << 30)) \
	X(inject_info_ignored_when_invalid, valid_64, PASS, 0, "", set(VMCS_ENTRY_INTR_INFO, 0x7fffffff)) \
	X(inject_error_code_high_bits, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry exception error code bits 31:16", \
	  inject(VMX_INTR_TYPE_HW_EXCEPTION, 13, true); set(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x10000)) \
	X(inject_software_interrupt_length_16, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry instruction length is above 15", \
	  inject(VMX_INTR_TYPE_SW_INTERRUPT, 0x80, false); set(VMCS_ENTRY_INSTRUCTION_LEN, 16)) \
	X(inject_software_exception_length_0, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry instruction length is 0", \
	  caps.misc &= ~VMX_MISC_ZERO_LEN_INJECTION; inject(VMX_INTR_TYPE_SW_EXCEPTION, 3, false)) \
	X(inject_privileged_exception_length_0, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry instruction length is 0", \
	  caps.misc &= ~VMX_MISC_ZERO_LEN_INJECTION; inject(VMX_INTR_TYPE_PRIV_SW_EXCEPTION, 1, false)) \
	X(inject_software_exception_length_0_misc_30, valid_64, PASS, 0, "", inject(VMX_INTR_TYPE_SW_EXCEPTION, 3, false)) \
	X(inject_software_interrupt_length_15, valid_64, PASS, 0, "", \
	  inject(VMX_INTR_TYPE_SW_INTERRUPT, 0x80, false); set(VMCS_ENTRY_INSTRUCTION_LEN, 15)) \
	X(entry_msr_load_unaligned, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry MSR-load address", \
	  set(VMCS_ENTRY_MSR_LOAD_COUNT, 3); set(VMCS_ENTRY_MSR_LOAD_ADDR, 0x1e001)) \
	X(entry_msr_load_beyond_maxphyaddr, valid_64, CONTROLS, 0, "26.2.1.3: VM-entry MSR-load address", \
	  set(VMCS_ENTRY_MSR_LOAD_COUNT, 1); set(VMCS_ENTRY_MSR_LOAD_ADDR, BEYOND_39)) \
	X(entry_to_smm, valid_64, CONTROLS, 0, "26.2.1.3: entry to SMM is 1 outside SMM", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_ENTRY_TO_SMM)) \
	X(deactivate_dual_monitor, valid_64, CONTROLS, 0, "26.2.1.3: deactivate dual-monitor treatment is 1 outside SMM", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_DEACTIVATE_DUAL_MONITOR)) \


#define HOST_CASES(X) \
	/* 26.2.2 host control registers and MSRs */ \
	X(host_cr0_without_pe, valid_64, HOST, 0, "26.2.2: host CR0 does not have the bits", clear_bits(VMCS_HOST_CR0, VMX_CR0_PE)) \
	X(host_cr0_without_ne, valid_64, HOST, 0, "26.2.2: host CR0 does not have the bits", clear_bits(VMCS_HOST_CR0, VMX_CR0_NE)) \
	X(host_cr0_bit_32, valid_64, HOST, 0, "26.2.2: host CR0 does not have the bits", set_bits(VMCS_HOST_CR0, 1ull << 32)) \
	X(host_cr4_without_vmxe, valid_64, HOST, 0, "26.2.2: host CR4 does not have the bits", clear_bits(VMCS_HOST_CR4, VMX_CR4_VMXE)) \
	X(host_cr4_la57_not_offered, valid_64, HOST, 0, "26.2.2: host CR4 does not have the bits", set_bits(VMCS_HOST_CR4, 1ull << 12)) \
	X(host_cr3_beyond_maxphyaddr, valid_64, HOST, 0, "26.2.2: host CR3 sets bits beyond", set_bits(VMCS_HOST_CR3, BEYOND_39)) \
	X(host_cet_without_wp, valid_64, HOST, 0, "26.2.2: host CR4.CET is 1 and CR0.WP is 0", \
	  set_bits(VMCS_HOST_CR4, CR4_CET); clear_bits(VMCS_HOST_CR0, VMX_CR0_WP)) \
	X(host_cet_with_wp, valid_64, PASS, 0, "", set_bits(VMCS_HOST_CR4, CR4_CET)) \
	X(host_sysenter_esp_noncanonical, valid_64, HOST, 0, "26.2.2: host IA32_SYSENTER_ESP is not canonical", \
	  set(VMCS_HOST_SYSENTER_ESP, NONCANONICAL)) \
	X(host_sysenter_eip_noncanonical, valid_64, HOST, 0, "26.2.2: host IA32_SYSENTER_EIP is not canonical", \
	  set(VMCS_HOST_SYSENTER_EIP, 0xfff0000000000000ull)) \
	X(host_sysenter_eip_canonical_high, valid_64, PASS, 0, "", set(VMCS_HOST_SYSENTER_EIP, 0xffff800000000000ull)) \
	X(host_s_cet_reserved, valid_64, HOST, 0, "26.2.2: host IA32_S_CET sets reserved bits 9:6", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_S_CET, 1u << 6)) \
	X(host_s_cet_suppress_and_tracker, valid_64, HOST, 0, "26.2.2: host IA32_S_CET sets both SUPPRESS", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_S_CET, (1u << 10) | (1u << 11))) \
	X(host_s_cet_noncanonical, valid_64, HOST, 0, "26.2.2: host IA32_S_CET is not canonical", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_S_CET, NONCANONICAL)) \
	X(host_ssp_table_noncanonical, valid_64, HOST, 0, "26.2.2: host IA32_INTERRUPT_SSP_TABLE_ADDR is not canonical", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_INTR_SSP_TABLE_ADDR, NONCANONICAL)) \
	X(host_ssp_noncanonical, valid_64, HOST, 0, "26.2.2: host SSP is not canonical", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_SSP, NONCANONICAL)) \
	X(host_ssp_unaligned, valid_64, HOST, 0, "26.2.2: host SSP bits 1:0 are not 0", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_SSP, 0xffffc90000003ff2ull)) \
	X(host_ssp_high_32_bit_host, valid_pae, HOST, 0, "26.2.2: host SSP is not canonical (or bits 63:32", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0); set(VMCS_HOST_RIP, 0x100000); \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_SSP, 1ull << 32)) \
	X(host_s_cet_high_32_bit_host, valid_pae, HOST, 0, "26.2.2: host IA32_S_CET is not canonical (or bits 63:32", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0); set(VMCS_HOST_RIP, 0x100000); \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_S_CET, 1ull << 32)) \
	X(host_cet_state_valid, valid_64, PASS, 0, "", \
	  set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_CET_STATE); set(VMCS_HOST_SSP, 0xffffc90000003ff8ull); \
	  set(VMCS_HOST_S_CET, 0xffffffff81000005ull); set(VMCS_HOST_INTR_SSP_TABLE_ADDR, 0xffffffff82000000ull)) \
	X(host_pkrs_high, valid_64, HOST, 0, "26.2.2: host IA32_PKRS bits 63:32 are not 0", \
	  caps.exit |= ALLOWED1(VMX_EXIT_CTL_LOAD_PKRS); set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_PKRS); set(VMCS_HOST_IA32_PKRS, 1ull << 32)) \
	X(host_pkrs_valid, valid_64, PASS, 0, "", \
	  caps.exit |= ALLOWED1(VMX_EXIT_CTL_LOAD_PKRS); set_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_PKRS); set(VMCS_HOST_IA32_PKRS, 0xffffffff)) \
	X(host_cet_state_ignored_unless_loaded, valid_64, PASS, 0, "", set(VMCS_HOST_S_CET, ~0ull)) \
	X(host_pat_type_2, valid_64, HOST, 0, "26.2.2: host IA32_PAT has an entry with a reserved memory type", \
	  set(VMCS_HOST_IA32_PAT, PAT_DEFAULT | (2ull << 56))) \
	X(host_pat_type_8, valid_64, HOST, 0, "26.2.2: host IA32_PAT has an entry with a reserved memory type", \
	  set(VMCS_HOST_IA32_PAT, (PAT_DEFAULT & ~0xffull) | 8)) \
	X(host_pat_ignored_unless_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_IA32_PAT); set(VMCS_HOST_IA32_PAT, ~0ull)) \
	X(host_efer_reserved_bit, valid_64, HOST, 0, "26.2.2: host IA32_EFER sets reserved bits", \
	  set_bits(VMCS_HOST_IA32_EFER, 1ull << 12)) \
	X(host_efer_lma_clear, valid_64, HOST, 0, "26.2.2: host IA32_EFER.LMA differs", clear_bits(VMCS_HOST_IA32_EFER, EFER_LMA)) \
	X(host_efer_lme_clear, valid_64, HOST, 0, "26.2.2: host IA32_EFER.LME differs", clear_bits(VMCS_HOST_IA32_EFER, EFER_LME)) \
	X(host_efer_ignored_unless_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_LOAD_IA32_EFER); set(VMCS_HOST_IA32_EFER, 0)) \
	/* 26.2.3 host segment and descriptor-table registers */ \
	X(host_es_rpl, valid_64, HOST, 0, "26.2.3: host ES selector has RPL or TI set", set(VMCS_HOST_ES_SELECTOR, 0x13)) \
	X(host_cs_ti, valid_64, HOST, 0, "26.2.3: host CS selector has RPL or TI set", set(VMCS_HOST_CS_SELECTOR, 0x0c)) \
	X(host_ss_rpl, valid_64, HOST, 0, "26.2.3: host SS selector has RPL or TI set", set(VMCS_HOST_SS_SELECTOR, 0x11)) \
	X(host_ds_rpl, valid_64, HOST, 0, "26.2.3: host DS selector has RPL or TI set", set(VMCS_HOST_DS_SELECTOR, 0x12)) \
	X(host_fs_ti, valid_64, HOST, 0, "26.2.3: host FS selector has RPL or TI set", set(VMCS_HOST_FS_SELECTOR, 0x04)) \
	X(host_gs_rpl, valid_64, HOST, 0, "26.2.3: host GS selector has RPL or TI set", set(VMCS_HOST_GS_SELECTOR, 0x03)) \
	X(host_tr_rpl, valid_64, HOST, 0, "26.2.3: host TR selector has RPL or TI set", set(VMCS_HOST_TR_SELECTOR, 0x19)) \
	X(host_cs_null, valid_64, HOST, 0, "26.2.3: host CS selector is 0000H", set(VMCS_HOST_CS_SELECTOR, 0)) \
	X(host_tr_null, valid_64, HOST, 0, "26.2.3: host TR selector is 0000H", set(VMCS_HOST_TR_SELECTOR, 0)) \
	X(host_ss_null_32_bit, valid_64, HOST, 0, "26.2.3: host SS selector is 0000H and host address-space size is 0", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0); \
	  set(VMCS_HOST_SS_SELECTOR, 0)) \
	X(host_ss_null_64_bit, valid_64, PASS, 0, "", set(VMCS_HOST_SS_SELECTOR, 0)) \
	X(host_fs_base_noncanonical, valid_64, HOST, 0, "26.2.3: host FS base is not canonical", set(VMCS_HOST_FS_BASE, NONCANONICAL)) \
	X(host_gs_base_noncanonical, valid_64, HOST, 0, "26.2.3: host GS base is not canonical", set(VMCS_HOST_GS_BASE, NONCANONICAL)) \
	X(host_gdtr_base_noncanonical, valid_64, HOST, 0, "26.2.3: host GDTR base is not canonical", set(VMCS_HOST_GDTR_BASE, NONCANONICAL)) \
	X(host_idtr_base_noncanonical, valid_64, HOST, 0, "26.2.3: host IDTR base is not canonical", set(VMCS_HOST_IDTR_BASE, NONCANONICAL)) \
	X(host_tr_base_noncanonical, valid_64, HOST, 0, "26.2.3: host TR base is not canonical", set(VMCS_HOST_TR_BASE, NONCANONICAL)) \
	X(host_base_canonical_with_la57, valid_64, PASS, 0, "", \
	  caps.cr4_fixed1 |= 1ull << 12; set(VMCS_HOST_FS_BASE, NONCANONICAL)) \
	X(host_base_noncanonical_with_la57, valid_64, HOST, 0, "26.2.3: host FS base is not canonical", \
	  caps.cr4_fixed1 |= 1ull << 12; set(VMCS_HOST_FS_BASE, 1ull << 57)) \
	/* 26.2.4 address-space size */ \
	X(host_32_bit_with_ia32e_guest, valid_64, HOST, 0, "26.2.4: IA-32e mode guest is 1 and host address-space size is 0", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0)) \
	X(host_32_bit_with_pcide, valid_pae, HOST, 0, "26.2.4: host CR4.PCIDE is 1 and host address-space size is 0", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0); \
	  set_bits(VMCS_HOST_CR4, CR4_PCIDE); set(VMCS_HOST_RIP, 0x100000)) \
	X(host_32_bit_rip_high, valid_pae, HOST, 0, "26.2.4: host RIP bits 63:32 are not 0", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0)) \
	X(host_32_bit_valid, valid_pae, PASS, 0, "", \
	  clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE); set(VMCS_HOST_IA32_EFER, 0); \
	  set(VMCS_HOST_RIP, 0x100000)) \
	X(host_64_bit_without_pae, valid_64, HOST, 0, "26.2.4: host CR4.PAE is 0 and host address-space size is 1", \
	  clear_bits(VMCS_HOST_CR4, VMX_CR4_PAE)) \
	X(host_64_bit_rip_noncanonical, valid_64, HOST, 0, "26.2.4: host RIP is not canonical", set(VMCS_HOST_RIP, NONCANONICAL)) \


#define GUEST_REGISTER_CASES(X) \
	/* 26.3.1.1 control registers, debug registers, MSRs */ \
	X(guest_cr0_without_ne, valid_64, GUEST, Q0, "26.3.1.1: guest CR0 does not have the bits", clear_bits(VMCS_GUEST_CR0, VMX_CR0_NE)) \
	X(guest_cr0_without_pe_pg_restricted, valid_64, GUEST, Q0, "26.3.1.1: guest CR0 does not have the bits", \
	  clear_bits(VMCS_GUEST_CR0, VMX_CR0_PE | VMX_CR0_PG); clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST)) \
	X(guest_cr0_without_ne_unrestricted, valid_ug, GUEST, Q0, "26.3.1.1: guest CR0 does not have the bits", \
	  clear_bits(VMCS_GUEST_CR0, VMX_CR0_NE)) \
	X(guest_cr0_bit_32, valid_64, GUEST, Q0, "26.3.1.1: guest CR0 does not have the bits", set_bits(VMCS_GUEST_CR0, 1ull << 32)) \
	X(guest_cr0_pg_without_pe, valid_ug, GUEST, Q0, "26.3.1.1: guest CR0.PG is 1 and CR0.PE is 0", set_bits(VMCS_GUEST_CR0, VMX_CR0_PG)) \
	X(guest_cr4_without_vmxe, valid_64, GUEST, Q0, "26.3.1.1: guest CR4 does not have the bits", clear_bits(VMCS_GUEST_CR4, VMX_CR4_VMXE)) \
	X(guest_cr4_smxe_not_offered, valid_64, GUEST, Q0, "26.3.1.1: guest CR4 does not have the bits", set_bits(VMCS_GUEST_CR4, 1ull << 14)) \
	X(guest_cet_without_wp, valid_64, GUEST, Q0, "26.3.1.1: guest CR4.CET is 1 and CR0.WP is 0", \
	  set_bits(VMCS_GUEST_CR4, CR4_CET); clear_bits(VMCS_GUEST_CR0, VMX_CR0_WP)) \
	X(guest_cet_with_wp, valid_64, PASS, 0, "", set_bits(VMCS_GUEST_CR4, CR4_CET)) \
	X(guest_debugctl_reserved, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits", \
	  set(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 16)) \
	X(guest_debugctl_ignored_unless_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS); set(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 16)) \
	X(guest_debugctl_lbr_btf, valid_64, PASS, 0, "", set(VMCS_GUEST_IA32_DEBUGCTL, 3)) \
	X(guest_debugctl_bus_lock_without_cpuid, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits", \
	  set(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 2)) \
	X(guest_debugctl_bus_lock_with_cpuid, valid_64, PASS, 0, "", \
	  caps.bus_lock_detect = true; set(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 2)) \
	X(guest_debugctl_bit3_with_bus_lock, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits", \
	  caps.bus_lock_detect = true; set(VMCS_GUEST_IA32_DEBUGCTL, 1ull << 3)) \
	X(guest_ia32e_without_pg, valid_ug, GUEST, Q0, "26.3.1.1: IA-32e mode guest is 1 and guest CR0.PG is 0", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST); set_bits(VMCS_GUEST_CR4, VMX_CR4_PAE)) \
	X(guest_ia32e_without_pae, valid_64, GUEST, Q0, "26.3.1.1: IA-32e mode guest is 1 and guest CR4.PAE is 0", \
	  clear_bits(VMCS_GUEST_CR4, VMX_CR4_PAE)) \
	X(guest_pcide_outside_ia32e, valid_pae, GUEST, Q0, "26.3.1.1: IA-32e mode guest is 0 and guest CR4.PCIDE is 1", \
	  set_bits(VMCS_GUEST_CR4, CR4_PCIDE)) \
	X(guest_pcide_in_ia32e, valid_64, PASS, 0, "", set_bits(VMCS_GUEST_CR4, CR4_PCIDE)) \
	X(guest_cr3_beyond_maxphyaddr, valid_64, GUEST, Q0, "26.3.1.1: guest CR3 sets bits beyond", set_bits(VMCS_GUEST_CR3, BEYOND_39)) \
	X(guest_dr7_high, valid_64, GUEST, Q0, "26.3.1.1: guest DR7 bits 63:32", set_bits(VMCS_GUEST_DR7, 1ull << 32)) \
	X(guest_dr7_ignored_unless_debug_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS); set_bits(VMCS_GUEST_DR7, 1ull << 32)) \
	X(guest_sysenter_esp_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_SYSENTER_ESP is not canonical", \
	  set(VMCS_GUEST_SYSENTER_ESP, NONCANONICAL)) \
	X(guest_sysenter_eip_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_SYSENTER_EIP is not canonical", \
	  set(VMCS_GUEST_SYSENTER_EIP, NONCANONICAL)) \
	X(guest_pat_type_3, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_PAT has an entry with a reserved memory type", \
	  set(VMCS_GUEST_IA32_PAT, PAT_DEFAULT | (3ull << 24))) \
	X(guest_pat_ignored_unless_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_PAT); set(VMCS_GUEST_IA32_PAT, ~0ull)) \
	X(guest_efer_reserved_bit, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_EFER sets reserved bits", \
	  set_bits(VMCS_GUEST_IA32_EFER, 1ull << 1)) \
	X(guest_efer_lma_without_ia32e, valid_pae, GUEST, Q0, "26.3.1.1: guest IA32_EFER.LMA differs", \
	  set_bits(VMCS_GUEST_IA32_EFER, EFER_LMA | EFER_LME)) \
	X(guest_efer_no_lma_with_ia32e, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_EFER.LMA differs", \
	  clear_bits(VMCS_GUEST_IA32_EFER, EFER_LMA)) \
	X(guest_efer_lme_without_lma_paging, valid_pae, GUEST, Q0, "26.3.1.1: guest CR0.PG is 1 and IA32_EFER.LME differs", \
	  set_bits(VMCS_GUEST_IA32_EFER, EFER_LME)) \
	X(guest_efer_lme_without_lma_no_paging, valid_ug, PASS, 0, "", set_bits(VMCS_GUEST_IA32_EFER, EFER_LME)) \
	X(guest_efer_ignored_unless_loaded, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_EFER); set(VMCS_GUEST_IA32_EFER, 0)) \
	X(guest_bndcfgs_reserved, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_BNDCFGS sets reserved bits 11:2", \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); \
	  set(VMCS_GUEST_IA32_BNDCFGS, 1u << 2)) \
	X(guest_bndcfgs_base_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_BNDCFGS base", \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); \
	  set(VMCS_GUEST_IA32_BNDCFGS, NONCANONICAL | 3)) \
	X(guest_bndcfgs_valid, valid_64, PASS, 0, "", \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_IA32_BNDCFGS); \
	  set(VMCS_GUEST_IA32_BNDCFGS, 0xffff800000001003ull)) \
	X(guest_s_cet_reserved, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_S_CET sets reserved bits 9:6", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_S_CET, 1u << 9)) \
	X(guest_s_cet_suppress_and_tracker, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_S_CET sets both SUPPRESS", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_S_CET, (1u << 10) | (1u << 11))) \
	X(guest_s_cet_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_S_CET is not canonical", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_S_CET, NONCANONICAL)) \
	X(guest_ssp_table_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_INTERRUPT_SSP_TABLE_ADDR is not canonical", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_INTR_SSP_TABLE_ADDR, NONCANONICAL)) \
	X(guest_cet_state_valid, valid_64, PASS, 0, "", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_S_CET, 0x5); set(VMCS_GUEST_SSP, 0x7fff0000)) \
	X(guest_ssp_noncanonical, valid_64, GUEST, Q0, "26.3.1.1: guest SSP is not canonical", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_SSP, NONCANONICAL)) \
	X(guest_ssp_high_outside_ia32e, valid_pae, GUEST, Q0, "26.3.1.1: guest SSP is not canonical (or bits 63:32", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_SSP, 1ull << 32)) \
	X(guest_ssp_unaligned, valid_64, GUEST, Q0, "26.3.1.1: guest SSP bits 1:0 are not 0", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_SSP, 0x7fff0001)) \
	X(guest_s_cet_high_outside_ia32e, valid_pae, GUEST, Q0, "26.3.1.1: guest IA32_S_CET is not canonical (or bits 63:32", \
	  set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_CET_STATE); set(VMCS_GUEST_S_CET, 1ull << 32)) \
	X(guest_pkrs_high, valid_64, GUEST, Q0, "26.3.1.1: guest IA32_PKRS bits 63:32 are not 0", \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_PKRS); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_PKRS); set(VMCS_GUEST_IA32_PKRS, 1ull << 40)) \
	X(guest_pkrs_valid, valid_64, PASS, 0, "", \
	  caps.entry |= ALLOWED1(VMX_ENTRY_CTL_LOAD_PKRS); set_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_LOAD_PKRS); set(VMCS_GUEST_IA32_PKRS, 0x55555554)) \
	X(guest_pkrs_ignored_unless_loaded, valid_64, PASS, 0, "", set(VMCS_GUEST_IA32_PKRS, 1ull << 40)) \
	\
	/* 26.3.1.3 descriptor-table registers */ \
	X(guest_gdtr_base_noncanonical, valid_64, GUEST, Q0, "26.3.1.3: guest GDTR base is not canonical", set(VMCS_GUEST_GDTR_BASE, NONCANONICAL)) \
	X(guest_idtr_base_noncanonical, valid_64, GUEST, Q0, "26.3.1.3: guest IDTR base is not canonical", set(VMCS_GUEST_IDTR_BASE, NONCANONICAL)) \
	X(guest_gdtr_limit_high, valid_64, GUEST, Q0, "26.3.1.3: guest GDTR limit bits 31:16", set(VMCS_GUEST_GDTR_LIMIT, 0x10000)) \
	X(guest_idtr_limit_high, valid_64, GUEST, Q0, "26.3.1.3: guest IDTR limit bits 31:16", set(VMCS_GUEST_IDTR_LIMIT, 0x1ffff)) \
	\
	/* 26.3.1.4 RIP and RFLAGS */ \
	X(guest_rip_high_outside_ia32e, valid_pae, GUEST, Q0, "26.3.1.4: guest RIP bits 63:32 are not 0", set(VMCS_GUEST_RIP, 1ull << 32)) \
	X(guest_rip_high_compatibility_mode, valid_64, GUEST, Q0, "26.3.1.4: guest RIP bits 63:32 are not 0", \
	  set(VMCS_GUEST_CS_AR, VMX_AR_CODE32_FLAT); set(VMCS_GUEST_RIP, 1ull << 32)) \
	X(guest_rip_noncanonical, valid_64, GUEST, Q0, "26.3.1.4: guest RIP is not canonical in 64-bit mode", set(VMCS_GUEST_RIP, NONCANONICAL)) \
	X(guest_rip_canonical_high, valid_64, PASS, 0, "", set(VMCS_GUEST_RIP, 0xffffffff81000000ull)) \
	X(guest_rflags_bit_3, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS sets reserved bits", set_bits(VMCS_GUEST_RFLAGS, 1u << 3)) \
	X(guest_rflags_bit_15, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS sets reserved bits", set_bits(VMCS_GUEST_RFLAGS, 1u << 15)) \
	X(guest_rflags_bit_22, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS sets reserved bits", set_bits(VMCS_GUEST_RFLAGS, 1u << 22)) \
	X(guest_rflags_bit_1_clear, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS bit 1 is 0", set(VMCS_GUEST_RFLAGS, 0)) \
	X(guest_rflags_vm_in_ia32e, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS.VM is 1 with IA-32e mode guest or CR0.PE=0", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_VM); make_v86_segments()) \
	X(guest_rflags_vm_in_real_mode, valid_ug, GUEST, Q0, "26.3.1.4: guest RFLAGS.VM is 1 with IA-32e mode guest or CR0.PE=0", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_VM); make_v86_segments()) \
	X(guest_if_clear_with_external_interrupt, valid_64, GUEST, Q0, "26.3.1.4: guest RFLAGS.IF is 0 and an external interrupt is injected", \
	  inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \
	X(guest_if_set_with_external_interrupt, valid_64, PASS, 0, "", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_IF); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \


#define AR_WITH_TYPE(ar, type) (((ar) & ~VMX_AR_TYPE_MASK) | (type))
#define CPL3_64 \
	set(VMCS_GUEST_CS_SELECTOR, 0x33); set(VMCS_GUEST_CS_AR, VMX_AR_CODE64 | AR_DPL3); \
	set(VMCS_GUEST_SS_SELECTOR, 0x2b); set(VMCS_GUEST_SS_AR, VMX_AR_DATA_FLAT | AR_DPL3)

#define GUEST_SEGMENT_CASES(X) \
	/* 26.3.1.2 selectors */ \
	X(guest_tr_ti, valid_64, GUEST, Q0, "26.3.1.2: guest TR selector has TI set", set(VMCS_GUEST_TR_SELECTOR, 0x1c)) \
	X(guest_ldtr_ti, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its selector has TI set", set(VMCS_GUEST_LDTR_SELECTOR, 0x4)) \
	X(guest_ldtr_ti_unusable, valid_64, PASS, 0, "", set(VMCS_GUEST_LDTR_SELECTOR, 0x4)) \
	X(guest_ss_rpl_differs_from_cs, valid_64, GUEST, Q0, "26.3.1.2: guest SS selector RPL differs from CS selector RPL", \
	  set(VMCS_GUEST_SS_SELECTOR, 0x13)) \
	X(guest_ss_rpl_differs_unrestricted, valid_ug, PASS, 0, "", set(VMCS_GUEST_SS_SELECTOR, 0x3)) \
	X(guest_cpl3_64, valid_64, PASS, 0, "", CPL3_64) \
	/* 26.3.1.2 virtual-8086 mode */ \
	X(guest_v86_cs_base, valid_v86, GUEST, Q0, "26.3.1.2: virtual-8086 guest CS base is not its selector times 16", \
	  set(VMCS_GUEST_CS_BASE, 0x10010)) \
	X(guest_v86_gs_base, valid_v86, GUEST, Q0, "26.3.1.2: virtual-8086 guest GS base is not its selector times 16", \
	  set(VMCS_GUEST_GS_BASE, 0)) \
	X(guest_v86_ss_limit, valid_v86, GUEST, Q0, "26.3.1.2: virtual-8086 guest SS limit is not FFFFH", set(VMCS_GUEST_SS_LIMIT, 0xfffff)) \
	X(guest_v86_ds_access_rights, valid_v86, GUEST, Q0, "26.3.1.2: virtual-8086 guest DS access rights are not F3H", \
	  set(VMCS_GUEST_DS_AR, 0xf2)) \
	X(guest_v86_es_unusable, valid_v86, GUEST, Q0, "26.3.1.2: virtual-8086 guest ES access rights are not F3H", \
	  set(VMCS_GUEST_ES_AR, AR_V86 | AR_UNUSABLE)) \
	X(guest_v86_tr_16_bit, valid_v86, PASS, 0, "", set(VMCS_GUEST_TR_AR, VMX_AR_P | 3u)) \
	/* 26.3.1.2 CS */ \
	X(guest_cs_base_high, valid_pae, GUEST, Q0, "26.3.1.2: guest CS base bits 63:32 are not 0", set(VMCS_GUEST_CS_BASE, 1ull << 32)) \
	X(guest_cs_type_data, valid_64, GUEST, Q0, "26.3.1.2: guest CS type is not 9, 11, 13 or 15", \
	  set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 3))) \
	X(guest_cs_type_not_accessed, valid_64, GUEST, Q0, "26.3.1.2: guest CS type is not 9, 11, 13 or 15", \
	  set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 10))) \
	X(guest_cs_type_conforming_execute_only, valid_64, PASS, 0, "", set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 13))) \
	X(guest_cs_type_execute_only, valid_64, PASS, 0, "", set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 9))) \
	X(guest_cs_type_data_unrestricted, valid_ug, PASS, 0, "", set(VMCS_GUEST_CS_AR, AR_REAL_DATA)) \
	X(guest_cs_type_data_dpl_3, valid_ug, GUEST, Q0, "26.3.1.2: guest CS type is 3 and its DPL is not 0", \
	  set(VMCS_GUEST_CS_AR, AR_REAL_DATA | AR_DPL3)) \
	X(guest_cs_s_clear, valid_64, GUEST, Q0, "26.3.1.2: guest CS S bit is 0", clear_bits(VMCS_GUEST_CS_AR, VMX_AR_S)) \
	X(guest_cs_nonconforming_dpl_differs, valid_64, GUEST, Q0, "26.3.1.2: guest CS is non-conforming code and its DPL differs from SS.DPL", \
	  set_bits(VMCS_GUEST_CS_AR, AR_DPL3)) \
	X(guest_cs_conforming_dpl_above_ss, valid_64, GUEST, Q0, "26.3.1.2: guest CS is conforming code and its DPL is greater than SS.DPL", \
	  set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 15) | AR_DPL3)) \
	X(guest_cs_conforming_dpl_below_ss, valid_64, PASS, 0, "", CPL3_64; set(VMCS_GUEST_CS_AR, AR_WITH_TYPE(VMX_AR_CODE64, 13))) \
	X(guest_cs_not_present, valid_64, GUEST, Q0, "26.3.1.2: guest CS is not present", clear_bits(VMCS_GUEST_CS_AR, VMX_AR_P)) \
	X(guest_cs_ar_bit_8, valid_64, GUEST, Q0, "26.3.1.2: guest CS access-rights bits 11:8", set_bits(VMCS_GUEST_CS_AR, 1u << 8)) \
	X(guest_cs_long_and_db, valid_64, GUEST, Q0, "26.3.1.2: IA-32e mode guest with CS.L=1 and CS.D/B=1", set_bits(VMCS_GUEST_CS_AR, VMX_AR_DB)) \
	X(guest_cs_long_and_db_outside_ia32e, valid_pae, PASS, 0, "", set(VMCS_GUEST_CS_AR, VMX_AR_CODE64 | VMX_AR_DB)) \
	X(guest_cs_page_granular_small_limit, valid_64, GUEST, Q0, "26.3.1.2: guest CS G bit does not match its limit", \
	  set(VMCS_GUEST_CS_LIMIT, 0xffffe)) \
	X(guest_cs_byte_granular_big_limit, valid_64, GUEST, Q0, "26.3.1.2: guest CS G bit does not match its limit", \
	  clear_bits(VMCS_GUEST_CS_AR, VMX_AR_G); set(VMCS_GUEST_CS_LIMIT, 0x100000)) \
	X(guest_cs_byte_granular_1m_limit, valid_64, PASS, 0, "", clear_bits(VMCS_GUEST_CS_AR, VMX_AR_G); set(VMCS_GUEST_CS_LIMIT, 0xfffff)) \
	X(guest_cs_ar_bit_17, valid_64, GUEST, Q0, "26.3.1.2: guest CS access-rights bits 31:17", set_bits(VMCS_GUEST_CS_AR, 1u << 17)) \
	X(guest_cs_ar_bit_31, valid_64, GUEST, Q0, "26.3.1.2: guest CS access-rights bits 31:17", set_bits(VMCS_GUEST_CS_AR, 1u << 31)) \
	/* 26.3.1.2 SS */ \
	X(guest_ss_type_code, valid_64, GUEST, Q0, "26.3.1.2: guest SS is usable and its type is not 3 or 7", \
	  set(VMCS_GUEST_SS_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 11))) \
	X(guest_ss_type_expand_down, valid_64, PASS, 0, "", set(VMCS_GUEST_SS_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 7))) \
	X(guest_ss_unusable, valid_64, PASS, 0, "", set(VMCS_GUEST_SS_AR, AR_UNUSABLE); set(VMCS_GUEST_SS_BASE, 1ull << 40)) \
	X(guest_ss_dpl_differs_from_rpl, valid_64, GUEST, Q0, "26.3.1.2: guest SS DPL differs from its selector RPL", \
	  set_bits(VMCS_GUEST_CS_AR, AR_DPL3); set_bits(VMCS_GUEST_SS_AR, AR_DPL3)) \
	X(guest_ss_dpl_3_real_mode, valid_ug, GUEST, Q0, "26.3.1.2: guest SS DPL is not 0 with CS type 3 or CR0.PE=0", \
	  set(VMCS_GUEST_SS_SELECTOR, 3); set_bits(VMCS_GUEST_SS_AR, AR_DPL3); set_bits(VMCS_GUEST_CS_AR, AR_DPL3)) \
	X(guest_ss_dpl_3_cs_type_3, valid_ug, GUEST, Q0, "26.3.1.2: guest SS DPL is not 0 with CS type 3 or CR0.PE=0", \
	  set_bits(VMCS_GUEST_CR0, VMX_CR0_PE); set(VMCS_GUEST_SS_SELECTOR, 3); set_bits(VMCS_GUEST_SS_AR, AR_DPL3); \
	  set(VMCS_GUEST_CS_AR, AR_REAL_DATA)) \
	X(guest_ss_dpl_3_protected_unrestricted, valid_ug, PASS, 0, "", \
	  set_bits(VMCS_GUEST_CR0, VMX_CR0_PE); set(VMCS_GUEST_SS_SELECTOR, 3); set_bits(VMCS_GUEST_SS_AR, AR_DPL3); \
	  set_bits(VMCS_GUEST_CS_AR, AR_DPL3)) \
	X(guest_ss_not_present, valid_64, GUEST, Q0, "26.3.1.2: guest SS is usable and not present", clear_bits(VMCS_GUEST_SS_AR, VMX_AR_P)) \
	X(guest_ss_base_high, valid_pae, GUEST, Q0, "26.3.1.2: guest SS is usable and its base bits 63:32 are not 0", \
	  set(VMCS_GUEST_SS_BASE, 1ull << 32)) \
	X(guest_ss_s_clear, valid_64, GUEST, Q0, "26.3.1.2: guest SS is usable and its S bit is 0", clear_bits(VMCS_GUEST_SS_AR, VMX_AR_S)) \
	/* 26.3.1.2 DS, ES, FS, GS */ \
	X(guest_ds_not_accessed, valid_64, GUEST, Q0, "26.3.1.2: guest DS is usable and its type is not accessed", \
	  set(VMCS_GUEST_DS_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 2))) \
	X(guest_es_execute_only_code, valid_64, GUEST, Q0, "26.3.1.2: guest ES is usable and is an execute-only code segment", \
	  set(VMCS_GUEST_ES_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 9))) \
	X(guest_es_readable_code, valid_64, PASS, 0, "", set(VMCS_GUEST_ES_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 11))) \
	X(guest_fs_s_clear, valid_64, GUEST, Q0, "26.3.1.2: guest FS is usable and its S bit is 0", clear_bits(VMCS_GUEST_FS_AR, VMX_AR_S)) \
	X(guest_gs_dpl_below_rpl, valid_64, GUEST, Q0, "26.3.1.2: guest GS is usable, data or non-conforming code, and its DPL is below its RPL", \
	  set(VMCS_GUEST_GS_SELECTOR, 0x13)) \
	X(guest_gs_conforming_dpl_below_rpl, valid_64, PASS, 0, "", \
	  set(VMCS_GUEST_GS_SELECTOR, 0x13); set(VMCS_GUEST_GS_AR, AR_WITH_TYPE(VMX_AR_DATA_FLAT, 15))) \
	X(guest_gs_dpl_below_rpl_unrestricted, valid_ug, PASS, 0, "", set(VMCS_GUEST_GS_SELECTOR, 0x3)) \
	X(guest_ds_not_present, valid_64, GUEST, Q0, "26.3.1.2: guest DS is usable and not present", clear_bits(VMCS_GUEST_DS_AR, VMX_AR_P)) \
	X(guest_ds_ar_bit_9, valid_64, GUEST, Q0, "26.3.1.2: guest DS is usable and its access-rights bits 11:8", set_bits(VMCS_GUEST_DS_AR, 1u << 9)) \
	X(guest_es_granularity, valid_64, GUEST, Q0, "26.3.1.2: guest ES is usable and its G bit does not match its limit", \
	  set(VMCS_GUEST_ES_LIMIT, 0x1000)) \
	X(guest_fs_ar_bit_17, valid_64, GUEST, Q0, "26.3.1.2: guest FS is usable and its access-rights bits 31:17", set_bits(VMCS_GUEST_FS_AR, 1u << 17)) \
	X(guest_ds_unusable_garbage, valid_64, PASS, 0, "", set(VMCS_GUEST_DS_AR, AR_UNUSABLE | 0xf00u | (1u << 20))) \
	X(guest_es_base_high_unusable, valid_pae, PASS, 0, "", set(VMCS_GUEST_ES_AR, AR_UNUSABLE); set(VMCS_GUEST_ES_BASE, 1ull << 32)) \
	X(guest_ds_base_high, valid_pae, GUEST, Q0, "26.3.1.2: guest DS is usable and its base bits 63:32", set(VMCS_GUEST_DS_BASE, 1ull << 32)) \
	X(guest_fs_base_noncanonical, valid_64, GUEST, Q0, "26.3.1.2: guest FS base is not canonical", set(VMCS_GUEST_FS_BASE, NONCANONICAL)) \
	X(guest_gs_base_noncanonical_unusable, valid_64, GUEST, Q0, "26.3.1.2: guest GS base is not canonical", \
	  set(VMCS_GUEST_GS_AR, AR_UNUSABLE); set(VMCS_GUEST_GS_BASE, NONCANONICAL)) \
	/* 26.3.1.2 TR */ \
	X(guest_tr_base_noncanonical, valid_64, GUEST, Q0, "26.3.1.2: guest TR base is not canonical", set(VMCS_GUEST_TR_BASE, NONCANONICAL)) \
	X(guest_tr_16_bit_in_ia32e, valid_64, GUEST, Q0, "26.3.1.2: guest TR type is not a busy TSS", set(VMCS_GUEST_TR_AR, VMX_AR_P | 3u)) \
	X(guest_tr_16_bit_outside_ia32e, valid_pae, PASS, 0, "", set(VMCS_GUEST_TR_AR, VMX_AR_P | 3u)) \
	X(guest_tr_available, valid_64, GUEST, Q0, "26.3.1.2: guest TR type is not a busy TSS", set(VMCS_GUEST_TR_AR, VMX_AR_P | 9u)) \
	X(guest_tr_s, valid_64, GUEST, Q0, "26.3.1.2: guest TR S bit is 1", set_bits(VMCS_GUEST_TR_AR, VMX_AR_S)) \
	X(guest_tr_not_present, valid_64, GUEST, Q0, "26.3.1.2: guest TR is not present", clear_bits(VMCS_GUEST_TR_AR, VMX_AR_P)) \
	X(guest_tr_ar_bit_10, valid_64, GUEST, Q0, "26.3.1.2: guest TR access-rights bits 11:8", set_bits(VMCS_GUEST_TR_AR, 1u << 10)) \
	X(guest_tr_granularity, valid_64, GUEST, Q0, "26.3.1.2: guest TR G bit does not match its limit", set_bits(VMCS_GUEST_TR_AR, VMX_AR_G)) \
	X(guest_tr_unusable, valid_64, GUEST, Q0, "26.3.1.2: guest TR is unusable", set_bits(VMCS_GUEST_TR_AR, AR_UNUSABLE)) \
	X(guest_tr_ar_bit_20, valid_64, GUEST, Q0, "26.3.1.2: guest TR access-rights bits 31:17", set_bits(VMCS_GUEST_TR_AR, 1u << 20)) \
	/* 26.3.1.2 LDTR */ \
	X(guest_ldtr_base_noncanonical, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its base is not canonical", \
	  set(VMCS_GUEST_LDTR_BASE, NONCANONICAL)) \
	X(guest_ldtr_base_noncanonical_unusable, valid_64, PASS, 0, "", set(VMCS_GUEST_LDTR_BASE, NONCANONICAL)) \
	X(guest_ldtr_type, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its type is not 2", set(VMCS_GUEST_LDTR_AR, VMX_AR_P | 3u)) \
	X(guest_ldtr_s, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its S bit is 1", set_bits(VMCS_GUEST_LDTR_AR, VMX_AR_S)) \
	X(guest_ldtr_not_present, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and not present", clear_bits(VMCS_GUEST_LDTR_AR, VMX_AR_P)) \
	X(guest_ldtr_ar_bit_11, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its access-rights bits 11:8", set_bits(VMCS_GUEST_LDTR_AR, 1u << 11)) \
	X(guest_ldtr_granularity, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its G bit does not match its limit", \
	  set_bits(VMCS_GUEST_LDTR_AR, VMX_AR_G); set(VMCS_GUEST_LDTR_LIMIT, 0x1000)) \
	X(guest_ldtr_ar_bit_18, valid_ug, GUEST, Q0, "26.3.1.2: guest LDTR is usable and its access-rights bits 31:17", set_bits(VMCS_GUEST_LDTR_AR, 1u << 18)) \

#define ACTIVITY(state) set(VMCS_GUEST_ACTIVITY_STATE, state)
#define BLOCKING(bits) set(VMCS_GUEST_INTERRUPTIBILITY, bits)
#define IF_SET set_bits(VMCS_GUEST_RFLAGS, RFLAGS_IF)
#define Q_NMI VMX_ENTRY_QUAL_NMI_INJECTION
#define Q_LINK VMX_ENTRY_QUAL_LINK_POINTER
#define Q_PDPTE VMX_ENTRY_QUAL_PDPTE
#define STI VMX_INTERRUPTIBILITY_STI
#define MOV_SS VMX_INTERRUPTIBILITY_MOV_SS
#define PENDING(bits) set(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, bits)
#define SHADOWING set_bits(SECONDARY, VMX_PROC2_VMCS_SHADOWING); set(VMCS_VMREAD_BITMAP, 0x19000); set(VMCS_VMWRITE_BITMAP, 0x1a000)

#define GUEST_NON_REGISTER_CASES(X) \
	/* 26.3.1.5 activity state */ \
	X(guest_activity_4, valid_64, GUEST, Q0, "26.3.1.5: guest activity state is not 0-3", ACTIVITY(4)) \
	X(guest_activity_wait_sipi_not_offered, valid_64, GUEST, Q0, "26.3.1.5: guest activity state is not 0-3 or not one", \
	  caps.misc &= ~VMX_MISC_ACTIVITY_WAIT_SIPI; ACTIVITY(VMX_ACTIVITY_WAIT_SIPI)) \
	X(guest_activity_wait_sipi, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_WAIT_SIPI)) \
	X(guest_activity_shutdown, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_SHUTDOWN)) \
	X(guest_activity_hlt, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_HLT)) \
	X(guest_activity_hlt_cpl3, valid_64, GUEST, Q0, "26.3.1.5: guest activity state is HLT and SS.DPL is not 0", \
	  CPL3_64; ACTIVITY(VMX_ACTIVITY_HLT)) \
	X(guest_activity_hlt_with_sti_blocking, valid_64, GUEST, Q0, "26.3.1.5: guest activity state is not active with blocking by STI or MOV SS", \
	  IF_SET; BLOCKING(STI); ACTIVITY(VMX_ACTIVITY_HLT)) \
	X(guest_activity_shutdown_with_mov_ss_blocking, valid_64, GUEST, Q0, "26.3.1.5: guest activity state is not active with blocking", \
	  BLOCKING(MOV_SS); ACTIVITY(VMX_ACTIVITY_SHUTDOWN)) \
	X(guest_hlt_inject_ud, valid_64, GUEST, Q0, "26.3.1.5: the injected event is one the guest activity state blocks", \
	  ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, false)) \
	X(guest_hlt_inject_software_interrupt, valid_64, GUEST, Q0, "26.3.1.5: the injected event is one the guest activity state blocks", \
	  ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_SW_INTERRUPT, 0x80, false); set(VMCS_ENTRY_INSTRUCTION_LEN, 2)) \
	X(guest_hlt_inject_external, valid_64, PASS, 0, "", IF_SET; ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \
	X(guest_hlt_inject_nmi, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	X(guest_hlt_inject_db, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_HW_EXCEPTION, 1, false)) \
	X(guest_hlt_inject_mc, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_HW_EXCEPTION, 18, false)) \
	X(guest_hlt_inject_mtf, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_HLT); inject(VMX_INTR_TYPE_OTHER_EVENT, 0, false)) \
	X(guest_shutdown_inject_external, valid_64, GUEST, Q0, "26.3.1.5: the injected event is one the guest activity state blocks", \
	  IF_SET; ACTIVITY(VMX_ACTIVITY_SHUTDOWN); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \
	X(guest_shutdown_inject_db, valid_64, GUEST, Q0, "26.3.1.5: the injected event is one the guest activity state blocks", \
	  ACTIVITY(VMX_ACTIVITY_SHUTDOWN); inject(VMX_INTR_TYPE_HW_EXCEPTION, 1, false)) \
	X(guest_shutdown_inject_nmi, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_SHUTDOWN); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	X(guest_shutdown_inject_mc, valid_64, PASS, 0, "", ACTIVITY(VMX_ACTIVITY_SHUTDOWN); inject(VMX_INTR_TYPE_HW_EXCEPTION, 18, false)) \
	X(guest_wait_sipi_inject_nmi, valid_64, GUEST, Q0, "26.3.1.5: the injected event is one the guest activity state blocks", \
	  ACTIVITY(VMX_ACTIVITY_WAIT_SIPI); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	/* 26.3.1.5 interruptibility state */ \
	X(guest_interruptibility_bit_5, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state sets reserved bits 31:5", BLOCKING(1u << 5)) \
	X(guest_sti_and_mov_ss, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state has blocking by STI and by MOV SS", \
	  IF_SET; BLOCKING(STI | MOV_SS)) \
	X(guest_sti_with_if_clear, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state has blocking by STI and RFLAGS.IF is 0", BLOCKING(STI)) \
	X(guest_sti_with_if_set, valid_64, PASS, 0, "", IF_SET; BLOCKING(STI)) \
	X(guest_mov_ss_with_if_clear, valid_64, PASS, 0, "", BLOCKING(MOV_SS)) \
	X(guest_external_with_mov_ss, valid_64, GUEST, Q0, "26.3.1.5: an external interrupt is injected with blocking by STI or MOV SS", \
	  IF_SET; BLOCKING(MOV_SS); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \
	X(guest_external_with_sti, valid_64, GUEST, Q0, "26.3.1.5: an external interrupt is injected with blocking by STI or MOV SS", \
	  IF_SET; BLOCKING(STI); inject(VMX_INTR_TYPE_EXTERNAL, 0x20, false)) \
	X(guest_nmi_with_mov_ss, valid_64, GUEST, Q0, "26.3.1.5: an NMI is injected with blocking by MOV SS", \
	  BLOCKING(MOV_SS); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	X(guest_exception_with_mov_ss, valid_64, PASS, 0, "", BLOCKING(MOV_SS); inject(VMX_INTR_TYPE_HW_EXCEPTION, 6, false)) \
	X(guest_smi_blocking, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state has blocking by SMI outside SMM", \
	  BLOCKING(VMX_INTERRUPTIBILITY_SMI)) \
	X(guest_nmi_with_nmi_blocking_virtual_nmis, valid_64, GUEST, Q0, "26.3.1.5: an NMI is injected with virtual NMIs and blocking by NMI", \
	  BLOCKING(VMX_INTERRUPTIBILITY_NMI); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	X(guest_nmi_with_nmi_blocking_no_virtual_nmis, valid_64, PASS, 0, "", \
	  clear_bits(VMCS_PIN_BASED_CTLS, VMX_PIN_VIRTUAL_NMIS); BLOCKING(VMX_INTERRUPTIBILITY_NMI); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	X(guest_nmi_blocking_without_injection, valid_64, PASS, 0, "", BLOCKING(VMX_INTERRUPTIBILITY_NMI)) \
	X(guest_enclave_with_mov_ss, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state has enclave interruption and blocking by MOV SS", \
	  BLOCKING(VMX_INTERRUPTIBILITY_ENCLAVE | MOV_SS)) \
	X(guest_enclave_without_mov_ss, valid_64, PASS, 0, "", caps.sgx = true; BLOCKING(VMX_INTERRUPTIBILITY_ENCLAVE)) \
	X(guest_enclave_without_sgx, valid_64, GUEST, Q0, "26.3.1.5: guest interruptibility state has enclave interruption and the processor has no SGX", \
	  BLOCKING(VMX_INTERRUPTIBILITY_ENCLAVE)) \
	X(guest_nmi_with_sti, valid_64, GUEST, Q_NMI, "26.3.1.5: an NMI is injected with blocking by STI", \
	  IF_SET; BLOCKING(STI); inject(VMX_INTR_TYPE_NMI, 2, false)) \
	/* 26.3.1.5 pending debug exceptions */ \
	X(guest_pending_debug_bit_4, valid_64, GUEST, Q0, "26.3.1.5: guest pending debug exceptions set reserved bits", PENDING(1u << 4)) \
	X(guest_pending_debug_bit_13, valid_64, GUEST, Q0, "26.3.1.5: guest pending debug exceptions set reserved bits", PENDING(1u << 13)) \
	X(guest_pending_debug_bit_15, valid_64, GUEST, Q0, "26.3.1.5: guest pending debug exceptions set reserved bits", PENDING(1u << 15)) \
	X(guest_pending_debug_bit_17, valid_64, GUEST, Q0, "26.3.1.5: guest pending debug exceptions set reserved bits", PENDING(1u << 17)) \
	X(guest_pending_debug_b0_bp_bs, valid_64, PASS, 0, "", PENDING(VMX_PENDING_DBG_BS | VMX_PENDING_DBG_ENABLED_BP | 1)) \
	X(guest_single_step_without_bs, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions BS is 0 with RFLAGS.TF=1", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_IF | RFLAGS_TF); BLOCKING(STI)) \
	X(guest_single_step_with_bs, valid_64, PASS, 0, "", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_IF | RFLAGS_TF); BLOCKING(STI); PENDING(VMX_PENDING_DBG_BS)) \
	X(guest_bs_without_single_step, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions BS is 1 with RFLAGS.TF=0", \
	  BLOCKING(MOV_SS); PENDING(VMX_PENDING_DBG_BS)) \
	X(guest_bs_with_btf_halted, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions BS is 1 with RFLAGS.TF=0 or BTF=1", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_TF); set(VMCS_GUEST_IA32_DEBUGCTL, 2); ACTIVITY(VMX_ACTIVITY_HLT); PENDING(VMX_PENDING_DBG_BS)) \
	X(guest_btf_halted_without_bs, valid_64, PASS, 0, "", \
	  set_bits(VMCS_GUEST_RFLAGS, RFLAGS_TF); set(VMCS_GUEST_IA32_DEBUGCTL, 2); ACTIVITY(VMX_ACTIVITY_HLT)) \
	X(guest_single_step_unblocked_without_bs, valid_64, PASS, 0, "", set_bits(VMCS_GUEST_RFLAGS, RFLAGS_TF)) \
	X(guest_rtm_with_b0, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions RTM is 1 with bits 11:0 set", \
	  PENDING(VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP | 1)) \
	X(guest_rtm_without_enabled_bp, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions RTM is 1 and enabled breakpoint", \
	  PENDING(VMX_PENDING_DBG_RTM)) \
	X(guest_rtm_with_mov_ss, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions RTM is 1 with blocking by MOV SS", \
	  caps.rtm = true; BLOCKING(MOV_SS); PENDING(VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP)) \
	X(guest_rtm_without_rtm, valid_64, GUEST, Q0, "26.3.1.5: pending debug exceptions RTM is 1 and the processor has no RTM", \
	  PENDING(VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP)) \
	X(guest_rtm_valid, valid_64, PASS, 0, "", caps.rtm = true; PENDING(VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP)) \
	/* 26.3.1.5 VMCS link pointer: qualification 4 */ \
	X(guest_link_pointer_unaligned, valid_ug, GUEST, Q_LINK, "26.3.1.5: VMCS link pointer is not 4-KByte aligned", \
	  set(VMCS_LINK_POINTER, LINK_VMCS + 0x10)) \
	X(guest_link_pointer_beyond_maxphyaddr, valid_ug, GUEST, Q_LINK, "26.3.1.5: VMCS link pointer is not 4-KByte aligned or beyond", \
	  set(VMCS_LINK_POINTER, BEYOND_39)) \
	X(guest_link_pointer_unreadable, valid_ug, GUEST, Q_LINK, "26.3.1.5: VMCS link pointer points outside L1's memory", \
	  set(VMCS_LINK_POINTER, LINK_VMCS + 0x1000)) \
	X(guest_link_pointer_wrong_revision, valid_ug, GUEST, Q_LINK, "does not have the VMCS revision identifier", poke(LINK_VMCS, REVISION + 1)) \
	X(guest_link_pointer_shadow_without_shadowing, valid_ug, GUEST, Q_LINK, "the shadow-VMCS indicator of the linked VMCS differs", \
	  poke(LINK_VMCS, REVISION | (1ull << 31))) \
	X(guest_link_pointer_shadowing_without_shadow, valid_ug, GUEST, Q_LINK, "the shadow-VMCS indicator of the linked VMCS differs", SHADOWING) \
	X(guest_link_pointer_shadowing_with_shadow, valid_ug, PASS, 0, "", SHADOWING; poke(LINK_VMCS, REVISION | (1ull << 31))) \
	X(guest_link_pointer_none_with_shadowing, valid_64, PASS, 0, "", SHADOWING) \
	X(guest_link_pointer_revision_upper_half_ignored, valid_ug, PASS, 0, "", poke(LINK_VMCS, REVISION | (0xabcdull << 32))) \
	/* 26.3.1.6 PDPTEs: qualification 2 */ \
	X(guest_pdpte0_reserved_bit_1, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: a present PDPTE CR3 references sets reserved bits", \
	  poke(PAE_PDPT, 0x301003)) \
	X(guest_pdpte3_reserved_bit_5, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: a present PDPTE CR3 references sets reserved bits", \
	  poke(PAE_PDPT + 24, 0x303021)) \
	X(guest_pdpte1_beyond_maxphyaddr, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: a present PDPTE CR3 references sets reserved bits", \
	  poke(PAE_PDPT + 8, BEYOND_39 | 0x302001)) \
	X(guest_pdpte1_execute_disable, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: a present PDPTE CR3 references sets reserved bits", \
	  poke(PAE_PDPT + 8, (1ull << 63) | 0x302001)) \
	X(guest_pdpte_pwt_pcd_allowed, valid_pae, PASS, 0, "", poke(PAE_PDPT, 0x301019)) \
	X(guest_pdpt_unreadable, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: the PDPTEs CR3 references are outside L1's memory", unpoke(PAE_PDPT + 24)) \
	X(guest_pdpt_cr3_low_bits_ignored, valid_pae, PASS, 0, "", set(VMCS_GUEST_CR3, PAE_PDPT | 0x18)) \
	X(guest_pdpt_ignored_with_ept, valid_pae, PASS, 0, "", set_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); poke(PAE_PDPT, 0x301003)) \
	X(guest_pdpte_field_reserved_with_ept, valid_pae, GUEST, Q_PDPTE, "26.3.1.6: a present guest PDPTE field sets reserved bits", \
	  set_bits(SECONDARY, VMX_PROC2_ENABLE_EPT); set(VMCS_GUEST_PDPTE(2), 0x1007)) \
	X(guest_pdptes_ignored_without_paging, valid_ug, PASS, 0, "", set_bits(VMCS_GUEST_CR4, VMX_CR4_PAE); set(VMCS_GUEST_PDPTE(0), 0x7)) \
	X(guest_pdptes_ignored_in_ia32e, valid_64, PASS, 0, "", set(VMCS_GUEST_PDPTE(0), 0x7)) \
	X(guest_pae_paging_unrestricted, valid_ug, PASS, 0, "", \
	  set_bits(VMCS_GUEST_CR0, VMX_CR0_PE | VMX_CR0_PG); set_bits(VMCS_GUEST_CR4, VMX_CR4_PAE); set(VMCS_GUEST_PDPTE(1), 0x5001)) \

#define DEFINE_CASE(name, base, what, qualification, rule, ...) \
	static void test_##name(void **state) \
	{ \
		(void)state; \
		base(); \
		__VA_ARGS__; \
		expect(what, qualification, rule); \
	}
CASES(DEFINE_CASE)
HOST_CASES(DEFINE_CASE)
GUEST_REGISTER_CASES(DEFINE_CASE)
GUEST_SEGMENT_CASES(DEFINE_CASE)
GUEST_NON_REGISTER_CASES(DEFINE_CASE)

/* 26.2.4, the part that depends on L1's own mode. */
static void test_l1_mode(void **state)
{
	(void)state;
	struct vmcs12_check_result r;
	valid_64();
	expect_pass(vmcs12_check_l1_mode(&view, true, &r), &r);
	expect_rule(vmcs12_check_l1_mode(&view, false, &r), &r, "26.2.4: IA-32e mode guest is 1 and the logical processor is outside IA-32e mode");
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
	clear_bits(VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST);
	expect_rule(vmcs12_check_l1_mode(&view, false, &r), &r, "26.2.4: host address-space size is 1 and the logical processor is outside IA-32e mode");
	clear_bits(VMCS_EXIT_CTLS, VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE);
	expect_pass(vmcs12_check_l1_mode(&view, false, &r), &r);
	expect_rule(vmcs12_check_l1_mode(&view, true, &r), &r, "26.2.4: host address-space size is 0 and the logical processor is in IA-32e mode");
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
}

/* 26.3.1.5: the link pointer may not be the current VMCS (the caller knows it). */
static void test_link_pointer_not_current(void **state)
{
	(void)state;
	struct vmcs12_check_result r;
	valid_ug();
	expect_pass(vmcs12_check_link_pointer_not_current(&view, LINK_VMCS + 0x1000, &r), &r);
	expect_rule(vmcs12_check_link_pointer_not_current(&view, LINK_VMCS, &r), &r,
		    "26.3.1.5: VMCS link pointer is the current-VMCS pointer");
	assert_int_equal(r.exit_reason, VMX_EXIT_REASON_INVALID_GUEST_STATE);
	assert_int_equal(r.qualification, VMX_ENTRY_QUAL_LINK_POINTER);
	assert_int_equal(r.insn_error, 0);
}

/* vmcs12_check_entry runs the groups in SDM order: the first failing group decides. */
static void test_entry_order(void **state)
{
	(void)state;
	struct vmcs12_check_result r;
	valid_64();
	assert_int_equal(vmcs12_check_entry(&view, &caps, true, &r), 0);
	set(VMCS_GUEST_RFLAGS, 0);                 /* guest state broken */
	assert_int_equal(vmcs12_check_entry(&view, &caps, true, &r), -1);
	assert_int_equal(r.exit_reason, VMX_EXIT_REASON_INVALID_GUEST_STATE);
	assert_int_equal(vmcs12_check_entry(&view, &caps, false, &r), -1); /* L1 mode first */
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
	set(VMCS_HOST_TR_SELECTOR, 0);             /* and host state */
	assert_int_equal(vmcs12_check_entry(&view, &caps, true, &r), -1);
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
	assert_int_equal(r.exit_reason, 0);
	set(VMCS_VPID, 0);                         /* and the controls: they come first */
	assert_int_equal(vmcs12_check_entry(&view, &caps, true, &r), -1);
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_CONTROL);
}

/* Every outcome is consistent: a failure names a rule whose section matches its class
 * (26.2.1 -> error 7, 26.2.2-26.2.4 -> error 8, 26.3 -> exit 33 with a 26.8 qualification).
 * Random single-field changes to the valid VMCS12s, from a fixed seed. */
#define RANDOM_ROUNDS 20000u
#define RANDOM_SEED 0x9e3779b97f4a7c15ull
#define FIELD_BITS 64u
#define SMALL_VALUE_MASK 0xffffull

static uint64_t random_next(uint64_t *x)
{
	/* xorshift64 */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const uint32_t random_fields[] = {
	VMCS_PIN_BASED_CTLS, VMCS_PROC_BASED_CTLS, VMCS_PROC_BASED_CTLS2, VMCS_EXIT_CTLS, VMCS_ENTRY_CTLS,
	VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_EXCEPTION_ERROR_CODE, VMCS_ENTRY_INSTRUCTION_LEN, VMCS_EPT_POINTER,
	VMCS_TPR_THRESHOLD, VMCS_VPID, VMCS_CR3_TARGET_COUNT, VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR,
	VMCS_HOST_CR0, VMCS_HOST_CR3, VMCS_HOST_CR4, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
	VMCS_HOST_TR_SELECTOR, VMCS_HOST_FS_BASE, VMCS_HOST_RIP, VMCS_HOST_IA32_EFER, VMCS_HOST_IA32_PAT,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_DR7, VMCS_GUEST_IA32_EFER, VMCS_GUEST_IA32_PAT,
	VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_AR, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_SELECTOR,
	VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR, VMCS_GUEST_FS_BASE, VMCS_GUEST_TR_AR, VMCS_GUEST_TR_LIMIT,
	VMCS_GUEST_LDTR_AR, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_RIP, VMCS_GUEST_RFLAGS, VMCS_GUEST_ACTIVITY_STATE,
	VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, VMCS_LINK_POINTER, VMCS_GUEST_PDPTE(0),
};

static void check_consistent(int rc, const struct vmcs12_check_result *r, uint32_t insn_error, const char *section)
{
	if (rc == 0) {
		assert_int_equal(r->insn_error, 0);
		assert_int_equal(r->exit_reason, 0);
		assert_null(r->rule);
		return;
	}
	assert_int_equal(rc, -1);
	assert_non_null(r->rule);
	if (strncmp(r->rule, section, strlen(section)) != 0)
		print_error("rule \"%s\" is not under %s\n", r->rule, section);
	assert_int_equal(strncmp(r->rule, section, strlen(section)), 0);
	assert_int_equal(r->insn_error, insn_error);
	if (insn_error) {
		assert_int_equal(r->exit_reason, 0);
		assert_int_equal(r->qualification, 0);
	} else {
		assert_int_equal(r->exit_reason, VMX_EXIT_REASON_INVALID_GUEST_STATE);
		assert_true(r->qualification == VMX_ENTRY_QUAL_DEFAULT || r->qualification == VMX_ENTRY_QUAL_PDPTE ||
			    r->qualification == VMX_ENTRY_QUAL_NMI_INJECTION || r->qualification == VMX_ENTRY_QUAL_LINK_POINTER);
	}
}

static void test_random_changes_are_consistent(void **state)
{
	(void)state;
	static void (*const bases[])(void) = { valid_64, valid_ug, valid_pae, valid_v86 };
	uint64_t x = RANDOM_SEED;
	unsigned failures[3] = { 0, 0, 0 };
	for (unsigned round = 0; round < RANDOM_ROUNDS; round++) {
		bases[random_next(&x) % (sizeof bases / sizeof bases[0])]();
		uint32_t encoding = random_fields[random_next(&x) % (sizeof random_fields / sizeof random_fields[0])];
		uint64_t change = random_next(&x);
		switch (random_next(&x) % 3) {
		case 0: set(encoding, get(encoding) ^ (1ull << (change % FIELD_BITS))); break; /* one bit */
		case 1: set(encoding, change); break;                                    /* anything */
		default: set(encoding, change & SMALL_VALUE_MASK); break;                          /* small values */
		}
		struct vmcs12_check_result r;
		int rc = vmcs12_check_controls(&view, &caps, &r);
		check_consistent(rc, &r, VMX_ERROR_ENTRY_INVALID_CONTROL, "26.2.1.");
		if (rc) {
			failures[0]++;
			continue;
		}
		rc = vmcs12_check_host_state(&view, &caps, &r);
		check_consistent(rc, &r, VMX_ERROR_ENTRY_INVALID_HOST_STATE, "26.2.");
		if (rc) {
			assert_true(strncmp(r.rule, "26.2.1.", 7) != 0);
			failures[1]++;
			continue;
		}
		rc = vmcs12_check_guest_state(&view, &caps, &r);
		check_consistent(rc, &r, 0, "26.3.1.");
		failures[2] += rc != 0;
	}
	/* The changes reach all three groups. */
	assert_true(failures[0] > 0 && failures[1] > 0 && failures[2] > 0);
}

#define REGISTER_CASE(name, ...) cmocka_unit_test(test_##name),

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASES(REGISTER_CASE)
		HOST_CASES(REGISTER_CASE)
		GUEST_REGISTER_CASES(REGISTER_CASE)
		GUEST_SEGMENT_CASES(REGISTER_CASE)
		GUEST_NON_REGISTER_CASES(REGISTER_CASE)
		cmocka_unit_test(test_l1_mode),
		cmocka_unit_test(test_entry_order),
		cmocka_unit_test(test_link_pointer_not_current),
		cmocka_unit_test(test_random_changes_are_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
