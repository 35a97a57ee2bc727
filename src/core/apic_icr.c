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

uint32_t x2apic_logical_id(uint32_t x2apic_id)
{
	return ((x2apic_id >> 4) << 16) | (1u << (x2apic_id & 0xf));
}

#define XAPIC_LDR_SHIFT 24
#define XAPIC_CLUSTER_SHIFT 4
#define XAPIC_CLUSTER_MEMBERS 0xfu
#define X2APIC_CLUSTER_SHIFT 16
#define X2APIC_CLUSTER_MEMBERS 0xffffu

static bool logical_match(const struct icr *i, const struct icr_target *t, bool x2apic)
{
	if (x2apic) {
		if (i->dest == X2APIC_BROADCAST)
			return true;
		uint32_t ldr = x2apic_logical_id(t->apic_id);
		return (i->dest >> X2APIC_CLUSTER_SHIFT) == (ldr >> X2APIC_CLUSTER_SHIFT) &&
		       (i->dest & ldr & X2APIC_CLUSTER_MEMBERS) != 0;
	}
	uint32_t mda = i->dest & XAPIC_BROADCAST, ldr = (t->ldr >> XAPIC_LDR_SHIFT) & XAPIC_BROADCAST;
	if (mda == XAPIC_BROADCAST)
		return true;
	switch (t->dfr >> APIC_DFR_MODEL_SHIFT) {
	case APIC_DFR_MODEL_FLAT:
		return (mda & ldr) != 0;
	case APIC_DFR_MODEL_CLUSTER:
		return (mda >> XAPIC_CLUSTER_SHIFT) == (ldr >> XAPIC_CLUSTER_SHIFT) &&
		       (mda & ldr & XAPIC_CLUSTER_MEMBERS) != 0;
	default:
		return false; /* a model the SDM does not define: no CPU accepts */
	}
}

bool icr_targets(const struct icr *i, uint32_t self, const struct icr_target *t, bool x2apic)
{
	switch (i->shorthand) {
	case ICR_SELF:
		return t->apic_id == self;
	case ICR_ALL_INCLUDING_SELF:
		return true;
	case ICR_ALL_EXCLUDING_SELF:
		return t->apic_id != self;
	case ICR_NO_SHORTHAND:
		break;
	}
	if (i->logical)
		return logical_match(i, t, x2apic);
	uint32_t broadcast = x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST;
	return i->dest == broadcast || i->dest == t->apic_id;
}
