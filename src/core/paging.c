#include "core/paging.h"

#define ENTRIES 512
#define LEVEL_SHIFT(level) (12 + 9 * ((level) - 1)) /* level 4 = PML4 ... 1 = PT */

static uint64_t *table(const struct paging *pg, uint64_t phys)
{
	return pg->frame_ptr(phys);
}

static uint64_t alloc_table(struct paging *pg)
{
	uint64_t phys = frame_alloc_one(pg->fa);
	if (!phys)
		return 0;
	uint64_t *t = table(pg, phys);
	for (int i = 0; i < ENTRIES; i++)
		t[i] = 0;
	return phys;
}

int paging_init(struct paging *pg, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t))
{
	pg->fa = fa;
	pg->frame_ptr = frame_ptr;
	pg->allow_1g = false;
	pg->root = alloc_table(pg);
	return pg->root ? 0 : -1;
}

/* The table holding virt's entry at leaf_level, creating the tables above it; 0 when
 * frames run out or a large page is in the way. */
static uint64_t table_for(struct paging *pg, uint64_t virt, int leaf_level)
{
	uint64_t t = pg->root;
	for (int level = 4; level > leaf_level; level--) {
		uint64_t *entries = table(pg, t);
		unsigned idx = (virt >> LEVEL_SHIFT(level)) & (ENTRIES - 1);
		uint64_t e = entries[idx];
		if (!(e & PTE_P)) {
			uint64_t next = alloc_table(pg);
			if (!next)
				return 0;
			/* Intermediate entries grant everything; the leaf decides. */
			entries[idx] = next | PTE_P | PTE_W | PTE_U;
			t = next;
		} else if (e & PTE_PS) {
			return 0;
		} else {
			t = e & PTE_ADDR_MASK;
		}
	}
	return t;
}

static int map_one(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t page_size,
		   uint64_t flags)
{
	int leaf_level = page_size == PAGE_1G ? 3 : page_size == PAGE_2M ? 2 : 1;
	uint64_t t = table_for(pg, virt, leaf_level);
	if (!t)
		return -1;
	uint64_t *entries = table(pg, t);
	unsigned idx = (virt >> LEVEL_SHIFT(leaf_level)) & (ENTRIES - 1);
	if (entries[idx] & PTE_P)
		return -1;
	entries[idx] = phys | flags | PTE_P | (leaf_level > 1 ? PTE_PS : 0);
	return 0;
}

int paging_map(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t size, uint64_t flags)
{
	if ((virt | phys | size) & (PAGE_4K - 1))
		return -1;
	while (size) {
		uint64_t page = PAGE_4K;
		if (pg->allow_1g && !((virt | phys) & (PAGE_1G - 1)) && size >= PAGE_1G)
			page = PAGE_1G;
		else if (!((virt | phys) & (PAGE_2M - 1)) && size >= PAGE_2M)
			page = PAGE_2M;
		if (map_one(pg, virt, phys, page, flags))
			return -1;
		virt += page;
		phys += page;
		size -= page;
	}
	return 0;
}

int paging_translate(const struct paging *pg, uint64_t virt, uint64_t *phys, uint64_t *page_size)
{
	uint64_t t = pg->root;
	for (int level = 4; level >= 1; level--) {
		const uint64_t *entries = table(pg, t);
		uint64_t e = entries[(virt >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		if (!(e & PTE_P))
			return -1;
		if (level == 1 || (e & PTE_PS)) {
			uint64_t size = 1ull << LEVEL_SHIFT(level);
			*phys = (e & PTE_ADDR_MASK & ~(size - 1)) | (virt & (size - 1));
			if (page_size)
				*page_size = size;
			return 0;
		}
		t = e & PTE_ADDR_MASK;
	}
	return -1;
}

int paging_set_4k(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t flags)
{
	uint64_t t = table_for(pg, virt, 1);
	if (!t)
		return -1;
	table(pg, t)[(virt >> LEVEL_SHIFT(1)) & (ENTRIES - 1)] = (phys & PTE_ADDR_MASK) | flags | PTE_P;
	return 0;
}

/* Replaces the large leaf *slot (level 3 or 2) by a table of the next level mapping the
 * same range with the same flags. */
static int split_large(struct paging *pg, uint64_t *slot, int level)
{
	uint64_t next = alloc_table(pg);
	if (!next)
		return -1;
	uint64_t size = 1ull << LEVEL_SHIFT(level), sub = 1ull << LEVEL_SHIFT(level - 1);
	uint64_t base = *slot & PTE_ADDR_MASK & ~(size - 1);
	uint64_t flags = *slot & ~PTE_ADDR_MASK & ~PTE_PS;
	uint64_t *entries = table(pg, next);
	for (int i = 0; i < ENTRIES; i++)
		entries[i] = (base + (uint64_t)i * sub) | flags | (level - 1 > 1 ? PTE_PS : 0);
	/* one store: a walker sees the old large page or the new table, both the same map */
	__atomic_store_n(slot, next | PTE_P | PTE_W | PTE_U, __ATOMIC_RELEASE);
	return 0;
}

int paging_update_4k(struct paging *pg, uint64_t virt, uint64_t clear, uint64_t set)
{
	uint64_t t = pg->root;
	for (int level = 4; level >= 1; level--) {
		uint64_t *slot = &table(pg, t)[(virt >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		if (!(*slot & PTE_P))
			return -1;
		if (level == 1) {
			__atomic_store_n(slot, (*slot & ~clear) | set, __ATOMIC_RELEASE);
			return 0;
		}
		if ((*slot & PTE_PS) && split_large(pg, slot, level))
			return -1;
		t = *slot & PTE_ADDR_MASK;
	}
	return -1;
}

static void free_level(struct paging *pg, uint64_t t, int level)
{
	if (level > 1) {
		const uint64_t *entries = table(pg, t);
		for (int i = 0; i < ENTRIES; i++)
			if ((entries[i] & PTE_P) && !(entries[i] & PTE_PS))
				free_level(pg, entries[i] & PTE_ADDR_MASK, level - 1);
	}
	frame_free_range(pg->fa, t, 1);
}

void paging_free_tables(struct paging *pg)
{
	if (pg->root)
		free_level(pg, pg->root, 4);
	pg->root = 0;
}
