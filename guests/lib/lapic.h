/* The local APIC in xAPIC mode, for probes that need a real interrupt or NMI: the
 * register block at IA32_APIC_BASE (SDM vol.3A 11.4), self-IPIs through the ICR
 * (11.6.1) and EOI. The probes never disable the APIC (Bochs 2.7 could not re-enable
 * it). */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_EOI     0x0b0
#define LAPIC_SVR     0x0f0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310

/* Usable: present (CPUID.1:EDX[9]), enabled in IA32_APIC_BASE, xAPIC (not x2APIC). */
bool lapic_usable(void);
uint64_t lapic_base(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
/* Software-enables the APIC (SVR bit 8) if it is not. */
void lapic_enable(void);
/* A fixed interrupt with this vector to this CPU (destination shorthand "self"). */
void lapic_self_ipi(uint8_t vector);
void lapic_eoi(void);

#endif
