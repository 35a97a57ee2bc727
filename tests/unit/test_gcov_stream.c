/* covers: src/core/gcov_stream.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <string.h>

#include "core/gcov_stream.h"

/* The lines a stream produced, one after the other. */
struct capture {
	char text[8192];
	size_t used;
	int lines;
};

static void capture_line(void *ctx, const char *line, size_t len)
{
	struct capture *c = ctx;
	assert_true(c->used + len < sizeof(c->text));
	assert_true(len > 0 && line[len - 1] == '\n');
	assert_true(len <= GCOV_STREAM_LINE_MAX);
	memcpy(c->text + c->used, line, len);
	c->used += len;
	c->text[c->used] = 0;
	c->lines++;
}

static void test_crc32(void **state)
{
	(void)state;
	/* the CRC-32 check value (zlib crc32, ISO-HDLC) */
	assert_int_equal(gcov_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
	assert_int_equal(gcov_crc32(0, NULL, 0), 0);
	/* incremental == whole */
	uint32_t part = gcov_crc32(0, (const uint8_t *)"1234", 4);
	assert_int_equal(gcov_crc32(part, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

static void check_b64(const char *in, const char *want)
{
	char out[64];
	size_t n = gcov_base64((const uint8_t *)in, strlen(in), out);
	out[n] = 0;
	assert_string_equal(out, want);
}

static void test_base64(void **state)
{
	(void)state;
	/* RFC 4648 section 10 */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	uint8_t hi[3] = {0xff, 0xfe, 0xfd};
	char out[8];
	assert_int_equal(gcov_base64(hi, 3, out), 4);
	assert_memory_equal(out, "//79", 4);
}

static void data_line(char *buf, size_t size, unsigned seq, const uint8_t *b, size_t n)
{
	char b64[160];
	size_t m = gcov_base64(b, n, b64);
	b64[m] = 0;
	snprintf(buf, size, "nestbed-gcov %u %s %08x\n", seq, b64, gcov_crc32(0, b, n));
}

static void test_framer_splits_lines(void **state)
{
	(void)state;
	struct capture c = {0};
	struct gcov_framer f;
	uint8_t data[200];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	gcov_framer_begin(&f, capture_line, &c);
	gcov_framer_put(&f, data, 50);
	gcov_framer_put(&f, data + 50, 150);
	gcov_framer_end(&f);

	char want[2048], line[256];
	snprintf(want, sizeof(want), "nestbed-gcov-begin 1\n");
	data_line(line, sizeof(line), 0, data, 96);
	strcat(want, line);
	data_line(line, sizeof(line), 1, data + 96, 96);
	strcat(want, line);
	data_line(line, sizeof(line), 2, data + 192, 8);
	strcat(want, line);
	snprintf(line, sizeof(line), "nestbed-gcov-end 3 200 %08x\n", gcov_crc32(0, data, 200));
	strcat(want, line);
	assert_string_equal(c.text, want);
	assert_int_equal(c.lines, 5);
}

static void test_framer_empty(void **state)
{
	(void)state;
	struct capture c = {0};
	struct gcov_framer f;
	gcov_framer_begin(&f, capture_line, &c);
	gcov_framer_end(&f);
	assert_string_equal(c.text, "nestbed-gcov-begin 1\nnestbed-gcov-end 0 0 00000000\n");
}

static void merge_add(gcov_type *counters, gcov_unsigned_t n)
{
	(void)counters;
	(void)n;
}

/* One object with a function of three arc counters and a function that is another
 * object's COMDAT copy: the exact bytes of gcov_stream.h's format. */
static void test_stream_bytes(void **state)
{
	(void)state;
	static gcov_type values[3] = {0, 1, 300};
	static struct gcov_info info;
	static struct gcov_info other;
	static struct gcov_fn_info fn0 = {&info, 7, 0xa, 0xb, {{3, values}}};
	static struct gcov_fn_info fn1 = {&other, 8, 0xc, 0xd, {{0, NULL}}};
	static const struct gcov_fn_info *const fns[2] = {&fn0, &fn1};
	info.version = GCOV_VERSION_GCC12;
	info.stamp = 0x11223344;
	info.checksum = 0x55667788;
	info.filename = "/b/x.c.gcda";
	info.merge[GCOV_COUNTER_ARCS] = merge_add;
	info.n_functions = 2;
	info.functions = fns;
	const struct gcov_info *const list[3] = {&info, NULL, NULL};

	struct capture c = {0};
	gcov_stream_write(list, list + 3, capture_line, &c);

	static const uint8_t want[] = {
		1, 0, 0, 0,                                 /* objects */
		0x2a, 0x32, 0x32, 0x42,                     /* version "B22*" */
		0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55,
		1, 0, 0, 0,                                 /* kinds: arcs */
		2, 0, 0, 0,                                 /* functions */
		11, 0, '/', 'b', '/', 'x', '.', 'c', '.', 'g', 'c', 'd', 'a',
		1, 7, 0, 0, 0, 0xa, 0, 0, 0, 0xb, 0, 0, 0,  /* present, ident, checksums */
		3, 0, 0, 0, 0x00, 0x01, 0xac, 0x02,         /* 3 counters: 0, 1, 300 */
		0,                                          /* not this object's copy */
	};
	char expect[1024], line[256];
	snprintf(expect, sizeof(expect), "nestbed-gcov-begin 1\n");
	data_line(line, sizeof(line), 0, want, sizeof(want));
	strcat(expect, line);
	snprintf(line, sizeof(line), "nestbed-gcov-end 1 %zu %08x\n", sizeof(want),
		 gcov_crc32(0, want, sizeof(want)));
	strcat(expect, line);
	assert_string_equal(c.text, expect);
}

/* Each object is a stream of its own: a garbled line costs one object. */
static void test_stream_frame_per_object(void **state)
{
	(void)state;
	static gcov_type v[1] = {5};
	static struct gcov_info a, b;
	static struct gcov_fn_info fa = {&a, 1, 2, 3, {{1, v}}};
	static const struct gcov_fn_info *const fns[1] = {&fa};
	a.filename = "a.gcda";
	a.merge[GCOV_COUNTER_ARCS] = merge_add;
	a.n_functions = 1;
	a.functions = fns;
	b.filename = "b.gcda";
	const struct gcov_info *const list[2] = {&a, &b};
	struct capture c = {0};
	gcov_stream_write(list, list + 2, capture_line, &c);
	assert_int_equal(c.lines, 6);
	const char *first = strstr(c.text, "nestbed-gcov-begin 1\n");
	assert_non_null(first);
	assert_non_null(strstr(first + 1, "nestbed-gcov-begin 1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_framer_splits_lines),
		cmocka_unit_test(test_framer_empty),
		cmocka_unit_test(test_stream_bytes),
		cmocka_unit_test(test_stream_frame_per_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
