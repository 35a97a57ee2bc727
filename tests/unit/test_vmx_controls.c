/* covers: src/vmx/vmx_controls.c src/core/cr0_write.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/cpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"

/* Bochs 2.7 tigerlake, as nestbed prints them (`nestbed: vmx ...`). */
static const struct vmx_caps tigerlake = {
	.basic = 0x1d8100000000004ull,
	.pinbased = 0x7f00000016ull,
	.procbased = 0xfff9fffe0401e172ull,
	.procbased2 = 0x2977fff00000000ull,
	.exit = 0x107fffff00036dffull,
	.entry = 0x10ffff000011ffull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0xf72fffull,
	.ept_vpid = 0xf0106b34141ull,
	.true_pinbased = 0x7f00000016ull,
	.true_procbased = 0xfff9fffe04006172ull,
	.true_exit = 0x107fffff00036dfbull,
	.true_entry = 0x10ffff000011fbull,
};

#define PROC_WANTED (VMX_PROC_HLT_EXITING | VMX_PROC_USE_IO_BITMAPS | VMX_PROC_USE_MSR_BITMAPS | \
		     VMX_PROC_ACTIVATE_SECONDARY)

/* ---- control adjustment ---- */

static void test_adjust_formula(void **state)
{
	(void)state;
	/* allowed0 0x16 (must be 1), allowed1 0x7f (may be 1) */
	assert_int_equal(vmx_adjust_controls(0x7f00000016ull, 0), 0x16);
	assert_int_equal(vmx_adjust_controls(0x7f00000016ull, 0x1), 0x17);
	assert_int_equal(vmx_adjust_controls(0x7f00000016ull, 0x80), 0x16); /* not allowed: dropped */
	assert_int_equal(vmx_adjust_controls(0xffffffff00000000ull, 0xdeadbeef), 0xdeadbeef);
	assert_int_equal(vmx_adjust_controls(0, 0xffffffff), 0);
	assert_int_equal(vmx_allowed0(0x1234567887654321ull), 0x87654321u);
	assert_int_equal(vmx_allowed1(0x1234567887654321ull), 0x12345678u);
}

static void test_adjust_required(void **state)
{
	(void)state;
	uint32_t out = 0;
	/* Everything wanted is allowed: nothing missing. */
	assert_int_equal(vmx_controls_adjust(tigerlake.true_procbased, PROC_WANTED, PROC_WANTED, &out), 0);
	assert_int_equal(out, 0x960061f2u); /* the value nestbed runs with on tigerlake */
	/* A required bit the CPU does not allow is reported; an optional one is dropped. */
	uint64_t no_ept = 0xfffffffdull << 32; /* allowed1 lacks bit 1 */
	assert_int_equal(vmx_controls_adjust(no_ept, VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID,
					     VMX_PROC2_ENABLE_EPT, &out),
			 VMX_PROC2_ENABLE_EPT);
	assert_int_equal(out, VMX_PROC2_ENABLE_VPID);
	assert_int_equal(vmx_controls_adjust(no_ept, VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID, 0, &out), 0);
	assert_int_equal(out, VMX_PROC2_ENABLE_VPID);
}

static void test_adjust_forced_bits_kept(void **state)
{
	(void)state;
	uint32_t out;
	/* The original MSR forces CR3-load/store exiting (A.3.2 default1 class); TRUE does not. */
	assert_int_equal(vmx_controls_adjust(tigerlake.procbased, PROC_WANTED, PROC_WANTED, &out), 0);
	assert_true(out & VMX_PROC_CR3_LOAD_EXITING);
	assert_true(out & VMX_PROC_CR3_STORE_EXITING);
	assert_int_equal(vmx_controls_adjust(tigerlake.true_procbased, PROC_WANTED, PROC_WANTED, &out), 0);
	assert_false(out & VMX_PROC_CR3_LOAD_EXITING);
	assert_false(out & VMX_PROC_CR3_STORE_EXITING);
}

static void test_control_cap_true_or_original(void **state)
{
	(void)state;
	struct vmx_caps c = tigerlake;
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PIN), c.true_pinbased);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PROC), c.true_procbased);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PROC2), c.procbased2);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_EXIT), c.true_exit);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_ENTRY), c.true_entry);
	c.basic &= ~VMX_BASIC_TRUE_CTLS;
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PIN), c.pinbased);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PROC), c.procbased);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PROC2), c.procbased2);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_EXIT), c.exit);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_ENTRY), c.entry);
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_COUNT), 0);
}

static void test_control_cap_no_secondary(void **state)
{
	(void)state;
	struct vmx_caps c = tigerlake;
	c.procbased &= ~VMX_PROCBASED_ACTIVATE_SECONDARY;
	assert_int_equal(vmx_control_cap(&c, VMX_CTLS_PROC2), 0);
	uint32_t out;
	assert_int_equal(vmx_controls_adjust(vmx_control_cap(&c, VMX_CTLS_PROC2),
					     VMX_PROC2_ENABLE_EPT, VMX_PROC2_ENABLE_EPT, &out),
			 VMX_PROC2_ENABLE_EPT);
}

static void test_control_set_names(void **state)
{
	(void)state;
	assert_string_equal(vmx_control_set_name(VMX_CTLS_PIN), "pin-based");
	assert_string_equal(vmx_control_set_name(VMX_CTLS_PROC2), "secondary processor-based");
	assert_string_equal(vmx_control_set_name(VMX_CTLS_ENTRY), "VM-entry");
	assert_string_equal(vmx_control_set_name(VMX_CTLS_COUNT), "unknown");
}

/* ---- bitmaps ---- */

static void test_msr_bitmap(void **state)
{
	(void)state;
	uint8_t bm[4096];
	memset(bm, 0, sizeof(bm));
	assert_true(vmx_msr_bitmap_intercept(bm, 0xC0000080u, true, true)); /* EFER */
	assert_int_equal(bm[0x400 + 0x10], 0x01);
	assert_int_equal(bm[0xC00 + 0x10], 0x01);
	assert_true(vmx_msr_bitmap_intercept(bm, 0x3A, true, false)); /* FEATURE_CONTROL, read */
	assert_int_equal(bm[0x007], 0x04);
	assert_int_equal(bm[0x807], 0x00);
	assert_true(vmx_msr_bitmap_intercept(bm, 0x491, false, true));
	assert_int_equal(bm[0x800 + 0x92], 0x02);
	assert_true(vmx_msr_bitmap_intercept(bm, 0x1FFF, true, false));
	assert_int_equal(bm[0x3FF], 0x80);
	assert_true(vmx_msr_bitmap_intercept(bm, 0xC0001FFFu, false, true));
	assert_int_equal(bm[0xFFF], 0x80);
	/* Outside both ranges: the CPU always exits; the bitmap is untouched. */
	uint8_t copy[4096];
	memcpy(copy, bm, sizeof(bm));
	assert_false(vmx_msr_bitmap_intercept(bm, 0x2000, true, true));
	assert_false(vmx_msr_bitmap_intercept(bm, 0xC0010114u, true, true));
	assert_false(vmx_msr_bitmap_intercept(bm, 0xBFFFFFFFu, true, true));
	assert_memory_equal(bm, copy, sizeof(bm));
	/* Exactly the bits set above. */
	unsigned bits = 0;
	for (unsigned i = 0; i < sizeof(bm); i++)
		bits += (unsigned)__builtin_popcount(bm[i]);
	assert_int_equal(bits, 6);
}

static void test_io_bitmap(void **state)
{
	(void)state;
	uint8_t a[4096], b[4096];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	vmx_io_bitmap_intercept(a, b, 0xf4);
	vmx_io_bitmap_intercept(a, b, 0x8900);
	assert_int_equal(a[0x1e], 0x10);
	assert_int_equal(b[0x120], 0x01);
	vmx_io_bitmap_intercept(a, b, 0x7fff);
	vmx_io_bitmap_intercept(a, b, 0x8000);
	vmx_io_bitmap_intercept(a, b, 0xffff);
	assert_int_equal(a[0xfff], 0x80);
	assert_int_equal(b[0x000], 0x01);
	assert_int_equal(b[0xfff], 0x80);
}

/* ---- CR0/CR4 ---- */

static struct vmx_cr_fixed fixed(bool unrestricted)
{
	return (struct vmx_cr_fixed){ .cr0_fixed0 = tigerlake.cr0_fixed0, .cr0_fixed1 = tigerlake.cr0_fixed1,
				      .cr4_fixed0 = tigerlake.cr4_fixed0, .cr4_fixed1 = tigerlake.cr4_fixed1,
				      .unrestricted_guest = unrestricted };
}

static void test_forced_bits(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	assert_int_equal(vmx_cr0_forced(&f), VMX_CR0_NE);
	assert_int_equal(vmx_cr4_forced(&f), VMX_CR4_VMXE);
	f.unrestricted_guest = false;
	assert_int_equal(vmx_cr0_forced(&f), VMX_CR0_PE | VMX_CR0_NE | VMX_CR0_PG);
	/* A bit fixed to 1 that FIXED1 also allows is forced; a contradictory one is not. */
	f.cr4_fixed0 = VMX_CR4_VMXE | (1ull << 12);
	assert_int_equal(vmx_cr4_forced(&f), VMX_CR4_VMXE);
}

static void test_guest_view(void **state)
{
	(void)state;
	assert_int_equal(vmx_cr_guest_view(0x80000031, 0x11, 0x20), 0x80000011);
	assert_int_equal(vmx_cr_guest_view(0x80000031, 0x31, 0x20), 0x80000031);
	assert_int_equal(vmx_cr_guest_view(0x2020, 0x0, 0x2000), 0x20);
}

static const struct vmx_cr_view protected32 = { .cr0 = VMX_CR0_PE | VMX_CR0_ET };

static void test_cr0_write_ne(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	uint64_t v = VMX_CR0_PE | VMX_CR0_ET | VMX_CR0_NE;
	assert_int_equal(vmx_cr0_write(&f, &protected32, v, &up), 0);
	assert_int_equal(up.guest_cr, v);
	assert_int_equal(up.shadow, v);
	assert_int_equal(up.efer, 0);
	assert_false(up.flush_tlb);
	assert_false(up.load_pdptes);
	/* Clearing NE: the guest reads 0, the CPU keeps 1. */
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_PE | VMX_CR0_ET, &up), 0);
	assert_int_equal(up.guest_cr, VMX_CR0_PE | VMX_CR0_ET | VMX_CR0_NE);
	assert_int_equal(up.shadow, VMX_CR0_PE | VMX_CR0_ET);
	/* Real mode is fine for an unrestricted guest. */
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_ET, &up), 0);
	assert_int_equal(up.guest_cr, VMX_CR0_ET | VMX_CR0_NE);
	assert_true(up.flush_tlb);
}

static void test_cr0_write_gp(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	assert_int_equal(vmx_cr0_write(&f, &protected32, (1ull << 32) | VMX_CR0_PE, &up), -1);
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_PG, &up), -1);
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_PE | VMX_CR0_NW, &up), -1);
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_PE | VMX_CR0_NW | VMX_CR0_CD, &up), 0);
	/* PG with LME but without PAE */
	struct vmx_cr_view lme = protected32;
	lme.efer = EFER_LME;
	assert_int_equal(vmx_cr0_write(&f, &lme, VMX_CR0_PE | VMX_CR0_PG, &up), -1);
	/* A CPU whose FIXED1 clears a CR0 bit refuses it. */
	f.cr0_fixed1 = 0xffffffffull & ~VMX_CR0_CD;
	assert_int_equal(vmx_cr0_write(&f, &protected32, VMX_CR0_PE | VMX_CR0_CD, &up), -1);
}

static void test_cr0_write_enters_long_mode(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	struct vmx_cr_view cur = { .cr0 = VMX_CR0_PE | VMX_CR0_ET, .cr4 = VMX_CR4_PAE, .efer = EFER_LME };
	uint64_t v = VMX_CR0_PE | VMX_CR0_ET | VMX_CR0_NE | VMX_CR0_PG;
	assert_int_equal(vmx_cr0_write(&f, &cur, v, &up), 0);
	assert_int_equal(up.efer, EFER_LME | EFER_LMA);
	assert_true(up.flush_tlb);
	assert_false(up.load_pdptes); /* 4-level paging: no PDPTEs */
	/* Leaving paging from compatibility mode clears LMA; from 64-bit code it is #GP. */
	cur = (struct vmx_cr_view){ .cr0 = v, .cr4 = VMX_CR4_PAE, .efer = EFER_LME | EFER_LMA };
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_NE, &up), 0);
	assert_int_equal(up.efer, EFER_LME);
	cur.cs_long = true;
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_NE, &up), -1);
}

static void test_cr0_write_pae_loads_pdptes(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	struct vmx_cr_view cur = { .cr0 = VMX_CR0_PE, .cr4 = VMX_CR4_PAE, .cr3 = 0x1000 };
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_PG, &up), 0);
	assert_true(up.load_pdptes);
	assert_int_equal(up.efer, 0);
	/* Already paging: only a CD/NW change reloads them. */
	cur.cr0 = VMX_CR0_PE | VMX_CR0_PG;
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_PG | VMX_CR0_NE, &up), 0);
	assert_false(up.load_pdptes);
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_PG | VMX_CR0_CD, &up), 0);
	assert_true(up.load_pdptes);
	/* 32-bit paging: never. */
	cur.cr4 = 0;
	cur.cr0 = VMX_CR0_PE;
	assert_int_equal(vmx_cr0_write(&f, &cur, VMX_CR0_PE | VMX_CR0_PG, &up), 0);
	assert_false(up.load_pdptes);
}

static void test_cr4_write(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	assert_int_equal(vmx_cr4_write(&f, &protected32, VMX_CR4_PAE, &up), 0);
	assert_int_equal(up.guest_cr, VMX_CR4_PAE | VMX_CR4_VMXE);
	assert_int_equal(up.shadow, VMX_CR4_PAE);
	assert_true(up.flush_tlb);
	assert_false(up.load_pdptes); /* paging is off */
	/* VMXE: #GP while VMX is not offered, accepted once it is. */
	assert_int_equal(vmx_cr4_write(&f, &protected32, VMX_CR4_VMXE, &up), -1);
	f.allow_vmxe = true;
	assert_int_equal(vmx_cr4_write(&f, &protected32, VMX_CR4_VMXE, &up), 0);
	assert_int_equal(up.shadow, VMX_CR4_VMXE);
	/* In VMX operation (the guest's VMXON) VMXE cannot be cleared, nor CR0's PE, NE, PG. */
	f.vmx_operation = true;
	assert_int_equal(vmx_cr4_write(&f, &protected32, 0, &up), -1);
	assert_int_equal(vmx_cr4_write(&f, &protected32, VMX_CR4_VMXE | VMX_CR4_PAE, &up), 0);
	struct vmx_cr_view paged = { .cr0 = VMX_CR0_PE | VMX_CR0_NE | VMX_CR0_PG, .cr4 = VMX_CR4_PAE | VMX_CR4_VMXE,
				     .efer = EFER_LME | EFER_LMA };
	assert_int_equal(vmx_cr0_write(&f, &paged, VMX_CR0_PE | VMX_CR0_PG, &up), -1);
	assert_int_equal(vmx_cr0_write(&f, &paged, VMX_CR0_PE | VMX_CR0_NE | VMX_CR0_PG | VMX_CR0_TS, &up), 0);
	f.vmx_operation = false;
	/* Bits FIXED1 clears (unsupported features) are reserved. */
	assert_int_equal(vmx_cr4_write(&f, &protected32, 1ull << 12, &up), -1);
	assert_int_equal(vmx_cr4_write(&f, &protected32, 1ull << 32, &up), -1);
}

static void test_cr4_write_long_mode_rules(void **state)
{
	(void)state;
	struct vmx_cr_fixed f = fixed(true);
	struct vmx_cr_update up;
	struct vmx_cr_view lm = { .cr0 = VMX_CR0_PE | VMX_CR0_PG, .cr4 = VMX_CR4_PAE,
				  .efer = EFER_LME | EFER_LMA, .cs_long = true, .cr3 = 0x5000 };
	assert_int_equal(vmx_cr4_write(&f, &lm, 0, &up), -1); /* PAE cleared in IA-32e mode */
	assert_int_equal(vmx_cr4_write(&f, &lm, VMX_CR4_PAE | VMX_CR4_PCIDE, &up), 0);
	lm.cr3 = 0x5001; /* PCIDE needs CR3[11:0] = 0 */
	assert_int_equal(vmx_cr4_write(&f, &lm, VMX_CR4_PAE | VMX_CR4_PCIDE, &up), -1);
	struct vmx_cr_view pae = { .cr0 = VMX_CR0_PE | VMX_CR0_PG, .cr4 = VMX_CR4_PAE };
	assert_int_equal(vmx_cr4_write(&f, &pae, VMX_CR4_PAE | VMX_CR4_PCIDE, &up), -1);
	/* PAE paging: toggling PGE reloads the PDPTEs, OSFXSR does not. */
	assert_int_equal(vmx_cr4_write(&f, &pae, VMX_CR4_PAE | VMX_CR4_PGE, &up), 0);
	assert_true(up.load_pdptes);
	assert_int_equal(vmx_cr4_write(&f, &pae, VMX_CR4_PAE | (1ull << 9), &up), 0);
	assert_false(up.load_pdptes);
	assert_false(up.flush_tlb);
}

static void test_cr3_write(void **state)
{
	(void)state;
	struct vmx_cr_update up;
	struct vmx_cr_view pae = { .cr0 = VMX_CR0_PE | VMX_CR0_PG, .cr4 = VMX_CR4_PAE };
	assert_int_equal(vmx_cr3_write(&pae, 0xffffffff12345000ull, &up), 0);
	assert_int_equal(up.guest_cr, 0x12345000);
	assert_true(up.flush_tlb);
	assert_true(up.load_pdptes);
	struct vmx_cr_view lm = { .cr0 = VMX_CR0_PE | VMX_CR0_PG, .cr4 = VMX_CR4_PAE | VMX_CR4_PCIDE,
				  .efer = EFER_LME | EFER_LMA, .cs_long = true };
	assert_int_equal(vmx_cr3_write(&lm, (1ull << 63) | 0x123456003ull, &up), 0);
	assert_int_equal(up.guest_cr, 0x123456003ull);
	assert_false(up.load_pdptes);
}

static void test_lmsw(void **state)
{
	(void)state;
	assert_int_equal(vmx_lmsw_value(VMX_CR0_ET | VMX_CR0_PG, 0x1), VMX_CR0_ET | VMX_CR0_PG | VMX_CR0_PE);
	/* never clears PE; only bits 3:0 */
	assert_int_equal(vmx_lmsw_value(VMX_CR0_PE | VMX_CR0_TS, 0x0), VMX_CR0_PE);
	assert_int_equal(vmx_lmsw_value(0, 0xfff0), 0);
	assert_int_equal(vmx_lmsw_value(VMX_CR0_NE, 0xe), VMX_CR0_NE | 0xe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjust_formula),
		cmocka_unit_test(test_adjust_required),
		cmocka_unit_test(test_adjust_forced_bits_kept),
		cmocka_unit_test(test_control_cap_true_or_original),
		cmocka_unit_test(test_control_cap_no_secondary),
		cmocka_unit_test(test_control_set_names),
		cmocka_unit_test(test_msr_bitmap),
		cmocka_unit_test(test_io_bitmap),
		cmocka_unit_test(test_forced_bits),
		cmocka_unit_test(test_guest_view),
		cmocka_unit_test(test_cr0_write_ne),
		cmocka_unit_test(test_cr0_write_gp),
		cmocka_unit_test(test_cr0_write_enters_long_mode),
		cmocka_unit_test(test_cr0_write_pae_loads_pdptes),
		cmocka_unit_test(test_cr4_write),
		cmocka_unit_test(test_cr4_write_long_mode_rules),
		cmocka_unit_test(test_cr3_write),
		cmocka_unit_test(test_lmsw),
	};
	return cmocka_run_group_tests_name("vmx_controls", tests, NULL, NULL);
}
