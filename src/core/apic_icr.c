#include "core/apic_icr.h"

#define XAPIC_BROADCAST 0xffu
#define X2APIC_BROADCAST 0xffffffffu

struct icr icr_decode(uint32_t low, uint32_t high, bool x2apic)
{
	struct icr i = {
		.vector = (uint8_t)(low & ICR_VECTOR_MASK),
		.delivery = (enum icr_delivery)((low & ICR_DELIVERY_MASK) >> ICR_DELIVERY_SHIFT),
		.logical = (low & ICR_DEST_LOGICAL) != 0,
		.assert = (low & ICR_LEVEL_ASSERT) != 0,
		.level_trigger = (low & ICR_TRIGGER_LEVEL) != 0,
		.shorthand = (enum icr_shorthand)((low & ICR_SHORTHAND_MASK) >> ICR_SHORTHAND_SHIFT),
		.dest = x2apic ? high : high >> XAPIC_DEST_SHIFT,
	};
	return i;
}

uint32_t icr_encode_low(const struct icr *i)
{
	return i->vector | ((uint32_t)i->delivery << ICR_DELIVERY_SHIFT) |
	       (i->logical ? ICR_DEST_LOGICAL : 0) | (i->assert ? ICR_LEVEL_ASSERT : 0) |
	       (i->level_trigger ? ICR_TRIGGER_LEVEL : 0) |
	       ((uint32_t)i->shorthand << ICR_SHORTHAND_SHIFT);
}

bool icr_is_init_deassert(const struct icr *i)
{
	return i->delivery == ICR_INIT && i->level_trigger && !i->assert;
}

bool icr_targets(const struct icr *i, uint32_t self, uint32_t target, bool x2apic,
		 bool *unsupported)
{
	*unsupported = false;
	switch (i->shorthand) {
	case ICR_SELF:
		return target == self;
	case ICR_ALL_INCLUDING_SELF:
		return true;
	case ICR_ALL_EXCLUDING_SELF:
		return target != self;
	case ICR_NO_SHORTHAND:
		break;
	}
	if (i->logical) {
		*unsupported = true;
		return false;
	}
	uint32_t broadcast = x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST;
	return i->dest == broadcast || i->dest == target;
}
