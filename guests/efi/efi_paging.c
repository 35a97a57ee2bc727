#include "efi/efi_paging.h"

#include "lib/layout.h"

/* SDM vol.3A 4.5, Tables 4-15..4-20. */
#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITABLE (1ull << 1)
#define PDE_LARGE    (1ull << 7) /* 2 MiB page */
#define ENTRIES      512
#define PAGE_SIZE    0x1000ull
#define LARGE_SIZE   0x200000ull
#define PD_COUNT     (IDENTITY_MAP_END / (ENTRIES * LARGE_SIZE)) /* 1 GiB each */

typedef uint64_t table[ENTRIES] __attribute__((aligned(4096)));

static table pml4, pdpt, pd[PD_COUNT];
static table low_pt;   /* the first 2 MiB: page 0 absent */
static table guard_pt; /* the 2 MiB that hold the stack guard, when not the first */

_Static_assert(IDENTITY_MAP_END % (ENTRIES * LARGE_SIZE) == 0, "whole page directories");

static uint64_t entry(const void *next_table)
{
	return (uint64_t)next_table | PTE_PRESENT | PTE_WRITABLE;
}

/* 4 KiB pages for the 2 MiB at base, through pt. */
static void split(uint64_t *pt, uint64_t base)
{
	for (unsigned i = 0; i < ENTRIES; i++)
		pt[i] = (base + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE;
	pd[base / (ENTRIES * LARGE_SIZE)][(base / LARGE_SIZE) % ENTRIES] = entry(pt);
}

uint64_t efi_paging_build(uint64_t stack_guard)
{
	pml4[0] = entry(pdpt);
	for (unsigned d = 0; d < PD_COUNT; d++) {
		pdpt[d] = entry(pd[d]);
		for (unsigned i = 0; i < ENTRIES; i++)
			pd[d][i] = ((uint64_t)d * ENTRIES + i) * LARGE_SIZE | PTE_PRESENT |
				   PTE_WRITABLE | PDE_LARGE;
	}
	split(low_pt, 0);
	low_pt[0] = 0; /* NULL_GUARD_SIZE: a NULL dereference faults */

	uint64_t guard = stack_guard & ~(PAGE_SIZE - 1);
	uint64_t guard_region = guard & ~(LARGE_SIZE - 1);
	uint64_t *pt = low_pt;
	if (guard_region != 0) {
		split(guard_pt, guard_region);
		pt = guard_pt;
	}
	pt[(guard - guard_region) / PAGE_SIZE] = 0; /* a stack overflow faults */
	return (uint64_t)pml4;
}
