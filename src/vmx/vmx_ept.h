/* Extended page tables (SDM vol.3 28.2): the EPT entry format for the paging engine
 * (core/tdp.h), struct ept (the engine seen with that format), and the identity plan of
 * the primary guest. Pure, host-tested: table memory is reached through frame_ptr as in
 * core/paging.h. */
#ifndef NESTBED_VMX_EPT_H
#define NESTBED_VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/boot_info.h"
#include "core/frame_alloc.h"
#include "core/tdp.h"

/* EPT paging-structure entries, SDM vol.3 28.2.2 (tables 28-1 to 28-6). */
#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3 /* leaf entries only: bits 5:3 */
#define EPT_MEMTYPE_MASK (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE_PAGE (1ull << 7) /* in a PDPTE (1 GiB) or PDE (2 MiB): maps a page */
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull
/* Bits a non-leaf entry must keep clear (28.2.3.1: 7:3 reserved in PML4Es and in
 * PDPTEs/PDEs that reference a table). */
#define EPT_TABLE_RESERVED (0x1full << 3)

/* EPT memory types, 28.2.6 (the IA32_PAT/MTRR encodings). */
#define EPT_MEMTYPE_UC 0u
#define EPT_MEMTYPE_WB 6u

/* EPT pointer, SDM vol.3 24.6.11. */
#define EPTP_MEMTYPE_SHIFT 0
#define EPTP_WALK_LENGTH_SHIFT 3 /* page-walk length minus 1 */
#define EPTP_AD_ENABLE (1ull << 6)
#define EPT_LEVELS 4

#define EPT_PAGE_4K (1ull << 12)
#define EPT_PAGE_2M (1ull << 21)
#define EPT_PAGE_1G (1ull << 30)

/* The EPT format for the engine: R/W/X, memory type in bits 5:3 of a leaf. */
extern const struct tdp_format tdp_format_ept;

struct ept {
	struct frame_alloc *fa;
	void *(*frame_ptr)(uint64_t phys);
	uint64_t root;  /* the PML4's physical address */
	bool allow_2m;  /* IA32_VMX_EPT_VPID_CAP[16] */
	bool allow_1g;  /* IA32_VMX_EPT_VPID_CAP[17] */
};

/* An entry that references the next table: read, write and execute for everything
 * below (the leaf decides). */
uint64_t ept_table_entry(uint64_t table_phys);
/* A leaf mapping hpa (aligned to page_size: 4K, 2M or 1G) RWX with `memtype`, the PAT
 * not ignored (the guest's PAT combines with it as on bare metal, 28.2.6.2). */
uint64_t ept_leaf_entry(uint64_t hpa, uint64_t page_size, unsigned memtype);
/* The EPTP for a 4-level table at root, its structures accessed with `memtype`, A/D off. */
uint64_t ept_pointer(uint64_t root, unsigned memtype);

/* The engine's view of ept (EPT format). */
struct tdp ept_as_tdp(const struct ept *ept);

/* Allocates the PML4; -1 when frames run out. */
int ept_init(struct ept *ept, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t));
/* Maps [gpa, gpa+size) to [hpa, ...) with the largest pages alignment and size allow.
 * 4 KiB aligned. Returns -1 when frames run out or the range is already mapped. */
int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned memtype);
/* 0 and the host address, page size and leaf entry of gpa, or -1 when not mapped. */
int ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *page_size,
		  uint64_t *leaf);

/* One piece of the identity plan: [base, base+size) mapped 1:1 with memtype. */
struct ept_region {
	uint64_t base, size;
	unsigned memtype;
};
#define EPT_PLAN_MAX (2 * BOOT_MAX_MEM_RANGES + 2)

/* The primary guest's identity map from its memory map: everything from 0 to the
 * highest range end (at least min_top, rounded up to 1 GiB) except nestbed's ranges;
 * RAM (usable, ACPI) write-back, the rest (MMIO, firmware, holes) uncacheable. Pages are
 * 4 KiB: a RAM range is widened and nestbed's ranges too, so nothing of nestbed is ever
 * mapped. Returns the number of regions, sorted, or -1 if more than max. */
int ept_identity_plan(const struct mem_range *ranges, uint32_t count, uint64_t min_top,
		      struct ept_region *out, uint32_t max);

/* Gives the 4 KiB page at gpa the permissions perms (EPT_READ/WRITE/EXEC), splitting
 * the large page that maps it. 0, or -1 when gpa is unmapped or frames run out. */
int ept_set_4k_permissions(struct ept *ept, uint64_t gpa, uint64_t perms);

#endif
