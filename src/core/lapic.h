/* nestbed's own use of the calling CPU's local APIC: its ID, and the INIT and startup
 * IPIs with which it starts the APs (xAPIC through its MMIO page, x2APIC through MSRs). */
#ifndef NESTBED_LAPIC_H
#define NESTBED_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/apic_icr.h"

uint32_t lapic_id(void);
bool lapic_x2apic_mode(void);
/* Sends the IPI (its destination in icr->dest) and waits until the xAPIC has sent it.
 * 0, or -1 when the send stayed pending. */
int lapic_send(const struct icr *icr);
/* The guest wrote `value` to the xAPIC register at `offset`: nestbed does the write. */
void lapic_mmio_write(uint64_t apic_base, uint32_t offset, uint32_t value);
uint32_t lapic_mmio_read(uint64_t apic_base, uint32_t offset);

/* An interrupt is requested that this CPU would take with IF = 1: the highest vector
 * in the IRR has a higher priority class than the PPR (SDM vol.3 11.8.3.1). */
bool lapic_interrupt_pending(void);

/* Waits about `us` microseconds on the PIT's channel 2 (Intel 8254), gated through
 * port 61h: nestbed uses it only at boot, before its guest owns the PIT. */
void pit_delay_us(uint32_t us);

#endif
