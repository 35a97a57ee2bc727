#include "core/console.h"

#include <stdbool.h>

#include "core/cpu.h"
#include "core/format.h"
#include "core/machine.h"

/* 16550 UART registers, offsets from the base port (PC16550D data sheet). */
#define COM1_BASE 0x3F8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS 0x03 /* OUT2 clear: the UART raises no interrupt */
#define LSR_THR_EMPTY 0x20
#define LSR_TRANSMITTER_EMPTY 0x40
#define UART_DIVISOR_115200 1
#define UART_SPIN_LIMIT 100000 /* a missing UART must not hang nestbed */


void console_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, UART_DIVISOR_115200);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, MCR_DTR_RTS);
}

static void uart_putc(char c)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++)
		if (inb(COM1_BASE + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
	if (machine.console.extra_sink)
		machine.console.extra_sink(s, len);
}

void console_drain(void)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++)
		if (inb(COM1_BASE + UART_LSR) & LSR_TRANSMITTER_EMPTY)
			return;
}

void console_set_extra_sink(console_sink_fn fn)
{
	machine.console.extra_sink = fn;
}

/* Collects a call's output so the extra sink gets whole pieces, not single bytes. */
struct line_buffer {
	char buf[256];
	size_t used;
};

static void flush(struct line_buffer *lb)
{
	if (lb->used)
		console_write(lb->buf, lb->used);
	lb->used = 0;
}

static void buffered_out(void *ctx, const char *s, size_t len)
{
	struct line_buffer *lb = ctx;
	for (size_t i = 0; i < len; i++) {
		if (lb->used == sizeof(lb->buf))
			flush(lb);
		lb->buf[lb->used++] = s[i];
	}
}

/* Several CPUs print at once: one holds the console for a whole call (or for a group of
 * calls, console_lock). The lock is recursive, so an exception report or a fatal error
 * printed while this CPU holds it does not deadlock; a CPU is told apart by its GDT,
 * which is its own (struct pcpu). */

static uint64_t this_cpu_gdt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	return gdtr.base | 1; /* never 0, even for a GDT at 0 */
}

void console_lock(void)
{
	uint64_t me = this_cpu_gdt();
	if (__atomic_load_n(&machine.console.owner, __ATOMIC_ACQUIRE) == me) {
		machine.console.depth++;
		return;
	}
	uint64_t free = 0;
	while (!__atomic_compare_exchange_n(&machine.console.owner, &free, me, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		free = 0;
		__asm__ volatile("pause");
	}
	machine.console.depth = 1;
}

void console_unlock(void)
{
	if (--machine.console.depth == 0)
		__atomic_store_n(&machine.console.owner, 0, __ATOMIC_RELEASE);
}

int kvprintf(const char *fmt, va_list ap)
{
	struct line_buffer lb = { .used = 0 };
	console_lock();
	int n = format_v(buffered_out, &lb, fmt, ap);
	flush(&lb);
	console_unlock();
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}
