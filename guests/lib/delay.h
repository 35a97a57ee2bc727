/* Delays measured by the 8254 PIT (channel 2, gated through port 61h, which also tells
 * when its output goes high): needs no calibration and works the same bare, under
 * nestbed and on every emulator here (the PIT is on the emulated clock). The PIT is one
 * for the machine: one CPU at a time (the smp/ probes time everything on the boot CPU). */
#ifndef GUEST_DELAY_H
#define GUEST_DELAY_H

#include <stdbool.h>
#include <stdint.h>

/* Busy-waits at least us microseconds. */
void delay_us(uint64_t us);

/* Polls done(arg) until it returns true or timeout_us have passed (measured by the
 * PIT in steps of step_us); true if done. */
bool delay_poll(bool (*done)(void *), void *arg, uint64_t timeout_us, uint64_t step_us);

#endif
