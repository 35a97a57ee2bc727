/* covers: src/core/marks_format.c src/core/trace.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/marks_format.h"

static char out[8192];
static size_t out_len;

static void sink(void *ctx, const char *s, uint64_t len)
{
	(void)ctx;
	assert_true(out_len + len < sizeof(out));
	memcpy(out + out_len, s, len);
	out_len += len;
	out[out_len] = 0;
}

static const char *names(uint64_t code)
{
	switch (code) {
	case 0x72: return "CPUID";
	case 0x80: return "VMRUN";
	case 0x400: return "NPF";
	default: return NULL;
	}
}

static void test_code_slots(void **state)
{
	(void)state;
	assert_int_equal(marks_code_slot(0), 0);
	assert_int_equal(marks_code_slot(0x80), 0x80);
	assert_int_equal(marks_code_slot(0xff), 0xff);
	/* SVM's NPF, AVIC and VMGEXIT range after the low codes */
	assert_int_equal(marks_code_slot(0x400), MARKS_CODES_LOW);
	assert_int_equal(marks_code_slot(0x403), MARKS_CODES_LOW + 3);
	assert_int_equal(marks_code_slot(0x40f), MARKS_CODES_LOW + 15);
	/* anything else shares the last slot: VMEXIT_INVALID (-1), a VM-entry failure's bit
	 * 31, codes between the ranges */
	assert_int_equal(marks_code_slot(0x100), MARKS_CODE_SLOTS - 1);
	assert_int_equal(marks_code_slot(0x410), MARKS_CODE_SLOTS - 1);
	assert_int_equal(marks_code_slot(0xffffffffffffffffull), MARKS_CODE_SLOTS - 1);
	assert_int_equal(marks_code_slot(0x80000021ull), MARKS_CODE_SLOTS - 1);
	for (unsigned slot = 0; slot + 1 < MARKS_CODE_SLOTS; slot++)
		assert_int_equal(marks_code_slot(marks_slot_code(slot)), slot);
}

static void test_json(void **state)
{
	(void)state;
	static struct marks_snapshot s;
	memset(&s, 0, sizeof(s));
	s.cpu = 1;
	s.tag = 0x102;
	s.ticks = 123456789012ull;
	s.guest_ticks = 100;
	s.level[1].total = 3;
	s.level[1].by_kind[EXIT_VM_INSN] = 2;
	s.level[1].by_kind[EXIT_TDP_FAULT] = 1;
	s.level[2].total = 1;
	s.level[2].by_kind[EXIT_CPUID] = 1;
	s.reflected.total = 1;
	s.reflected.by_kind[EXIT_CPUID] = 1;
	s.codes[1][marks_code_slot(0x80)] = 2;
	s.codes[1][marks_code_slot(0x400)] = 1;
	s.codes[2][marks_code_slot(0x72)] = 1;
	s.codes[2][marks_code_slot(0x1f)] = 4;
	s.codes[2][MARKS_CODE_SLOTS - 1] = 5;
	s.code_ticks[1][marks_code_slot(0x80)] = 5000;
	s.code_ticks[2][marks_code_slot(0x72)] = 900;
	s.apic_writes[0xb0 >> 4] = 7;
	out_len = 0;
	marks_format_json(&s, names, sink, NULL);
	assert_string_equal(out,
		"{\"tag\":258,\"cpu\":1,\"ticks\":123456789012,\"guest_ticks\":100,"
		"\"l1\":{\"total\":3,\"tdp_fault\":1,\"vm_insn\":2},"
		"\"l2\":{\"total\":1,\"cpuid\":1},"
		"\"reflected\":{\"total\":1,\"cpuid\":1},"
		"\"l1_codes\":{\"VMRUN\":2,\"NPF\":1},"
		"\"l2_codes\":{\"0x1f\":4,\"CPUID\":1,\"other\":5},"
		"\"l1_code_ticks\":{\"VMRUN\":5000},\"l2_code_ticks\":{\"CPUID\":900},"
		"\"l1_apic_writes\":{\"0xb0\":7}}");
	/* nothing counted: empty objects, still valid JSON */
	memset(&s, 0, sizeof(s));
	out_len = 0;
	marks_format_json(&s, NULL, sink, NULL);
	assert_string_equal(out,
		"{\"tag\":0,\"cpu\":0,\"ticks\":0,\"guest_ticks\":0,\"l1\":{\"total\":0},"
		"\"l2\":{\"total\":0},\"reflected\":{\"total\":0},\"l1_codes\":{},\"l2_codes\":{},"
		"\"l1_code_ticks\":{},\"l2_code_ticks\":{},\"l1_apic_writes\":{}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_slots),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
