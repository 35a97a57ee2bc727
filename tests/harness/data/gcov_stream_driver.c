/* Prints the gcov stream (src/core/gcov_stream.c, compiled for the host) of two
 * objects built here, for tests/harness/test_coverage_l0.py to decode. */
#include <stdio.h>

#include "core/gcov_stream.h"

static void out(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	fwrite(line, 1, len, stdout);
}

static void merge_add(gcov_type *c, gcov_unsigned_t n)
{
	(void)c;
	(void)n;
}

static gcov_type a_values[3] = {0, 1, 300};
static gcov_type b_values[200];
static struct gcov_info a, b;
static const struct gcov_fn_info a_fn = {&a, 7, 0xa, 0xb, {{3, a_values}}};
static const struct gcov_fn_info b_fn0 = {&b, 1, 2, 3, {{200, b_values}}};
static const struct gcov_fn_info b_fn1 = {&a, 9, 9, 9, {{0, NULL}}}; /* a's copy */
static const struct gcov_fn_info *const a_fns[] = {&a_fn};
static const struct gcov_fn_info *const b_fns[] = {&b_fn0, &b_fn1};

int main(void)
{
	for (int i = 0; i < 200; i++)
		b_values[i] = (gcov_type)i * i * i * 1000003;
	a = (struct gcov_info){.version = GCOV_VERSION_GCC12, .stamp = 0x11223344,
			       .checksum = 0x55667788, .filename = "/b/a.c.gcda",
			       .n_functions = 1, .functions = a_fns};
	a.merge[GCOV_COUNTER_ARCS] = merge_add;
	b = (struct gcov_info){.version = GCOV_VERSION_GCC12, .stamp = 0x99,
			       .checksum = 0x98, .filename = "/b/sub/b.c.gcda",
			       .n_functions = 2, .functions = b_fns};
	b.merge[GCOV_COUNTER_ARCS] = merge_add;
	const struct gcov_info *const list[] = {&a, &b};
	gcov_stream_write(list, list + 2, out, NULL);
	return 0;
}
