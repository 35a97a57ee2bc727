/* The local APIC in xAPIC mode, for probes that need a real interrupt or NMI: the
 * register block at IA32_APIC_BASE (SDM vol.3A 11.4), self-IPIs through the ICR
 * (11.6.1) and EOI. The probes never disable the APIC (Bochs 2.7 could not re-enable
 * it). */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_ID      0x020 /* xAPIC: bits 31:24 (11.4.6) */
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

/* ICR command words (SDM vol.3A 11.6.1, Figure 11-12): delivery mode, level, trigger. */
#define ICR_FIXED        0x00000u
#define ICR_NMI          0x00400u
#define ICR_INIT         0x00500u
#define ICR_STARTUP      0x00600u
#define ICR_LEVEL_ASSERT 0x04000u
#define ICR_BUSY         0x01000u /* delivery status: send pending (xAPIC only) */

/* This CPU's APIC in x2APIC mode (IA32_APIC_BASE bit 10): the firmware chose it; the
 * probes never switch modes. */
bool lapic_x2apic(void);
/* This CPU's local APIC ID: xAPIC ID register bits 31:24, or the 32-bit x2APIC ID. */
uint32_t lapic_id(void);
/* Sends an IPI to one APIC ID (physical destination, no shorthand): xAPIC through the
 * ICR's MMIO halves (destination in ICR_HIGH 31:24), x2APIC through MSR 830h (destination
 * in bits 63:32, 11.12.9). Waits (bounded) until an xAPIC says the send is done;
 * false if it still says pending. */
bool lapic_send_ipi(uint32_t apic_id, uint32_t command);

#endif
