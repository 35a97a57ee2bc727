/* printf-style formatting into a callback: pure, compiled for nestbed, the guests
 * and the host unit tests. */
#ifndef NESTBED_FORMAT_H
#define NESTBED_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_out_fn)(void *ctx, const char *s, size_t len);

/* Supports %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ' '#', width and
 * precision (numbers or '*'), length modifiers hh h l ll z t j. Returns the number
 * of characters produced. An unknown conversion is printed verbatim. Unlike C, "%#x"
 * of zero gives "0x0": every hex value in nestbed's output carries its prefix. */
int format_v(format_out_fn out, void *ctx, const char *fmt, va_list ap);

/* snprintf: always NUL-terminates when size > 0; returns the untruncated length. */
int format_buf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int format_buf_v(char *buf, size_t size, const char *fmt, va_list ap);

#endif
