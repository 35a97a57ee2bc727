/* covers: src/core/trace.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/trace.h"

static char out[8192];
static size_t used;

static void collect(void *ctx, const char *s, uint64_t len)
{
	(void)ctx;
	memcpy(out + used, s, len);
	used += len;
	out[used] = 0;
}

static void test_counters_and_json(void **state)
{
	(void)state;
	static struct trace t;
	memset(&t, 0, sizeof(t));
	struct exit e = { .kind = EXIT_CPUID, .native_code = 0x72 };
	for (int i = 0; i < 3; i++)
		trace_exit(&t, 1, &e, 0x1000 + i, i);
	e.kind = EXIT_IO;
	e.native_code = 0x7b;
	e.info1 = 0xf40010;
	trace_exit(&t, 1, &e, 0x2000, 9);
	trace_exit(&t, 2, &e, 0x3000, 10);
	assert_int_equal(t.level[1].total, 4);
	assert_int_equal(t.level[1].by_kind[EXIT_CPUID], 3);
	assert_int_equal(t.level[2].by_kind[EXIT_IO], 1);
	used = 0;
	trace_format_json(&t, "svm", "vt-d", collect, NULL);
	assert_non_null(strstr(out, "{\"vendor\":\"svm\",\"exits\":5,\"l1\":{\"total\":4,\"cpuid\":3,\"io\":1},\"l2\":{\"total\":1,\"io\":1},\"reflected\":{\"total\":0}"));
	assert_non_null(strstr(out, "\"iommu\":\"vt-d\",\"recent\":["));
	assert_non_null(strstr(out, "{\"l\":2,\"kind\":\"io\",\"code\":\"0x7b\",\"rip\":\"0x3000\",\"info1\":\"0xf40010\",\"info2\":\"0x0\"}]}"));
}

/* One 16-bit store for level and kind, two 32-bit halves for the TSC: each field reads
 * back whole. */
static void test_record_packed_fields(void **state)
{
	(void)state;
	static struct trace t;
	memset(&t, 0, sizeof(t));
	struct exit e = { .kind = EXIT_MSR_WRITE, .native_code = 0x7c, .info1 = 1, .info2 = 2 };
	trace_exit(&t, 2, &e, 0x5000, 0x123456789abcdef0ull);
	const struct trace_record *r = &t.ring[0];
	assert_int_equal(r->level, 2);
	assert_int_equal(r->kind, EXIT_MSR_WRITE);
	assert_true(r->tsc == 0x123456789abcdef0ull);
	assert_int_equal(r->rip, 0x5000);
	assert_int_equal(r->info2, 2);
	e.kind = EXIT_KIND_COUNT + 3; /* out of range: counted and recorded as unknown */
	trace_exit(&t, 7, &e, 0x6000, 1);
	r = &t.ring[1];
	assert_int_equal(r->level, TRACE_LEVELS - 1);
	assert_int_equal(r->kind, EXIT_UNKNOWN);
	assert_int_equal(t.level[TRACE_LEVELS - 1].by_kind[EXIT_UNKNOWN], 1);
}

static void test_ring_keeps_the_newest(void **state)
{
	(void)state;
	static struct trace t;
	memset(&t, 0, sizeof(t));
	struct exit e = { .kind = EXIT_HLT, .native_code = 0x78 };
	for (uint64_t i = 0; i < TRACE_RING_SIZE + 5; i++)
		trace_exit(&t, 1, &e, i, i);
	assert_int_equal(t.next, TRACE_RING_SIZE + 5);
	assert_int_equal(t.ring[(t.next - 1) % TRACE_RING_SIZE].rip, TRACE_RING_SIZE + 4);
	used = 0;
	trace_format_json(&t, "vmx", "none", collect, NULL);
	/* only the last 8 are printed */
	assert_null(strstr(out, "\"rip\":\"0x3c\""));
	assert_non_null(strstr(out, "\"rip\":\"0x44\""));
}

static void test_line_is_kvm_exit(void **state)
{
	(void)state;
	char line[256];
	struct exit e = { .kind = EXIT_CPUID, .native_code = 0x72 };
	int n = trace_format_line(line, sizeof(line), 0, 1, TRACE_EVENT_EXIT, &e, 0x100a2c, "CPUID");
	assert_string_equal(line, "nestbed-trace cpu0 l1 cpuid kvm_exit: vcpu 0 reason CPUID code 0x72 "
			    "rip 0x100a2c info1 0x0000000000000000 info2 0x0000000000000000 "
			    "intr_info 0x00000000 error_code 0x00000000");
	assert_int_equal(n, (int)strlen(line));
}

static void test_line_of_an_l2_exit_and_its_reflection(void **state)
{
	(void)state;
	char line[256];
	struct exit e = { .kind = EXIT_TDP_FAULT, .native_code = 48, .info1 = 0x181,
			  .info2 = 0xfee00000, .intr_info = 0x80000b0e, .error_code = 2 };
	trace_format_line(line, sizeof(line), 1, 2, TRACE_EVENT_NESTED_VMEXIT, &e, 0xffffffff81000000ull,
			  "EPT_VIOLATION");
	assert_string_equal(line, "nestbed-trace cpu1 l2 tdp_fault kvm_nested_vmexit: vcpu 1 reason "
			    "EPT_VIOLATION code 0x30 rip 0xffffffff81000000 info1 0x0000000000000181 "
			    "info2 0x00000000fee00000 intr_info 0x80000b0e error_code 0x00000002");
	trace_format_line(line, sizeof(line), 1, 2, TRACE_EVENT_NESTED_INJECT, &e, 0x1234, "EPT_VIOLATION");
	assert_string_equal(line, "nestbed-trace cpu1 l2 tdp_fault kvm_nested_vmexit_inject: vcpu 1 reason "
			    "EPT_VIOLATION code 0x30 info1 0x0000000000000181 "
			    "info2 0x00000000fee00000 intr_info 0x80000b0e error_code 0x00000002");
}

static void test_line_without_a_name_and_truncated(void **state)
{
	(void)state;
	char line[256];
	struct exit e = { .kind = EXIT_OTHER, .native_code = 0x9999 };
	trace_format_line(line, sizeof(line), 0, 1, TRACE_EVENT_EXIT, &e, 0, NULL);
	assert_non_null(strstr(line, " other kvm_exit: vcpu 0 reason UNKNOWN code 0x9999 rip 0x0 "));
	char small[16];
	int n = trace_format_line(small, sizeof(small), 0, 1, TRACE_EVENT_EXIT, &e, 0, NULL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_true(n > (int)sizeof(small));
}

static void test_parse_kinds(void **state)
{
	(void)state;
	uint32_t mask = 0;
	char err[200];
	assert_int_equal(trace_parse_kinds("all", 3, &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, TRACE_ALL_KINDS);
	/* every neutral name parses to its own bit */
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++) {
		const char *name = exit_kind_name((enum exit_kind)k);
		assert_int_equal(trace_parse_kinds(name, strlen(name), &mask, err, sizeof(err)), 0);
		assert_int_equal(mask, 1u << k);
	}
	/* only len characters count */
	assert_int_equal(trace_parse_kinds("io,hlt junk", 6, &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, (1u << EXIT_IO) | (1u << EXIT_HLT));
	assert_int_equal(trace_parse_kinds("io,,hlt", 7, &mask, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'' is not an exit kind"));
	assert_int_equal(trace_parse_kinds("cpuidx", 6, &mask, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'cpuidx' is not an exit kind"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_json),
		cmocka_unit_test(test_record_packed_fields),
		cmocka_unit_test(test_ring_keeps_the_newest),
		cmocka_unit_test(test_line_is_kvm_exit),
		cmocka_unit_test(test_line_of_an_l2_exit_and_its_reflection),
		cmocka_unit_test(test_line_without_a_name_and_truncated),
		cmocka_unit_test(test_parse_kinds),
	};
	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
