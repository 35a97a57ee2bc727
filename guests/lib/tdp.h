/* Two-dimensional paging for the mini-hypervisor's L2: one builder for AMD's nested
 * page tables (NPT: the long-mode page-table format, APM vol.2 15.25) and Intel's
 * extended page tables (EPT, SDM vol.3C 29.3), starting as an identity map of the
 * first 4 GiB in 2 MiB pages so that L2 sees L1's memory, then restricted 4 KiB page by
 * 4 KiB page by probes. Pure: compiled for the host tests too, where "physical
 * addresses" are the pool's own addresses. */
#ifndef GUEST_TDP_H
#define GUEST_TDP_H

#include <stdbool.h>
#include <stdint.h>

enum tdp_format {
	TDP_NPT,
	TDP_EPT,
};

/* Access rights of a 4 KiB page; 0 = not present. NPT cannot express write-only or
 * execute-only pages (R is the present bit there): tdp_set_page refuses them. */
#define TDP_R 1u
#define TDP_W 2u
#define TDP_X 4u
#define TDP_RWX (TDP_R | TDP_W | TDP_X)

#define TDP_PAGE_SIZE 4096u
#define TDP_POOL_PAGES 24
#define TDP_IDENTITY_END 0x100000000ull /* 4 GiB */

/* Entry bits. NPT: APM vol.2 5.3.3 (U must be set: nested walks are user accesses). */
#define NPT_P   (1ull << 0)
#define NPT_W   (1ull << 1)
#define NPT_U   (1ull << 2)
#define NPT_PS  (1ull << 7)
#define NPT_NX  (1ull << 63)
/* EPT: SDM vol.3C 29.3.2, Tables 29-1..29-6. */
#define EPT_R   (1ull << 0)
#define EPT_W   (1ull << 1)
#define EPT_X   (1ull << 2)
#define EPT_MEMTYPE_WB (6ull << 3)
#define EPT_PS  (1ull << 7)
#define TDP_ADDR_MASK 0x000ffffffffff000ull

struct tdp {
	enum tdp_format format;
	uint64_t (*pool)[TDP_POOL_PAGES][512]; /* 4 KiB-aligned pages */
	unsigned used;
	uint64_t *root;                        /* the PML4 (page 0 of the pool) */
};

/* Builds the identity map over [0, 4 GiB) in pool (4 KiB aligned). Returns 0, or -1
 * when the pool is too small. */
int tdp_build_identity(struct tdp *t, enum tdp_format format,
		       uint64_t (*pool)[TDP_POOL_PAGES][512]);
/* The root's physical address (for N_CR3; EPTP adds its own low bits). */
uint64_t tdp_root_pa(const struct tdp *t);
/* Sets the rights of the 4 KiB page at gpa (splitting its 2 MiB page first). Returns
 * 0, or -1: gpa outside the map, pool exhausted, or rights the format cannot express. */
int tdp_set_page(struct tdp *t, uint64_t gpa, unsigned rights);
/* The 4 KiB leaf entry for gpa (after a split), for probes that write odd entries
 * (reserved bits, misconfigurations); NULL on error. */
uint64_t *tdp_leaf_entry(struct tdp *t, uint64_t gpa);
/* The rights the tables give gpa (walking them as the CPU would, ignoring reserved
 * bits); 0 when not present. */
unsigned tdp_rights(const struct tdp *t, uint64_t gpa);
/* The entry value a leaf with these rights has in this format. */
uint64_t tdp_leaf_value(enum tdp_format format, uint64_t pa, unsigned rights, bool large);

#endif
