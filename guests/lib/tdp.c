#include "lib/tdp.h"

#include "core/string.h"

#define ENTRIES 512
#define SIZE_2M 0x200000ull
#define SIZE_1G 0x40000000ull

static uint64_t table_value(enum tdp_format format, const uint64_t *table)
{
	uint64_t pa = (uint64_t)(uintptr_t)table;
	if (format == TDP_NPT)
		return pa | NPT_P | NPT_W | NPT_U;
	return pa | EPT_R | EPT_W | EPT_X;
}

static uint64_t *entry_table(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & TDP_ADDR_MASK);
}

static bool entry_present(enum tdp_format format, uint64_t entry)
{
	if (format == TDP_NPT)
		return entry & NPT_P;
	return entry & (EPT_R | EPT_W | EPT_X);
}

uint64_t tdp_leaf_value(enum tdp_format format, uint64_t pa, unsigned rights, bool large)
{
	if (!rights)
		return 0;
	if (format == TDP_NPT) {
		uint64_t v = pa | NPT_P | NPT_U;
		if (rights & TDP_W)
			v |= NPT_W;
		if (!(rights & TDP_X))
			v |= NPT_NX;
		return v | (large ? NPT_PS : 0);
	}
	uint64_t v = pa | EPT_MEMTYPE_WB;
	if (rights & TDP_R)
		v |= EPT_R;
	if (rights & TDP_W)
		v |= EPT_W;
	if (rights & TDP_X)
		v |= EPT_X;
	return v | (large ? EPT_PS : 0);
}

static uint64_t *alloc_table(struct tdp *t)
{
	if (t->used == TDP_POOL_PAGES)
		return NULL;
	uint64_t *table = (*t->pool)[t->used++];
	memset(table, 0, TDP_PAGE_SIZE);
	return table;
}

int tdp_build_identity(struct tdp *t, enum tdp_format format,
		       uint64_t (*pool)[TDP_POOL_PAGES][512])
{
	t->format = format;
	t->pool = pool;
	t->used = 0;
	t->root = alloc_table(t);
	uint64_t *pdpt = alloc_table(t);
	if (!t->root || !pdpt)
		return -1;
	t->root[0] = table_value(format, pdpt);
	for (unsigned g = 0; g < TDP_IDENTITY_END / SIZE_1G; g++) {
		uint64_t *pd = alloc_table(t);
		if (!pd)
			return -1;
		pdpt[g] = table_value(format, pd);
		for (unsigned i = 0; i < ENTRIES; i++)
			pd[i] = tdp_leaf_value(format, g * SIZE_1G + i * SIZE_2M, TDP_RWX, true);
	}
	return 0;
}

uint64_t tdp_root_pa(const struct tdp *t)
{
	return (uint64_t)(uintptr_t)t->root;
}

/* The page-directory entry that maps gpa's 2 MiB, or NULL. */
static uint64_t *pd_entry(const struct tdp *t, uint64_t gpa)
{
	if (gpa >= TDP_IDENTITY_END)
		return NULL;
	uint64_t *pdpt = entry_table(t->root[0]);
	uint64_t *pd = entry_table(pdpt[(gpa >> 30) & 511]);
	return &pd[(gpa >> 21) & 511];
}

uint64_t *tdp_leaf_entry(struct tdp *t, uint64_t gpa)
{
	uint64_t *pde = pd_entry(t, gpa);
	if (!pde)
		return NULL;
	uint64_t large_bit = t->format == TDP_NPT ? NPT_PS : EPT_PS;
	if (!entry_present(t->format, *pde) || (*pde & large_bit)) {
		/* Split: 512 small pages with the 2 MiB page's rights. */
		unsigned rights = 0;
		uint64_t base = gpa & ~(SIZE_2M - 1);
		if (entry_present(t->format, *pde))
			rights = tdp_rights(t, base);
		uint64_t *pt = alloc_table(t);
		if (!pt)
			return NULL;
		for (unsigned i = 0; i < ENTRIES; i++)
			pt[i] = tdp_leaf_value(t->format, base + i * (uint64_t)TDP_PAGE_SIZE, rights,
					       false);
		*pde = table_value(t->format, pt);
	}
	return &entry_table(*pde)[(gpa >> 12) & 511];
}

int tdp_set_page(struct tdp *t, uint64_t gpa, unsigned rights)
{
	if (rights & ~TDP_RWX)
		return -1;
	if (t->format == TDP_NPT && rights && !(rights & TDP_R))
		return -1;
	uint64_t *pte = tdp_leaf_entry(t, gpa);
	if (!pte)
		return -1;
	*pte = tdp_leaf_value(t->format, gpa & ~(uint64_t)(TDP_PAGE_SIZE - 1), rights, false);
	return 0;
}

static unsigned entry_rights(enum tdp_format format, uint64_t entry)
{
	if (format == TDP_NPT) {
		if (!(entry & NPT_P))
			return 0;
		return TDP_R | ((entry & NPT_W) ? TDP_W : 0) | ((entry & NPT_NX) ? 0 : TDP_X);
	}
	return (unsigned)(entry & (EPT_R | EPT_W | EPT_X));
}

unsigned tdp_rights(const struct tdp *t, uint64_t gpa)
{
	uint64_t *pde = pd_entry(t, gpa);
	if (!pde)
		return 0;
	uint64_t large_bit = t->format == TDP_NPT ? NPT_PS : EPT_PS;
	/* The upper levels always grant everything; the leaf decides. */
	if (!entry_present(t->format, *pde))
		return 0;
	if (*pde & large_bit)
		return entry_rights(t->format, *pde);
	return entry_rights(t->format, entry_table(*pde)[(gpa >> 12) & 511]);
}
