#include "core/gcov_stream.h"

#define CRC32_POLY 0xEDB88320u /* reflected IEEE 802.3 polynomial, as zlib's crc32 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex[] = "0123456789abcdef";

uint32_t gcov_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (CRC32_POLY & (0u - (crc & 1)));
	}
	return ~crc;
}

size_t gcov_base64(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	return o;
}

static size_t put_str(char *buf, size_t at, const char *s)
{
	while (*s)
		buf[at++] = *s++;
	return at;
}

static size_t put_dec(char *buf, size_t at, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[at++] = tmp[--n];
	return at;
}

static size_t put_hex32(char *buf, size_t at, uint32_t v)
{
	for (int s = 28; s >= 0; s -= 4)
		buf[at++] = hex[(v >> s) & 0xf];
	return at;
}

static void flush_chunk(struct gcov_framer *f)
{
	char line[GCOV_STREAM_LINE_MAX];
	size_t at;
	if (!f->used)
		return;
	at = put_str(line, 0, "nestbed-gcov ");
	at = put_dec(line, at, f->lines);
	line[at++] = ' ';
	at += gcov_base64(f->chunk, f->used, line + at);
	line[at++] = ' ';
	at = put_hex32(line, at, gcov_crc32(0, f->chunk, f->used));
	line[at++] = '\n';
	f->out(f->ctx, line, at);
	f->lines++;
	f->used = 0;
}

void gcov_framer_begin(struct gcov_framer *f, gcov_line_fn out, void *ctx)
{
	char line[GCOV_STREAM_LINE_MAX];
	size_t at;
	f->out = out;
	f->ctx = ctx;
	f->used = 0;
	f->lines = 0;
	f->bytes = 0;
	f->crc = 0;
	at = put_str(line, 0, "nestbed-gcov-begin ");
	at = put_dec(line, at, GCOV_STREAM_FORMAT);
	line[at++] = '\n';
	out(ctx, line, at);
}

void gcov_framer_put(struct gcov_framer *f, const void *data, size_t n)
{
	const uint8_t *p = data;
	f->crc = gcov_crc32(f->crc, p, n);
	f->bytes += n;
	while (n) {
		size_t take = GCOV_STREAM_CHUNK - f->used;
		if (take > n)
			take = n;
		for (size_t i = 0; i < take; i++)
			f->chunk[f->used + i] = p[i];
		f->used += take;
		p += take;
		n -= take;
		if (f->used == GCOV_STREAM_CHUNK)
			flush_chunk(f);
	}
}

void gcov_framer_end(struct gcov_framer *f)
{
	char line[GCOV_STREAM_LINE_MAX];
	size_t at;
	flush_chunk(f);
	at = put_str(line, 0, "nestbed-gcov-end ");
	at = put_dec(line, at, f->lines);
	line[at++] = ' ';
	at = put_dec(line, at, f->bytes);
	line[at++] = ' ';
	at = put_hex32(line, at, f->crc);
	line[at++] = '\n';
	f->out(f->ctx, line, at);
}

static void put_u32(struct gcov_framer *f, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	gcov_framer_put(f, b, sizeof(b));
}

static void put_varint(struct gcov_framer *f, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;
	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	gcov_framer_put(f, b, n);
}

static uint32_t kind_mask(const struct gcov_info *gi)
{
	uint32_t mask = 0;
	for (unsigned k = 0; k < GCOV_COUNTERS; k++)
		if (gi->merge[k])
			mask |= 1u << k;
	return mask;
}

static void put_object(struct gcov_framer *f, const struct gcov_info *gi)
{
	uint32_t mask = kind_mask(gi);
	size_t len = 0;
	uint8_t lenb[2];
	while (gi->filename[len] && len < 0xffff)
		len++;
	put_u32(f, gi->version);
	put_u32(f, gi->stamp);
	put_u32(f, gi->checksum);
	put_u32(f, mask);
	put_u32(f, gi->n_functions);
	lenb[0] = (uint8_t)len;
	lenb[1] = (uint8_t)(len >> 8);
	gcov_framer_put(f, lenb, 2);
	gcov_framer_put(f, gi->filename, len);
	for (uint32_t i = 0; i < gi->n_functions; i++) {
		const struct gcov_fn_info *fn = gi->functions[i];
		uint8_t present = fn && fn->key == gi;
		gcov_framer_put(f, &present, 1);
		if (!present)
			continue;
		put_u32(f, fn->ident);
		put_u32(f, fn->lineno_checksum);
		put_u32(f, fn->cfg_checksum);
		const struct gcov_ctr_info *c = fn->ctrs;
		for (unsigned k = 0; k < GCOV_COUNTERS; k++) {
			if (!(mask & (1u << k)))
				continue;
			put_u32(f, c->num);
			for (uint32_t j = 0; j < c->num; j++)
				put_varint(f, (uint64_t)c->values[j]);
			c++;
		}
	}
}

void gcov_stream_write(const struct gcov_info *const *begin,
		       const struct gcov_info *const *end, gcov_line_fn out, void *ctx)
{
	struct gcov_framer f;
	for (const struct gcov_info *const *p = begin; p < end; p++) {
		if (!*p)
			continue;
		gcov_framer_begin(&f, out, ctx);
		put_u32(&f, 1);
		put_object(&f, *p);
		gcov_framer_end(&f);
	}
}
