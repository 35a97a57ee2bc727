/* nestbed's console: COM1 (16550) always, plus optional extra sinks (the UEFI text
 * console while boot services are active). */
#ifndef NESTBED_CONSOLE_H
#define NESTBED_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void console_init(void);
void console_write(const char *s, size_t len);
/* printf-like: %d %i %u %x %X %p %s %c %%, flags '-', '0', width, precision for %s,
 * length modifiers l, ll, z, h, hh. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
/* Holds the console across several prints (recursive; one CPU at a time). */
void console_lock(void);
void console_unlock(void);
/* Waits until the UART transmitter is empty (LSR bit 6), so nothing is lost at exit. */
void console_drain(void);

/* One extra sink, e.g. the UEFI ConOut; called with each complete write. */
typedef void (*console_sink_fn)(const char *s, size_t len);
void console_set_extra_sink(console_sink_fn fn);

/* The console's machine-wide state (struct machine): the extra sink, and who holds the
 * console (the GDT base of the holding CPU, 0 when free) how many times over. */
struct console_state {
	console_sink_fn extra_sink;
	volatile uint64_t owner;
	unsigned depth;
};

#endif
