/* nestbed's own page tables and AMD NPT: the x86-64 long-mode entry format for the
 * paging engine (core/tdp.h), and the struct paging interface over it. */
#include "core/paging.h"

/* Every bit of an entry but the address (51:12); in a 2 MiB/1 GiB leaf bit 12 is PAT
 * (SDM vol.3 4.5, tables 4-15 to 4-20). */
#define ATTR_4K 0xfff0000000000fffull
#define ATTR_LARGE (ATTR_4K | (1ull << 12))

const struct tdp_format tdp_format_x86_64 = {
	.name = "x86-64",
	.present = PTE_P,
	.table_bits = PTE_P | PTE_W | PTE_U, /* intermediate entries grant everything */
	.leaf_bits = PTE_P,
	.attr_4k = ATTR_4K,
	.attr_large = ATTR_LARGE,
	.split_keep = ~0ull, /* every attribute: flags, A/D, PKE, NX */
	.r = PTE_P,
	.w = PTE_W,
	.x = 0,
	.nx = PTE_NX,
};

struct tdp paging_as_tdp(const struct paging *pg)
{
	return (struct tdp){ .fmt = &tdp_format_x86_64, .fa = pg->fa, .frame_ptr = pg->frame_ptr,
			     .root = pg->root, .allow_2m = true, .allow_1g = pg->allow_1g };
}

int paging_init(struct paging *pg, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t))
{
	struct tdp t;
	int rc = tdp_init(&t, &tdp_format_x86_64, fa, frame_ptr);
	pg->fa = fa;
	pg->frame_ptr = frame_ptr;
	pg->allow_1g = false;
	pg->root = t.root;
	return rc;
}

int paging_map(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t size, uint64_t flags)
{
	struct tdp t = paging_as_tdp(pg);
	return tdp_map(&t, virt, phys, size, flags);
}

int paging_set_4k(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t flags)
{
	struct tdp t = paging_as_tdp(pg);
	return tdp_set_4k(&t, virt & ~(PAGE_4K - 1), phys & PTE_ADDR_MASK, flags);
}

int paging_update_4k(struct paging *pg, uint64_t virt, uint64_t clear, uint64_t set)
{
	struct tdp t = paging_as_tdp(pg);
	return tdp_update_4k(&t, virt, clear, set);
}

int paging_translate(const struct paging *pg, uint64_t virt, uint64_t *phys, uint64_t *page_size)
{
	struct tdp t = paging_as_tdp(pg);
	struct tdp_walk_result r;
	if (tdp_walk(&t, virt, &r))
		return -1;
	*phys = r.hpa;
	if (page_size)
		*page_size = r.page_size;
	return 0;
}

void paging_free_tables(struct paging *pg)
{
	struct tdp t = paging_as_tdp(pg);
	tdp_free(&t);
	pg->root = 0;
}
