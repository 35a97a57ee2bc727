#include "core/apic_base.h"

enum apic_base_verdict apic_base_check(uint64_t value, unsigned maxphyaddr, bool x2apic,
				       bool (*owns)(uint64_t pa, uint64_t len))
{
	uint64_t reserved = APIC_BASE_RESERVED_LOW | (x2apic ? 0 : APIC_BASE_EXTD);
	if (maxphyaddr < 64)
		reserved |= ~((1ull << maxphyaddr) - 1);
	if (value & reserved)
		return APIC_BASE_RESERVED;
	/* Whether or not the value enables the APIC: a disabled APIC keeps its base for
	 * the write that enables it again. */
	if (owns(value & APIC_BASE_PAGE_MASK, APIC_MMIO_SIZE))
		return APIC_BASE_ON_NESTBED;
	return APIC_BASE_OK;
}
