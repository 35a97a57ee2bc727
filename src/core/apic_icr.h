/* The local APIC's interrupt command register as nestbed reads the guest's writes to it
 * (xAPIC: ICR low at offset 300h, high at 310h; x2APIC: MSR 830h, destination in bits
 * 63:32). SDM vol.3 11.6.1 and 11.12.9; APM vol.2 16.5. Pure, host-tested. */
#ifndef NESTBED_APIC_ICR_H
#define NESTBED_APIC_ICR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/apic_base.h"

#define MSR_X2APIC_ICR 0x830u           /* SDM vol.3 table 11-6 */
#define MSR_X2APIC_APICID 0x802u
#define APIC_REG_ID 0x20u
#define APIC_REG_ICR_LOW 0x300u
#define APIC_REG_ICR_HIGH 0x310u

#define ICR_VECTOR_MASK 0xffu
#define ICR_DELIVERY_SHIFT 8
#define ICR_DELIVERY_MASK (7u << ICR_DELIVERY_SHIFT)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_DELIVERY_PENDING (1u << 12) /* xAPIC: send pending */
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK (3u << ICR_SHORTHAND_SHIFT)
#define XAPIC_DEST_SHIFT 24             /* ICR high bits 31:24 */

enum icr_delivery {
	ICR_FIXED = 0,
	ICR_LOWEST = 1,
	ICR_SMI = 2,
	ICR_NMI = 4,
	ICR_INIT = 5,
	ICR_STARTUP = 6,
};

enum icr_shorthand {
	ICR_NO_SHORTHAND = 0,
	ICR_SELF = 1,
	ICR_ALL_INCLUDING_SELF = 2,
	ICR_ALL_EXCLUDING_SELF = 3,
};

struct icr {
	uint8_t vector;
	enum icr_delivery delivery;
	bool logical;
	bool assert;       /* level: assert (INIT de-assert has it clear) */
	bool level_trigger;
	enum icr_shorthand shorthand;
	uint32_t dest;     /* xAPIC: 8 bits; x2APIC: 32 */
};

struct icr icr_decode(uint32_t low, uint32_t high, bool x2apic);
uint32_t icr_encode_low(const struct icr *icr);

/* INIT level de-assert (delivery INIT, level trigger, level 0): a bus-wide arbitration
 * ID sync that modern CPUs ignore (SDM vol.3 11.6.1: not supported on Pentium 4 and
 * later). */
bool icr_is_init_deassert(const struct icr *icr);

/* A CPU an IPI may reach, as its local APIC names it (SDM vol.3 11.6.2): its APIC ID
 * and, for logical destinations in xAPIC mode, its logical destination register (LDR,
 * ID in bits 31:24) and destination format register (DFR, model in bits 31:28). In
 * x2APIC mode the LDR follows from the x2APIC ID (x2apic_logical_id) and the DFR does
 * not exist (11.12.10.2). */
struct icr_target {
	uint32_t apic_id;
	uint32_t ldr;
	uint32_t dfr;
};

#define APIC_REG_LDR 0xD0u              /* table 11-1 */
#define APIC_REG_DFR 0xE0u
#define APIC_LDR_RESET 0u               /* after RESET or INIT (11.4.7.1) */
#define APIC_DFR_RESET 0xffffffffu
#define APIC_DFR_MODEL_SHIFT 28
#define APIC_DFR_MODEL_FLAT 0xfu        /* 11.6.2.2 */
#define APIC_DFR_MODEL_CLUSTER 0x0u

/* The logical x2APIC ID (LDR) of the CPU with this x2APIC ID: cluster ID (x2APIC ID
 * bits 19:4) in bits 31:16, 1 << (x2APIC ID bits 3:0) in bits 15:0 (11.12.10.2). */
uint32_t x2apic_logical_id(uint32_t x2apic_id);

/* Whether the IPI reaches the target CPU, sent by the CPU with APIC ID `self`: the
 * shorthands (self, all including self, all excluding self), physical destinations
 * (with broadcast FFH / FFFFFFFFH) and logical ones (11.6.2.2: xAPIC flat, a bit of
 * the 8-bit LDR in the MDA; xAPIC cluster, MDA bits 7:4 the cluster and bits 3:0 a
 * mask; x2APIC, cluster bits 31:16 and a 16-bit mask; FFH / FFFFFFFFH reach all). */
bool icr_targets(const struct icr *icr, uint32_t self, const struct icr_target *target, bool x2apic);

#endif
