/* IA32_APIC_BASE (MSR 1BH; SDM vol.3A 11.4.4, APM vol.2 16.3.1): which values a guest may
 * write. The local APIC's register page sits wherever the base says, in the physical
 * address space nestbed shares with its guest, so a base on nestbed's memory would put
 * APIC registers over nestbed's own pages. Pure: compiled for the host too. */
#ifndef NESTBED_APIC_BASE_H
#define NESTBED_APIC_BASE_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_APIC_BASE 0x1Bu
#define APIC_BASE_BSP (1ull << 8)     /* read-only processor flag */
#define APIC_BASE_EXTD (1ull << 10)   /* x2APIC mode, reserved without x2APIC (SDM 11.12.1) */
#define APIC_BASE_EN (1ull << 11)     /* xAPIC global enable */
#define APIC_BASE_RESERVED_LOW 0x2ffull /* bits 7:0 and 9 (SDM vol.3A figure 11-5) */
#define APIC_BASE_PAGE_MASK (~0xfffull)
#define APIC_MMIO_SIZE 0x1000ull      /* the register page (SDM vol.3A 11.4.1) */
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull /* bits MAXPHYADDR-1:12 at most */

/* The xAPIC register page a base value decodes (0 when the APIC is off or in x2APIC
 * mode, where the page decodes nothing: SDM vol.3A 11.12.1). */
static inline uint64_t apic_base_mmio_page(uint64_t value)
{
	return (value & APIC_BASE_EN) && !(value & APIC_BASE_EXTD) ? value & APIC_BASE_ADDR_MASK : 0;
}

enum apic_base_verdict {
	APIC_BASE_OK,
	APIC_BASE_RESERVED,   /* a reserved bit, or an address bit at or above MAXPHYADDR */
	APIC_BASE_ON_NESTBED, /* the register page would overlap nestbed's memory */
};

/* May a guest write `value`? `owns` says whether a physical range is nestbed's
 * (nestbed_owns_range). The CPU's own checks (x2APIC mode transitions) still apply
 * after this one. */
enum apic_base_verdict apic_base_check(uint64_t value, unsigned maxphyaddr, bool x2apic,
				       bool (*owns)(uint64_t pa, uint64_t len));

#endif
