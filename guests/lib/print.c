#include "lib/print.h"

#include "core/format.h"
#include "core/string.h"
#include "lib/serial.h"

static void to_serial(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	serial_write(s, len);
}

int vprintf(const char *fmt, va_list ap)
{
	return format_v(to_serial, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	size_t len = strlen(s);
	serial_write(s, len);
	serial_write("\n", 1);
	return (int)len + 1;
}
