/* covers: src/nested/vmx/nvmx_reflect.c src/nested/vmx/nvmx_caps.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/vmx/nvmx_caps.h"
#include "nested/vmx/nvmx_reflect.h"
#include "vmx/vmcs.h"

static uint8_t io[8192], msr[4096];

static struct nvmx_exit_controls controls(void)
{
	struct nvmx_exit_controls c;
	memset(&c, 0, sizeof(c));
	memset(io, 0, sizeof(io));
	memset(msr, 0, sizeof(msr));
	c.io_bitmaps = io;
	c.msr_bitmap = msr;
	return c;
}

static bool wants(const struct nvmx_exit_controls *c, uint32_t reason, uint64_t qual)
{
	struct nvmx_exit_event e = { .reason = reason, .qualification = qual };
	return nvmx_l1_wants_exit(c, &e);
}

static void test_always_exiting(void **state)
{
	(void)state;
	struct nvmx_exit_controls c = controls();
	assert_true(wants(&c, VMX_EXIT_REASON_CPUID, 0));
	assert_true(wants(&c, VMX_EXIT_REASON_VMCALL, 0));
	assert_true(wants(&c, VMX_EXIT_REASON_VMREAD, 0));
	assert_true(wants(&c, VMX_EXIT_REASON_TRIPLE_FAULT, 0));
	assert_true(wants(&c, VMX_EXIT_REASON_XSETBV, 0));
	assert_false(wants(&c, VMX_EXIT_REASON_EPT_VIOLATION, 0));
	assert_false(wants(&c, VMX_EXIT_REASON_HLT, 0));
	c.proc = VMX_PROC_HLT_EXITING;
	assert_true(wants(&c, VMX_EXIT_REASON_HLT, 0));
	/* MTF: L1's even with its control 0 (an injected pending MTF VM exit, 26.7.8) */
	assert_true(wants(&c, VMX_EXIT_REASON_MONITOR_TRAP_FLAG, 0));
	assert_false(wants(&c, VMX_EXIT_REASON_PREEMPTION_TIMER, 0));
	c.pin = VMX_PIN_PREEMPTION_TIMER;
	assert_true(wants(&c, VMX_EXIT_REASON_PREEMPTION_TIMER, 0));
	/* PAUSE: PAUSE exiting or PAUSE-loop exiting; VMFUNC always (no function offered) */
	assert_false(wants(&c, VMX_EXIT_REASON_PAUSE, 0));
	c.proc2 = VMX_PROC2_PAUSE_LOOP_EXITING;
	assert_true(wants(&c, VMX_EXIT_REASON_PAUSE, 0));
	c.proc2 = 0;
	c.proc |= VMX_PROC_PAUSE_EXITING;
	assert_true(wants(&c, VMX_EXIT_REASON_PAUSE, 0));
	assert_true(wants(&c, VMX_EXIT_REASON_VMFUNC, 0));
}

static void test_exceptions_and_pf_filter(void **state)
{
	(void)state;
	struct nvmx_exit_controls c = controls();
	struct nvmx_exit_event e = { .reason = VMX_EXIT_REASON_EXCEPTION_NMI,
				     .intr_info = VMX_INTR_INFO_VALID | (VMX_INTR_TYPE_HW_EXCEPTION << 8) | 6 };
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.exception_bitmap = 1u << 6;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	/* #PF: bit 14 set, mask/match on the W bit */
	e.intr_info = VMX_INTR_INFO_VALID | (VMX_INTR_TYPE_HW_EXCEPTION << 8) | 14;
	c.exception_bitmap = 1u << 14;
	c.pfec_mask = 2;
	c.pfec_match = 2;
	e.error_code = 2;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	e.error_code = 0;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.exception_bitmap = 0; /* inverse: a non-matching #PF exits */
	assert_true(nvmx_l1_wants_exit(&c, &e));
	/* NMI follows NMI exiting */
	e.intr_info = VMX_INTR_INFO_VALID | (VMX_INTR_TYPE_NMI << 8) | 2;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.pin = VMX_PIN_NMI_EXITING;
	assert_true(nvmx_l1_wants_exit(&c, &e));
}

static void test_cr_access(void **state)
{
	(void)state;
	struct nvmx_exit_controls c = controls();
	struct nvmx_exit_event e = { .reason = VMX_EXIT_REASON_CR_ACCESS, .qualification = 0 /* MOV to CR0 */ };
	c.cr0_mask = 1ull << 3; /* TS */
	c.cr0_shadow = 0;
	e.cr_value = 0x11;      /* TS unchanged (0) */
	assert_false(nvmx_l1_wants_exit(&c, &e));
	e.cr_value = 0x19;      /* sets TS */
	assert_true(nvmx_l1_wants_exit(&c, &e));
	/* CLTS exits only with TS owned and set in the shadow */
	e.qualification = 2u << 4;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.cr0_shadow = 1ull << 3;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	/* MOV to CR3: CR3-load exiting except for a CR3-target value */
	e.qualification = 3;
	e.cr_value = 0x5000;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.proc = VMX_PROC_CR3_LOAD_EXITING;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	c.cr3_target_count = 1;
	c.cr3_targets[0] = 0x5000;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	/* MOV from CR8 */
	e.qualification = 8 | (1u << 4);
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.proc |= VMX_PROC_CR8_STORE_EXITING;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	/* LMSW cannot clear PE: an owned PE with shadow 1 and source 0 does not exit */
	c.cr0_mask = 1;
	c.cr0_shadow = 1;
	e.qualification = 3u << 4; /* LMSW, source 0 */
	assert_false(nvmx_l1_wants_exit(&c, &e));
	c.cr0_shadow = 0;
	e.qualification = (3u << 4) | (1u << 16);
	assert_true(nvmx_l1_wants_exit(&c, &e));
}

static void test_io(void **state)
{
	(void)state;
	struct nvmx_exit_controls c = controls();
	uint64_t out_80 = (0x80ull << 16);           /* 1 byte at port 80h */
	uint64_t dword_7fff = (0x7fffull << 16) | 3; /* 4 bytes from 7FFFh: straddles A and B */
	assert_false(wants(&c, VMX_EXIT_REASON_IO, out_80));
	c.proc = VMX_PROC_UNCOND_IO_EXITING;
	assert_true(wants(&c, VMX_EXIT_REASON_IO, out_80));
	c.proc = VMX_PROC_USE_IO_BITMAPS | VMX_PROC_UNCOND_IO_EXITING; /* bitmaps win */
	assert_false(wants(&c, VMX_EXIT_REASON_IO, out_80));
	io[0x80 / 8] = 1;
	assert_true(wants(&c, VMX_EXIT_REASON_IO, out_80));
	assert_false(wants(&c, VMX_EXIT_REASON_IO, dword_7fff));
	io[0x8001 / 8] = 1 << (0x8001 % 8);
	assert_true(wants(&c, VMX_EXIT_REASON_IO, dword_7fff));
	assert_true(wants(&c, VMX_EXIT_REASON_IO, (0xffffull << 16) | 1)); /* wraps */
}

static void test_msr(void **state)
{
	(void)state;
	struct nvmx_exit_controls c = controls();
	struct nvmx_exit_event e = { .reason = VMX_EXIT_REASON_RDMSR, .msr = 0x10 };
	assert_true(nvmx_l1_wants_exit(&c, &e)); /* no bitmaps: every access */
	c.proc = VMX_PROC_USE_MSR_BITMAPS;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	msr[0x10 / 8] = 1 << (0x10 % 8);
	assert_true(nvmx_l1_wants_exit(&c, &e));
	e.reason = VMX_EXIT_REASON_WRMSR;
	assert_false(nvmx_l1_wants_exit(&c, &e));
	e.msr = 0xc0000080u;
	msr[2048 + 1024 + 0x80 / 8] = 1;
	assert_true(nvmx_l1_wants_exit(&c, &e));
	e.msr = 0x40000000u; /* outside both ranges */
	assert_true(nvmx_l1_wants_exit(&c, &e));
	assert_true(nvmx_msr_bitmap_exits(msr, 0xc0010000u, false));
}

static void test_offer(void **state)
{
	(void)state;
	/* Bochs tigerlake-like values */
	struct vmx_caps hw;
	memset(&hw, 0, sizeof(hw));
	hw.basic = 0xda10000000002bull | (1ull << 49);
	hw.pinbased = 0x000000ff00000016ull;
	hw.true_pinbased = 0x000000ff00000016ull;
	hw.procbased = 0xfff9fffe0401e172ull;
	hw.true_procbased = 0xfff9fffe04006172ull;
	hw.procbased2 = 0x02977fff00000000ull;
	hw.exit = 0x01ffffff00036dffull;
	hw.true_exit = 0x01ffffff00036dfbull;
	hw.entry = 0x0003ffff000011ffull;
	hw.true_entry = 0x0003ffff000011fbull;
	hw.misc = 0x600401e0ull;
	hw.ept_vpid = 0xf0106334141ull;
	hw.cr0_fixed0 = 0x80000021ull;
	hw.cr0_fixed1 = 0xffffffffull;
	hw.cr4_fixed0 = 0x2000ull;
	hw.cr4_fixed1 = 0x3727ffull;
	struct nvmx_offer o;
	nvmx_offer_build(&hw, 40, 0x16, &o);
	uint64_t v;
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_BASIC, &v), 0);
	assert_int_equal(v & (1ull << 49), 0);                 /* no dual monitor */
	assert_int_equal(v & 0x7fffffff, 0x2b);
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_TRUE_PINBASED_CTLS, &v), 0);
	assert_int_equal(v >> 32, 0x7f); /* ext-int, NMI, virtual NMIs, the timer, the default-1 bits 1, 2, 4 */
	assert_true(o.caps.exit & ((uint64_t)VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER << 32));
	assert_int_equal(o.caps.misc & 0x1f, 0);                 /* the CPU's timer rate */
	/* without "save VMX-preemption timer value" the timer is not offered */
	hw.exit &= ~((uint64_t)VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER << 32);
	hw.true_exit &= ~((uint64_t)VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER << 32);
	struct nvmx_offer o2;
	nvmx_offer_build(&hw, 40, 0x16, &o2);
	assert_int_equal(o2.caps.pinbased & ((uint64_t)VMX_PIN_PREEMPTION_TIMER << 32), 0);
	assert_int_equal(o2.caps.exit & ((uint64_t)VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER << 32), 0);
	/* TPR shadow and APIC virtualization but x2APIC mode (its ICR is nestbed's) */
	assert_int_equal(o.caps.procbased & ((uint64_t)VMX_PROC_TPR_SHADOW << 32),
			 hw.true_procbased & ((uint64_t)VMX_PROC_TPR_SHADOW << 32));
	assert_int_equal(o.caps.procbased2 & ((uint64_t)VMX_PROC2_VIRTUALIZE_X2APIC << 32), 0);
	assert_true(o.caps.procbased2 & ((uint64_t)VMX_PROC2_VIRTUALIZE_APIC << 32));
	assert_true(o.caps.procbased2 & ((uint64_t)VMX_PROC2_ENABLE_EPT << 32));
	/* VMCS shadowing for L1's guests where the CPU has it (emulated for L2) */
	assert_int_equal(o.caps.procbased2 & ((uint64_t)VMX_PROC2_VMCS_SHADOWING << 32),
			 hw.procbased2 & ((uint64_t)VMX_PROC2_VMCS_SHADOWING << 32));
	assert_int_equal(o.caps.ept_vpid_cap & 1, 0);            /* no execute-only */
	assert_int_equal(o.caps.ept_vpid_cap & VMX_EPT_CAP_ACCESSED_DIRTY, 0);
	assert_true(o.caps.ept_vpid_cap & VMX_EPT_CAP_WALK_4);
	/* VM functions where the CPU has the control (Skylake-X's 0x2177fff has bit 13): the
	 * MSR exists with no function; PAUSE-loop exiting likewise */
	if ((hw.procbased2 >> 32) & VMX_PROC2_ENABLE_VMFUNC) {
		assert_true(o.caps.procbased2 & ((uint64_t)VMX_PROC2_ENABLE_VMFUNC << 32));
		assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_VMFUNC, &v), 0);
		assert_int_equal(v, 0);
	}
	assert_int_equal(o.caps.procbased2 & ((uint64_t)VMX_PROC2_PAUSE_LOOP_EXITING << 32),
			 hw.procbased2 & ((uint64_t)VMX_PROC2_PAUSE_LOOP_EXITING << 32));
	hw.procbased2 &= ~((uint64_t)VMX_PROC2_ENABLE_VMFUNC << 32);
	struct nvmx_offer o3;
	nvmx_offer_build(&hw, 40, 0x16, &o3);
	assert_int_equal(nvmx_offer_read(&o3, MSR_IA32_VMX_VMFUNC, &v), -1);
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_VMCS_ENUM, &v), 0);
	assert_int_equal(v, 0x2c);
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_MISC, &v), 0);
	assert_true(v & (1ull << 29));
	assert_int_equal(v & (1ull << 7), 0);                    /* no shutdown state */
	assert_true(v & (1ull << 8));                            /* wait-for-SIPI (SMP) */
	/* allowed-0 bits stay allowed to be 1 */
	assert_int_equal((uint32_t)o.caps.procbased & ~(uint32_t)(o.caps.procbased >> 32), 0);
	assert_int_equal(o.caps.maxphyaddr, 40);
	assert_int_equal(nvmx_offer_read(&o, 0x479, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_always_exiting),
		cmocka_unit_test(test_exceptions_and_pf_filter),
		cmocka_unit_test(test_cr_access),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_msr),
		cmocka_unit_test(test_offer),
	};
	return cmocka_run_group_tests_name("nvmx_reflect", tests, NULL, NULL);
}
