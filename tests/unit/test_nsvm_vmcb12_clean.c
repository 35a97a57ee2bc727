/* covers: src/nested/svm/vmcb12_clean.c src/core/string.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nested/svm/vmcb12_clean.h"

static struct vmcb cached, l1, v02;

/* nestbed's copy holds "old" values, L1's page "new" ones in every field, VMCB02 L2's
 * state as the last #VMEXIT left it */
static void setup_pages(void)
{
	__builtin_memset(&cached, 0x11, sizeof(cached));
	__builtin_memset(&l1, 0x22, sizeof(l1));
	__builtin_memset(&v02, 0x33, sizeof(v02));
}

static void load(uint32_t clean)
{
	l1.control.clean_bits = clean; /* as L1 wrote it; read once by the caller */
	vmcb12_clean_load(&cached, &v02.save, &l1, clean, clean);
}

/* first VMRUN or another VMCB12 (keep 0): every field VMRUN loads is L1's */
static void test_full_copy(void **state)
{
	(void)state;
	setup_pages();
	load(0);
	assert_memory_equal(&cached.control, &l1.control, VMCB12_CONTROL_BYTES);
	assert_int_equal(cached.save.cs.base, l1.save.cs.base);
	assert_int_equal(cached.save.cr3, l1.save.cr3);
	assert_int_equal(cached.save.g_pat, l1.save.g_pat);
	assert_int_equal(cached.save.last_excp_to, l1.save.last_excp_to);
	assert_int_equal(cached.save.rip, l1.save.rip);
	assert_int_equal(cached.save.cpl, l1.save.cpl);
	assert_int_equal(cached.control.clean_bits, 0);
	/* VMCB02 gets the same values, read once */
	assert_int_equal(v02.save.cs.base, l1.save.cs.base);
	assert_int_equal(v02.save.es.attrib, l1.save.es.attrib);
	assert_int_equal(v02.save.idtr.limit, l1.save.idtr.limit);
	assert_int_equal(v02.save.cr3, l1.save.cr3);
	assert_int_equal(v02.save.cr2, l1.save.cr2);
	assert_int_equal(v02.save.dr6, l1.save.dr6);
	assert_int_equal(v02.save.g_pat, l1.save.g_pat);
	assert_int_equal(v02.save.br_to, l1.save.br_to);
	assert_int_equal(v02.save.rax, l1.save.rax);
	assert_int_equal(v02.save.cpl, l1.save.cpl);
	/* VMCB02's control area is not this function's */
	assert_int_equal(v02.control.intercept_cr, 0x33333333u);
}

/* a clean group L1 marks is VMCB02's as L2 left it: not written */
static void test_vmcb02_keeps_clean_groups(void **state)
{
	(void)state;
	setup_pages();
	load(VMCB12_CLEAN_HONOURED & ~VMCB_CLEAN_CR2);
	assert_int_equal(v02.save.cr2, 0x2222222222222222ull);
	assert_int_equal(v02.save.cr0, 0x3333333333333333ull);
	assert_int_equal(v02.save.cs.base, 0x3333333333333333ull);
	assert_int_equal(v02.save.gdtr.base, 0x3333333333333333ull);
	assert_int_equal(v02.save.g_pat, 0x3333333333333333ull);
	assert_int_equal(v02.save.dbgctl, 0x3333333333333333ull);
	assert_int_equal(v02.save.dr7, 0x3333333333333333ull);
	/* no clean bit: always L1's */
	assert_int_equal(v02.save.rip, 0x2222222222222222ull);
	assert_int_equal(v02.save.rflags, 0x2222222222222222ull);
	assert_int_equal(v02.save.rsp, 0x2222222222222222ull);
	assert_int_equal(v02.save.rax, 0x2222222222222222ull);
	/* the state VMLOAD loads is VMCB02's (build_vmcb02 copies it from VMCB01) */
	assert_int_equal(v02.save.fs.base, 0x3333333333333333ull);
	assert_int_equal(v02.save.star, 0x3333333333333333ull);
}

/* every honoured bit set: the groups keep nestbed's values, the rest are L1's */
static void test_all_clean(void **state)
{
	(void)state;
	setup_pages();
	load(0xffffffffu);
	assert_int_equal(cached.control.intercept_misc1, 0x11111111u);
	assert_int_equal(cached.control.tsc_offset, 0x1111111111111111ull);
	assert_int_equal(cached.control.pause_filter_count, 0x1111);
	assert_int_equal(cached.control.iopm_base_pa, 0x1111111111111111ull);
	assert_int_equal(cached.control.msrpm_base_pa, 0x1111111111111111ull);
	assert_int_equal(cached.control.guest_asid, 0x11111111u);
	assert_int_equal(cached.control.n_cr3, 0x1111111111111111ull);
	assert_int_equal(cached.save.cr0, 0x1111111111111111ull);
	assert_int_equal(cached.save.efer, 0x1111111111111111ull);
	assert_int_equal(cached.save.dr7, 0x1111111111111111ull);
	assert_int_equal(cached.save.gdtr.base, 0x1111111111111111ull);
	assert_int_equal(cached.save.ss.attrib, 0x1111);
	assert_int_equal(cached.save.cpl, 0x11);
	assert_int_equal(cached.save.cr2, 0x1111111111111111ull);
	assert_int_equal(cached.save.g_pat, 0x1111111111111111ull);
	assert_int_equal(cached.save.dbgctl, 0x1111111111111111ull);
	/* no clean bit (APM table 15-9), or TPR, which nestbed always reads */
	assert_int_equal(cached.control.tlb_control, 0x22);
	assert_int_equal(cached.control.vintr, 0x2222222222222222ull);
	assert_int_equal(cached.control.interrupt_shadow, 0x2222222222222222ull);
	assert_int_equal(cached.control.np_control, 0x2222222222222222ull);
	assert_int_equal(cached.control.eventinj, 0x2222222222222222ull);
	assert_int_equal(cached.control.next_rip, 0x2222222222222222ull);
	assert_int_equal(cached.control.clean_bits, 0xffffffffu); /* the value read once */
	assert_int_equal(cached.save.rflags, 0x2222222222222222ull);
	assert_int_equal(cached.save.rip, 0x2222222222222222ull);
	assert_int_equal(cached.save.rsp, 0x2222222222222222ull);
	assert_int_equal(cached.save.rax, 0x2222222222222222ull);
	/* VMCB02: the same four from L1's page, every group as it was */
	assert_int_equal(v02.save.rip, 0x2222222222222222ull);
	assert_int_equal(v02.save.rax, 0x2222222222222222ull);
	assert_int_equal(v02.save.cr0, 0x3333333333333333ull);
	assert_int_equal(v02.save.es.base, 0x3333333333333333ull);
	assert_int_equal(v02.save.g_pat, 0x3333333333333333ull);
}

/* one group dirty: only it is read */
static void test_one_dirty(void **state)
{
	(void)state;
	setup_pages();
	load(VMCB12_CLEAN_HONOURED & ~VMCB_CLEAN_IOPM);
	assert_int_equal(cached.control.iopm_base_pa, 0x2222222222222222ull);
	assert_int_equal(cached.control.msrpm_base_pa, 0x2222222222222222ull);
	assert_int_equal(cached.control.intercept_misc1, 0x11111111u);
	assert_int_equal(cached.save.cr3, 0x1111111111111111ull);

	setup_pages();
	load(VMCB12_CLEAN_HONOURED & ~VMCB_CLEAN_SEG);
	assert_int_equal(cached.save.cs.selector, 0x2222);
	assert_int_equal(cached.save.es.base, 0x2222222222222222ull);
	assert_int_equal(cached.save.cpl, 0x22);
	assert_int_equal(cached.save.idtr.base, 0x1111111111111111ull);
	assert_int_equal(cached.control.tsc_offset, 0x1111111111111111ull);

	setup_pages();
	load(VMCB12_CLEAN_HONOURED & ~VMCB_CLEAN_I);
	assert_int_equal(cached.control.intercept_cr, 0x22222222u);
	assert_int_equal(cached.control.tsc_offset, 0x2222222222222222ull);
	assert_int_equal(cached.control.pause_filter_threshold, 0x2222);
	assert_int_equal(cached.control.guest_asid, 0x11111111u);
}

/* the state VMLOAD loads is not VMRUN's: never read */
static void test_vmload_state_not_read(void **state)
{
	(void)state;
	setup_pages();
	load(0);
	assert_int_equal(cached.save.fs.base, 0x1111111111111111ull);
	assert_int_equal(cached.save.tr.base, 0x1111111111111111ull);
	assert_int_equal(cached.save.star, 0x1111111111111111ull);
	assert_int_equal(cached.save.kernel_gs_base, 0x1111111111111111ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_copy),
		cmocka_unit_test(test_all_clean),
		cmocka_unit_test(test_one_dirty),
		cmocka_unit_test(test_vmload_state_not_read),
		cmocka_unit_test(test_vmcb02_keeps_clean_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
