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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_json),
		cmocka_unit_test(test_ring_keeps_the_newest),
	};
	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
