/* See boot_paging.h. */
#include "core/boot_paging.h"

#include "core/cpu.h"
#include "core/cpu_caps.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/platform.h"

void boot_identity_paging(const struct boot_info *bi, struct paging *pg)
{
	if (frame_alloc_init(&nestbed_frames, bi->heap_phys, bi->heap_size))
		fatal("heap [%#llx, +%#llx) unusable", (unsigned long long)bi->heap_phys,
		      (unsigned long long)bi->heap_size);
	if (paging_init(pg, &nestbed_frames, identity_frame_ptr))
		fatal("out of memory for page tables");
	pg->allow_1g = (cpuid(0x80000001u, 0).edx & CPUID_80000001_EDX_PAGE1GB) != 0;
	if (paging_map(pg, 0, 0, memmap_identity_end(bi->ranges, bi->nr_ranges), PTE_W))
		fatal("out of memory for page tables");
}
