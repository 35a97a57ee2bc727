/* The pure half of AMD-Vi programming (host-tested). */
#include "iommu/amdvi.h"

#include "core/paging.h"

static void convert(uint64_t table, int level, void *(*frame_ptr)(uint64_t))
{
	uint64_t *e = frame_ptr(table);
	for (unsigned i = 0; i < 512; i++) {
		if (!(e[i] & PTE_P))
			continue;
		uint64_t addr = e[i] & AMDVI_ADDR_MASK;
		bool leaf = level == 1 || (e[i] & PTE_PS);
		if (!leaf)
			convert(addr, level - 1, frame_ptr);
		uint64_t next = leaf ? 0 : (uint64_t)(level - 1);
		e[i] = addr | next << AMDVI_PTE_NEXT_SHIFT | AMDVI_PTE_PR | AMDVI_IR | AMDVI_IW;
	}
}

void amdvi_convert_x86_table(uint64_t root, void *(*frame_ptr)(uint64_t))
{
	convert(root, 4, frame_ptr);
}

void amdvi_dte(uint64_t root, uint64_t out[4])
{
	out[0] = (root & AMDVI_ADDR_MASK) | 4ull << AMDVI_DTE_MODE_SHIFT | AMDVI_DTE_V |
		 AMDVI_DTE_TV | AMDVI_IR | AMDVI_IW;
	out[1] = AMDVI_DOMAIN;
	out[2] = out[3] = 0;
}
