#include "core/tdp.h"

#define LEVEL_SHIFT(level) (12 + 9 * ((level) - 1)) /* 4: PML4 ... 1: PT */
#define INDEX(addr, level) (((addr) >> LEVEL_SHIFT(level)) & (TDP_ENTRIES - 1))
#define LEVEL_SIZE(level) (1ull << LEVEL_SHIFT(level))
#define TDP_PHYS_LIMIT (1ull << 52) /* bits 51:12 hold the address */

static uint64_t *table(const struct tdp *t, uint64_t phys)
{
	return t->frame_ptr(phys);
}

static bool present(const struct tdp *t, uint64_t e)
{
	return (e & t->fmt->present) != 0;
}

/* A present entry above the PT that maps a page rather than a table. */
static bool large(uint64_t e, int level)
{
	return level > 1 && (e & TDP_LARGE);
}

static uint64_t alloc_table(struct tdp *t)
{
	uint64_t phys = frame_alloc_one(t->fa);
	if (!phys)
		return 0;
	uint64_t *entries = table(t, phys);
	for (int i = 0; i < TDP_ENTRIES; i++)
		entries[i] = 0;
	return phys;
}

int tdp_init(struct tdp *t, const struct tdp_format *fmt, struct frame_alloc *fa,
	     void *(*frame_ptr)(uint64_t))
{
	t->fmt = fmt;
	t->fa = fa;
	t->frame_ptr = frame_ptr;
	t->allow_2m = t->allow_1g = false;
	t->root = alloc_table(t);
	return t->root ? 0 : -1;
}

bool tdp_attrs_valid(const struct tdp_format *fmt, uint64_t attrs, uint64_t page_size)
{
	uint64_t allowed = page_size == TDP_PAGE_4K ? fmt->attr_4k : fmt->attr_large;
	if (attrs & ~allowed)
		return false;
	if (!((attrs | fmt->leaf_bits) & fmt->present))
		return false;
	if (fmt->mt_mask) {
		unsigned mt = (unsigned)((attrs & fmt->mt_mask) >> fmt->mt_shift);
		if (fmt->mt_reserved & (1u << mt))
			return false;
	}
	if (fmt->bad_rw_mask)
		for (int i = 0; i < 2; i++)
			if ((attrs & fmt->bad_rw_mask) == fmt->bad_rw_value[i])
				return false;
	return true;
}

uint64_t tdp_leaf(const struct tdp_format *fmt, uint64_t hpa, uint64_t page_size, uint64_t attrs)
{
	uint64_t e = (hpa & TDP_ADDR_MASK & ~(page_size - 1)) | attrs | fmt->leaf_bits;
	return page_size == TDP_PAGE_4K ? e : e | TDP_LARGE;
}

static int size_level(uint64_t page_size)
{
	return page_size == TDP_PAGE_1G ? 3 : page_size == TDP_PAGE_2M ? 2 : 1;
}

/* The table holding gpa's entry at leaf_level, creating the tables above it; 0 when
 * frames run out or a large page is in the way. */
static uint64_t table_for(struct tdp *t, uint64_t gpa, int leaf_level)
{
	uint64_t tb = t->root;
	for (int level = TDP_LEVELS; level > leaf_level; level--) {
		uint64_t *slot = &table(t, tb)[INDEX(gpa, level)];
		if (!present(t, *slot)) {
			uint64_t next = alloc_table(t);
			if (!next)
				return 0;
			__atomic_store_n(slot, next | t->fmt->table_bits, __ATOMIC_RELEASE);
			tb = next;
		} else if (*slot & TDP_LARGE) {
			return 0; /* a large page is in the way */
		} else {
			tb = *slot & TDP_ADDR_MASK;
		}
	}
	return tb;
}

/* Page aligned, and the host range inside the 52 bits an entry can hold. */
static bool args_ok(uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return !((gpa | hpa | size) & (TDP_PAGE_4K - 1)) && hpa <= TDP_PHYS_LIMIT &&
	       size <= TDP_PHYS_LIMIT - hpa;
}

static int map_one(struct tdp *t, uint64_t gpa, uint64_t hpa, uint64_t page_size, uint64_t attrs)
{
	int leaf_level = size_level(page_size);
	uint64_t tb = table_for(t, gpa, leaf_level);
	if (!tb)
		return -1;
	uint64_t *slot = &table(t, tb)[INDEX(gpa, leaf_level)];
	if (present(t, *slot))
		return -1;
	__atomic_store_n(slot, tdp_leaf(t->fmt, hpa, page_size, attrs), __ATOMIC_RELEASE);
	return 0;
}

static bool fits(uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t page)
{
	return !((gpa | hpa) & (page - 1)) && size >= page;
}

int tdp_map(struct tdp *t, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t attrs)
{
	if (!args_ok(gpa, hpa, size))
		return -1;
	while (size) {
		uint64_t page = TDP_PAGE_4K;
		if (t->allow_1g && fits(gpa, hpa, size, TDP_PAGE_1G))
			page = TDP_PAGE_1G;
		else if (t->allow_2m && fits(gpa, hpa, size, TDP_PAGE_2M))
			page = TDP_PAGE_2M;
		if (!tdp_attrs_valid(t->fmt, attrs, page) || map_one(t, gpa, hpa, page, attrs))
			return -1;
		gpa += page;
		hpa += page;
		size -= page;
	}
	return 0;
}

int tdp_set_4k(struct tdp *t, uint64_t gpa, uint64_t hpa, uint64_t attrs)
{
	if (!args_ok(gpa & ~(TDP_PAGE_4K - 1), hpa & ~(TDP_PAGE_4K - 1), TDP_PAGE_4K) ||
	    !tdp_attrs_valid(t->fmt, attrs, TDP_PAGE_4K))
		return -1;
	uint64_t tb = table_for(t, gpa, 1);
	if (!tb)
		return -1;
	__atomic_store_n(&table(t, tb)[INDEX(gpa, 1)], tdp_leaf(t->fmt, hpa, TDP_PAGE_4K, attrs),
			 __ATOMIC_RELEASE);
	return 0;
}

/* Replaces the large leaf *slot at `level` (3 or 2) by a table of the next level mapping
 * the same range with the attributes the format says its pieces inherit. */
static int split_large(struct tdp *t, uint64_t *slot, int level)
{
	uint64_t next = alloc_table(t);
	if (!next)
		return -1;
	uint64_t size = LEVEL_SIZE(level), sub = LEVEL_SIZE(level - 1);
	uint64_t base = *slot & TDP_ADDR_MASK & ~(size - 1);
	uint64_t keep = *slot & t->fmt->split_keep & ~TDP_ADDR_MASK & ~TDP_LARGE;
	uint64_t *entries = table(t, next);
	for (int i = 0; i < TDP_ENTRIES; i++)
		entries[i] = (base + (uint64_t)i * sub) | keep | (level - 1 > 1 ? TDP_LARGE : 0);
	/* one store: a walker sees the old large page or the new table, both the same map */
	__atomic_store_n(slot, next | t->fmt->table_bits, __ATOMIC_RELEASE);
	return 0;
}

int tdp_update_4k(struct tdp *t, uint64_t gpa, uint64_t clear, uint64_t set)
{
	uint64_t tb = t->root;
	for (int level = TDP_LEVELS; level >= 1; level--) {
		uint64_t *slot = &table(t, tb)[INDEX(gpa, level)];
		if (!present(t, *slot))
			return -1;
		if (level == 1) {
			__atomic_store_n(slot, (*slot & ~clear) | set, __ATOMIC_RELEASE);
			return 0;
		}
		if (level == TDP_LEVELS && (*slot & TDP_LARGE))
			return -1; /* a 512 GiB leaf is none of the engine's */
		if (large(*slot, level) && split_large(t, slot, level))
			return -1;
		tb = *slot & TDP_ADDR_MASK;
	}
	return -1;
}

int tdp_unmap(struct tdp *t, uint64_t gpa, uint64_t size)
{
	if ((gpa | size) & (TDP_PAGE_4K - 1) || gpa + size < gpa)
		return -1;
	uint64_t end = gpa + size;
	while (gpa < end) {
		uint64_t tb = t->root;
		for (int level = TDP_LEVELS; level >= 1; level--) {
			uint64_t *slot = &table(t, tb)[INDEX(gpa, level)];
			uint64_t span = LEVEL_SIZE(level);
			uint64_t next = (gpa & ~(span - 1)) + span;
			if (!present(t, *slot)) {
				gpa = next; /* a hole as large as the entry */
				break;
			}
			if (level == 1 || (*slot & TDP_LARGE)) {
				if (!(gpa & (span - 1)) && next <= end) {
					__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
					gpa = next;
					break;
				}
				if (level == TDP_LEVELS || split_large(t, slot, level))
					return -1;
			}
			tb = *slot & TDP_ADDR_MASK;
		}
		if (gpa == 0)
			break; /* wrapped past the top of the address space */
	}
	return 0;
}

static unsigned perms_of(const struct tdp_format *f, uint64_t all_and, uint64_t any_or)
{
	unsigned p = 0;
	if ((all_and & f->r) == f->r)
		p |= TDP_R;
	if ((all_and & f->w) == f->w && f->w)
		p |= TDP_W;
	if ((all_and & f->x) == f->x && !(any_or & f->nx))
		p |= TDP_X;
	return p;
}

int tdp_walk(const struct tdp *t, uint64_t gpa, struct tdp_walk_result *r)
{
	uint64_t tb = t->root, all_and = ~0ull, any_or = 0;
	for (int level = TDP_LEVELS; level >= 1; level--) {
		uint64_t e = table(t, tb)[INDEX(gpa, level)];
		if (!present(t, e))
			return -1;
		all_and &= e;
		any_or |= e;
		if (level == 1 || (e & TDP_LARGE)) {
			uint64_t size = LEVEL_SIZE(level);
			r->hpa = (e & TDP_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			r->page_size = size;
			r->leaf = e;
			r->level = level;
			r->perms = perms_of(t->fmt, all_and, any_or);
			r->memtype = t->fmt->mt_mask ? (unsigned)((e & t->fmt->mt_mask) >> t->fmt->mt_shift) : 0;
			return 0;
		}
		tb = e & TDP_ADDR_MASK;
	}
	return -1;
}

static void free_level(struct tdp *t, uint64_t tb, int level)
{
	if (level > 1) {
		const uint64_t *entries = table(t, tb);
		for (int i = 0; i < TDP_ENTRIES; i++)
			if (present(t, entries[i]) && !(entries[i] & TDP_LARGE))
				free_level(t, entries[i] & TDP_ADDR_MASK, level - 1);
	}
	frame_free_range(t->fa, tb, 1);
}

void tdp_free(struct tdp *t)
{
	if (t->root)
		free_level(t, t->root, TDP_LEVELS);
	t->root = 0;
}
