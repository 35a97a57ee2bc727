/* nestbed's gcov counters as console lines (coverage build only; README "nestbed's own
 * coverage"): a byte stream of every object's counters, cut into framed lines
 *     nestbed-gcov-begin 1
 *     nestbed-gcov <seq> <base64 of up to 96 bytes> <crc32, 8 hex digits>
 *     nestbed-gcov-end <lines> <bytes> <crc32 of all bytes>
 * that harness/coverage_l0.py checks and turns into .gcda files. Pure: host-tested. */
#ifndef NESTBED_GCOV_STREAM_H
#define NESTBED_GCOV_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/gcov_abi.h"

#define GCOV_STREAM_FORMAT 1
#define GCOV_STREAM_CHUNK 96     /* raw bytes per line: 128 base64 characters */
#define GCOV_STREAM_LINE_MAX 192 /* the longest line, "\n" included */

/* Receives each complete line, "\n" included. */
typedef void (*gcov_line_fn)(void *ctx, const char *line, size_t len);

struct gcov_framer {
	gcov_line_fn out;
	void *ctx;
	uint8_t chunk[GCOV_STREAM_CHUNK];
	size_t used;
	uint32_t lines;     /* data lines written */
	uint64_t bytes;     /* stream bytes so far */
	uint32_t crc;       /* CRC-32 of the whole stream so far */
};

uint32_t gcov_crc32(uint32_t crc, const uint8_t *p, size_t n); /* zlib's CRC-32 */
/* base64 (RFC 4648) of n bytes into out (4 * ceil(n / 3) characters, no NUL). */
size_t gcov_base64(const uint8_t *in, size_t n, char *out);

void gcov_framer_begin(struct gcov_framer *f, gcov_line_fn out, void *ctx);
void gcov_framer_put(struct gcov_framer *f, const void *data, size_t n);
void gcov_framer_end(struct gcov_framer *f);

/* The objects [begin, end), each a stream of its own (begin to end line), so that a
 * line another CPU's output garbles costs one object, not the run: u32 object count
 * (1), then u32 version, stamp, checksum, counter-kind mask (bit k: merge[k] set),
 * n_functions, u16 length and the .gcda path; per function a u8 (1 present, 0 not this
 * object's copy), and when present u32 ident, lineno_checksum, cfg_checksum and per
 * kind in the mask u32 n and n LEB128 counters. All little-endian. NULL entries are
 * skipped. */
void gcov_stream_write(const struct gcov_info *const *begin,
		       const struct gcov_info *const *end, gcov_line_fn out, void *ctx);

#endif
