/* x86-64 4-level page tables (SDM vol.3 4.5; APM vol.2 5.3): nestbed's own address
 * space, and the same format serves AMD NPT. The tables are built by the paging engine
 * (core/tdp.h) with the x86-64 entry format defined here; struct paging is that engine
 * seen with this format. Frames come from a frame_alloc; table memory is reached through
 * frame_ptr so the logic also runs on the host. */
#ifndef NESTBED_PAGING_H
#define NESTBED_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/x86.h"
#include "core/frame_alloc.h"
#include "core/tdp.h"

#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PAGE_4K (1ull << 12)
#define PAGE_2M (1ull << 21)
#define PAGE_1G (1ull << 30)

/* The x86-64 long-mode format for the engine: P means present, bit 63 is NX. */
extern const struct tdp_format tdp_format_x86_64;

struct paging {
	struct frame_alloc *fa;
	void *(*frame_ptr)(uint64_t phys); /* where table memory is reachable */
	uint64_t root;                     /* physical address of the PML4 */
	bool allow_1g;                     /* CPUID 8000_0001h EDX[26] Page1GB */
};

/* The engine's view of pg (x86-64 format, 2 MiB pages always allowed). */
struct tdp paging_as_tdp(const struct paging *pg);

int paging_init(struct paging *pg, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t));

/* Maps [virt, virt+size) to [phys, ...) with `flags` (PTE_P is implied), using the
 * largest pages the alignment allows. Both addresses and size must be 4 KiB aligned.
 * Returns 0, or -1 when frames run out, a mapping is in the way, or flags has bits of
 * the address field (bit 12, PAT, only in a large page) (the caller maps fresh ranges;
 * remapping is not supported). */
int paging_map(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t size, uint64_t flags);

/* Sets the 4 KiB leaf for virt (creating tables; replacing what was there). 0 or -1 when
 * frames run out or a large page covers virt. */
int paging_set_4k(struct paging *pg, uint64_t virt, uint64_t phys, uint64_t flags);

/* Changes the 4 KiB leaf for virt: entry = (entry & ~clear) | set, splitting a large
 * page that covers virt into smaller ones with the same mapping first. 0, or -1 when virt
 * is not mapped or frames run out. */
int paging_update_4k(struct paging *pg, uint64_t virt, uint64_t clear, uint64_t set);

/* Frees every table frame (the root included); the mapping is gone, root becomes 0. */
void paging_free_tables(struct paging *pg);

/* Walks the tables: returns 0 and the physical address and the leaf's page size, or -1
 * if virt is not mapped. */
int paging_translate(const struct paging *pg, uint64_t virt, uint64_t *phys, uint64_t *page_size);

#endif
