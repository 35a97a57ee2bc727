#include "lib/serial.h"

#include <stdint.h>

#include "lib/cpu.h"

/* PC16550D data sheet, section 8 "Registers"; COM1 base from the PC/AT I/O map. */
#define COM1_BASE     0x3f8
#define UART_THR      0 /* transmit holding (DLAB=0) */
#define UART_DLL      0 /* divisor latch low (DLAB=1) */
#define UART_IER      1 /* interrupt enable (DLAB=0) */
#define UART_DLM      1 /* divisor latch high (DLAB=1) */
#define UART_FCR      2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5

#define LCR_8N1       0x03
#define LCR_DLAB      0x80
#define FCR_ENABLE_AND_CLEAR 0x07 /* FIFO on, both FIFOs cleared */
#define MCR_DTR_RTS   0x03        /* OUT2 stays 0: no interrupts wanted */
#define LSR_THR_EMPTY (1u << 5)   /* room for one more byte */
#define LSR_TX_EMPTY  (1u << 6)   /* holding register and shift register both empty */

#define UART_CLOCK_HZ 1843200u
#define BAUD          115200u
#define DIVISOR       (UART_CLOCK_HZ / 16u / BAUD)

/* Bounds every wait, so a missing UART costs time but never hangs the guest. */
#define UART_POLL_LIMIT 1000000u

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, DIVISOR & 0xff);
	outb(COM1_BASE + UART_DLM, DIVISOR >> 8);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_AND_CLEAR);
	outb(COM1_BASE + UART_MCR, MCR_DTR_RTS);
}

static void wait_lsr(uint8_t bits)
{
	for (uint32_t i = 0; i < UART_POLL_LIMIT; i++) {
		if ((inb(COM1_BASE + UART_LSR) & bits) == bits)
			return;
		cpu_relax();
	}
}

void serial_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		wait_lsr(LSR_THR_EMPTY);
		outb(COM1_BASE + UART_THR, (uint8_t)s[i]);
	}
}

void serial_drain(void)
{
	wait_lsr(LSR_TX_EMPTY);
}
