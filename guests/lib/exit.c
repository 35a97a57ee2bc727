#include "lib/exit.h"

#include <stdint.h>

#include "lib/cpu.h"
#include "lib/print.h"
#include "lib/serial.h"

/* QEMU -device isa-debug-exit,iobase=0xf4: QEMU exits with status (value << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT 0xf4
/* Bochs: the string "Shutdown" written to this port ends the simulation
 * (with panic: action=fatal). */
#define BOCHS_SHUTDOWN_PORT  0x8900

void guest_exit(enum guest_exit_code code)
{
	static const char bochs_shutdown[] = "Shutdown";

	printf("exit-port: %d\n", (int)code);
	serial_drain();
	outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)code);
	for (const char *c = bochs_shutdown; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
	halt_forever();
}
