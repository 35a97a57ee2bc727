/* Formatted output to COM1 (the conversions of core/format.h). */
#ifndef GUEST_PRINT_H
#define GUEST_PRINT_H

#include <stdarg.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int puts(const char *s); /* writes s and a newline, like C's */

#endif
