#include "format.h"

#include <stdbool.h>
#include <stdint.h>

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int precision; /* -1: none */
	int length;    /* 'H' hh, 'h', 'l', 'L' ll/j, 'z', 't' */
};

static int emit_padding(format_out_fn out, void *ctx, char c, int n)
{
	char pad[16];
	int done = 0;
	for (int i = 0; i < (int)sizeof(pad); i++)
		pad[i] = c;
	while (n > 0) {
		int chunk = n > (int)sizeof(pad) ? (int)sizeof(pad) : n;
		out(ctx, pad, (size_t)chunk);
		n -= chunk;
		done += chunk;
	}
	return done;
}

static int emit_field(format_out_fn out, void *ctx, const struct spec *sp,
		      const char *prefix, const char *body, int body_len)
{
	int prefix_len = 0;
	while (prefix[prefix_len])
		prefix_len++;
	int zeros = 0;
	if (sp->precision > body_len)
		zeros = sp->precision - body_len;
	int total = prefix_len + zeros + body_len;
	int pad = sp->width > total ? sp->width - total : 0;
	int n = 0;
	if (!sp->left && !(sp->zero && sp->precision < 0))
		n += emit_padding(out, ctx, ' ', pad);
	if (prefix_len)
		out(ctx, prefix, (size_t)prefix_len);
	n += prefix_len;
	if (!sp->left && sp->zero && sp->precision < 0)
		n += emit_padding(out, ctx, '0', pad);
	n += emit_padding(out, ctx, '0', zeros);
	if (body_len)
		out(ctx, body, (size_t)body_len);
	n += body_len;
	if (sp->left)
		n += emit_padding(out, ctx, ' ', pad);
	return n;
}

static int format_unsigned(format_out_fn out, void *ctx, const struct spec *sp,
			   uint64_t v, unsigned base, bool upper, const char *sign)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int len = 0;
	char rev[24];
	if (v == 0 && sp->precision == 0)
		len = 0;
	else {
		do {
			rev[len++] = digits[v % base];
			v /= base;
		} while (v);
	}
	for (int i = 0; i < len; i++)
		buf[i] = rev[len - 1 - i];
	char prefix[4] = { 0 };
	int p = 0;
	for (; *sign; sign++)
		prefix[p++] = *sign;
	if (sp->alt && base == 16 && len) {
		prefix[p++] = '0';
		prefix[p++] = upper ? 'X' : 'x';
	} else if (sp->alt && base == 8 && (len == 0 || buf[0] != '0')) {
		prefix[p++] = '0';
	}
	prefix[p] = 0;
	return emit_field(out, ctx, sp, prefix, buf, len);
}

static uint64_t take_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 't': return (uint64_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t take_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (int64_t)va_arg(*ap, size_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

int format_v(format_out_fn out, void *ctx, const char *fmt, va_list ap_in)
{
	va_list ap;
	va_copy(ap, ap_in);
	int n = 0;
	while (*fmt) {
		const char *lit = fmt;
		while (*fmt && *fmt != '%')
			fmt++;
		if (fmt != lit) {
			out(ctx, lit, (size_t)(fmt - lit));
			n += (int)(fmt - lit);
		}
		if (!*fmt)
			break;
		const char *conv_start = fmt++;
		struct spec sp = { .precision = -1 };
		for (;; fmt++) {
			if (*fmt == '-') sp.left = true;
			else if (*fmt == '0') sp.zero = true;
			else if (*fmt == '+') sp.plus = true;
			else if (*fmt == ' ') sp.space = true;
			else if (*fmt == '#') sp.alt = true;
			else break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.precision = 0;
			if (*fmt == '*') {
				sp.precision = va_arg(ap, int);
				if (sp.precision < 0)
					sp.precision = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					sp.precision = sp.precision * 10 + (*fmt++ - '0');
			}
		}
		if (fmt[0] == 'h' && fmt[1] == 'h') { sp.length = 'H'; fmt += 2; }
		else if (fmt[0] == 'l' && fmt[1] == 'l') { sp.length = 'L'; fmt += 2; }
		else if (*fmt == 'h' || *fmt == 'l' || *fmt == 'z' || *fmt == 't') sp.length = *fmt++;
		else if (*fmt == 'j') { sp.length = 'L'; fmt++; }

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = take_signed(&sp, &ap);
			const char *sign = v < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			n += format_unsigned(out, ctx, &sp, mag, 10, false, sign);
			break;
		}
		case 'u': n += format_unsigned(out, ctx, &sp, take_unsigned(&sp, &ap), 10, false, ""); break;
		case 'x': n += format_unsigned(out, ctx, &sp, take_unsigned(&sp, &ap), 16, false, ""); break;
		case 'X': n += format_unsigned(out, ctx, &sp, take_unsigned(&sp, &ap), 16, true, ""); break;
		case 'o': n += format_unsigned(out, ctx, &sp, take_unsigned(&sp, &ap), 8, false, ""); break;
		case 'p': {
			struct spec ps = sp;
			ps.alt = true;
			n += format_unsigned(out, ctx, &ps, (uintptr_t)va_arg(ap, void *), 16, false, "");
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			struct spec cs = sp;
			cs.precision = -1;
			cs.zero = false;
			n += emit_field(out, ctx, &cs, "", &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = 0;
			while (s[len] && (sp.precision < 0 || len < sp.precision))
				len++;
			struct spec ss = sp;
			ss.precision = -1;
			ss.zero = false;
			n += emit_field(out, ctx, &ss, "", s, len);
			break;
		}
		case '%':
			out(ctx, "%", 1);
			n++;
			break;
		default: {
			/* Unknown conversion: print it as written so the mistake is visible. */
			int len = (int)(fmt - conv_start) + (*fmt ? 1 : 0);
			out(ctx, conv_start, (size_t)len);
			n += len;
			if (!*fmt) {
				va_end(ap);
				return n;
			}
			break;
		}
		}
		fmt++;
	}
	va_end(ap);
	return n;
}

struct buf_ctx {
	char *buf;
	size_t size;
	size_t used;
};

static void buf_out(void *ctx, const char *s, size_t len)
{
	struct buf_ctx *b = ctx;
	for (size_t i = 0; i < len; i++, b->used++)
		if (b->size && b->used < b->size - 1)
			b->buf[b->used] = s[i];
}

int format_buf_v(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = format_v(buf_out, &b, fmt, ap);
	if (size)
		buf[b.used < size - 1 ? b.used : size - 1] = 0;
	return n;
}

int format_buf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = format_buf_v(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
