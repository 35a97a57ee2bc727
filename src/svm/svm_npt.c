/* The primary guest's nested page tables: host-physical = guest-physical everywhere
 * except nestbed's own memory, which is left unmapped so any access is an NPF that
 * nestbed reports (APM vol.2 15.25). NPT entries are ordinary long-mode entries; the
 * guest's accesses count as user accesses, so every level grants U (15.25.5). */
#include "svm/svm.h"

#include "core/memmap.h"
#include "core/memory.h"
#include "core/paging.h"

#define NPT_FLAGS (PTE_W | PTE_U)
#define NPT_MIN_TOP (4ull << 30) /* MMIO (APIC, I/O APIC, PCI holes) lives below 4 GiB */

/* Maps [from, to) 1:1, with the APIC page (if inside) as a read-only 4 KiB page. */
static int map_with_apic(struct paging *npt, uint64_t from, uint64_t to, uint64_t apic_page)
{
	if (apic_page >= from && apic_page < to) {
		if (apic_page > from && paging_map(npt, from, from, apic_page - from, NPT_FLAGS))
			return -1;
		if (paging_map(npt, apic_page, apic_page, PAGE_4K, PTE_U))
			return -1;
		from = apic_page + PAGE_4K;
	}
	return to > from ? paging_map(npt, from, from, to - from, NPT_FLAGS) : 0;
}

uint64_t svm_npt_build(const struct machine *m, uint64_t apic_page)
{
	const struct guest_memmap *g = &m->guest_map;
	struct paging npt;
	if (paging_init(&npt, &nestbed_frames, identity_frame_ptr))
		return 0;
	npt.allow_1g = m->caps.page1gb;

	uint64_t top = NPT_MIN_TOP;
	for (uint32_t i = 0; i < g->nr_ranges; i++)
		if (g->ranges[i].base + g->ranges[i].length > top)
			top = g->ranges[i].base + g->ranges[i].length;
	top = (top + PAGE_1G - 1) & ~(PAGE_1G - 1);

	/* Only nestbed's ranges (page aligned, sorted) are holes; the rest is the guest's,
	 * RAM, MMIO and firmware alike. */
	uint64_t cursor = 0;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		if (g->ranges[i].type != MEM_NESTBED)
			continue;
		if (g->ranges[i].base > cursor &&
		    map_with_apic(&npt, cursor, g->ranges[i].base, apic_page))
			return 0;
		cursor = g->ranges[i].base + g->ranges[i].length;
	}
	if (top > cursor && map_with_apic(&npt, cursor, top, apic_page))
		return 0;
	return npt.root;
}
