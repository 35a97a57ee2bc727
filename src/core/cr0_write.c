/* The architectural rules of a CR0 write: see cr0_write.h. */
#include "core/cr0_write.h"

int cr0_write(const struct cr0_write_view *cur, uint64_t value, struct cr0_write_effect *out)
{
	uint64_t old = cur->cr0;
	if (value & CR0_HIGH_BITS)
		return -1;
	if ((value & CR0_PG) && !(value & CR0_PE))
		return -1;
	if ((value & CR0_NW) && !(value & CR0_CD))
		return -1;
	bool pg_on = (value & CR0_PG) && !(old & CR0_PG);
	bool pg_off = !(value & CR0_PG) && (old & CR0_PG);
	bool lme = (cur->efer & EFER_LME) != 0;
	if (pg_on && lme && (!(cur->cr4 & CR4_PAE) || cur->cs_l))
		return -1;
	if (pg_off && (cur->efer & EFER_LMA) && cur->cs_l)
		return -1;
	out->efer = cur->efer;
	if (pg_on && lme)
		out->efer |= EFER_LMA;
	if (pg_off)
		out->efer &= ~EFER_LMA;
	out->pg_on = pg_on;
	out->pg_off = pg_off;
	out->flush_tlb = ((old ^ value) & CR0_PAGING_BITS) != 0;
	return 0;
}

uint64_t cr0_lmsw_value(uint64_t cr0, uint16_t source)
{
	uint64_t value = (cr0 & ~CR0_LMSW_BITS) | (source & CR0_LMSW_BITS);
	return value | (cr0 & CR0_PE);
}
