/* nestbed's own page tables, as both entry paths (Multiboot, UEFI) build them before the
 * core starts. */
#ifndef NESTBED_BOOT_PAGING_H
#define NESTBED_BOOT_PAGING_H

#include "core/boot_info.h"
#include "core/paging.h"

/* Starts the frame allocator over nestbed's heap (bi->heap_*) and builds pg: every
 * address below memmap_identity_end mapped 1:1 and writable (all memory, and the MMIO
 * below 4 GiB), with 1 GiB pages where the CPU has them. Fatal on failure. */
void boot_identity_paging(const struct boot_info *bi, struct paging *pg);

#endif
