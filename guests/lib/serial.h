/* COM1, a 16550 UART at 115200 8N1, polled: the only output a conformance guest has. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t len);
/* Waits until the transmitter is empty (LSR bit 6), so the last byte reaches the wire
 * before the machine stops. */
void serial_drain(void);

#endif
