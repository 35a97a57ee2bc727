/* The one engine for 4-level page tables, two-dimensional or not: nestbed's own address
 * space, the primary guest's NPT and EPT, the IOMMU's second level and the nested
 * layer's shadow tables are all built, changed, walked and freed here. What differs
 * between the formats is data (struct tdp_format): the x86-64 long-mode format
 * (SDM vol.3 4.5, APM vol.2 5.3; AMD NPT uses it, APM vol.2 15.25.5) is defined in
 * core/paging.c, the EPT format (SDM vol.3 29.3.2) in vmx/vmx_ept.c.
 *
 * Both formats share the shape the engine relies on: 512 8-byte entries a table, bits
 * 51:12 the address of the next table or of the page, bit 7 "this PDPTE/PDE maps a
 * 1 GiB/2 MiB page". Pure and host-tested: table memory is reached through frame_ptr,
 * frames come from a frame_alloc. */
#ifndef NESTBED_TDP_H
#define NESTBED_TDP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/frame_alloc.h"

#define TDP_LEVELS 4 /* 4: PML4 ... 1: PT */
#define TDP_ENTRIES 512
#define TDP_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define TDP_LARGE (1ull << 7)               /* PS (x86-64) / "page" (EPT) in a PDPTE or PDE */
#define TDP_PAGE_4K (1ull << 12)
#define TDP_PAGE_2M (1ull << 21)
#define TDP_PAGE_1G (1ull << 30)

/* Neutral permissions of a translation: what tdp_walk reports. */
#define TDP_R 1u
#define TDP_W 2u
#define TDP_X 4u

struct tdp_format {
	const char *name;
	uint64_t present;      /* an entry is present when any of these bits is set */
	uint64_t table_bits;   /* a non-leaf entry: next table | table_bits (grants everything;
				  the leaf decides) */
	uint64_t leaf_bits;    /* ORed into every leaf (x86-64: P) */
	uint64_t attr_4k;      /* the bits a 4 KiB leaf's attributes may have */
	uint64_t attr_large;   /* the same for a 2 MiB/1 GiB leaf (x86-64: bit 12 is PAT there) */
	uint64_t split_keep;   /* the bits of a large leaf its smaller pieces inherit */
	/* permissions: readable when every level has r; writable when every level has w;
	   executable when every level has x (if x is nonzero) and no level has nx */
	uint64_t r, w, x, nx;
	/* memory type field (EPT bits 5:3) and the set of its reserved values, a bit per
	   value; mt_mask 0: the format has none */
	uint64_t mt_mask;
	unsigned mt_shift;
	uint8_t mt_reserved;
	/* attribute combinations that are a misconfiguration (EPT: write without read),
	   checked after the masks; 0 (none) when bad_rw_mask is 0 */
	uint64_t bad_rw_mask, bad_rw_value[2];
};

struct tdp {
	const struct tdp_format *fmt;
	struct frame_alloc *fa;
	void *(*frame_ptr)(uint64_t phys); /* where table memory is reachable */
	uint64_t root;                     /* physical address of the PML4 */
	bool allow_2m;                     /* may map 2 MiB pages */
	bool allow_1g;                     /* may map 1 GiB pages */
};

/* Allocates the root. 0, or -1 when frames run out. */
int tdp_init(struct tdp *t, const struct tdp_format *fmt, struct frame_alloc *fa,
	     void *(*frame_ptr)(uint64_t));

/* Is attrs a valid leaf for that page size (no bit outside the format's attributes, no
 * reserved memory type, no misconfigured combination, present)? */
bool tdp_attrs_valid(const struct tdp_format *fmt, uint64_t attrs, uint64_t page_size);

/* The leaf mapping hpa (aligned to page_size) with attrs. */
uint64_t tdp_leaf(const struct tdp_format *fmt, uint64_t hpa, uint64_t page_size, uint64_t attrs);

/* Maps [gpa, gpa+size) to [hpa, ...) with attrs, using the largest pages alignment,
 * size and allow_2m/allow_1g permit. 4 KiB aligned. 0, or -1 when the arguments are
 * bad (alignment, an address beyond 52 bits, attrs not valid), frames run out, or
 * something is already mapped there (remapping is tdp_set_4k's or tdp_unmap's). */
int tdp_map(struct tdp *t, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t attrs);

/* Sets the 4 KiB leaf for gpa (creating tables; replacing what was there). 0, or -1
 * when the arguments are bad, frames run out or a large page covers gpa. */
int tdp_set_4k(struct tdp *t, uint64_t gpa, uint64_t hpa, uint64_t attrs);

/* Changes the 4 KiB leaf for gpa: entry = (entry & ~clear) | set, splitting a large
 * page that covers gpa into smaller ones with the same mapping first. 0, or -1 when gpa
 * is not mapped or frames run out. */
int tdp_update_4k(struct tdp *t, uint64_t gpa, uint64_t clear, uint64_t set);

/* Removes every mapping of [gpa, gpa+size) (4 KiB aligned), splitting a large page that
 * lies partly outside; holes are skipped, tables stay. 0, or -1 on bad arguments or
 * when frames run out for a split (what was done stays done). */
int tdp_unmap(struct tdp *t, uint64_t gpa, uint64_t size);

struct tdp_walk_result {
	uint64_t hpa;       /* the translation */
	uint64_t page_size; /* 4 KiB, 2 MiB or 1 GiB (512 GiB if a PML4E had bit 7) */
	uint64_t leaf;      /* the leaf entry */
	int level;          /* the leaf's level */
	unsigned perms;     /* TDP_R/W/X over every level */
	unsigned memtype;   /* the leaf's memory type field (0 without one) */
};

/* Walks the tables: 0 with *r, or -1 when gpa is not mapped (r untouched). */
int tdp_walk(const struct tdp *t, uint64_t gpa, struct tdp_walk_result *r);

/* Frees every table frame (the root included); root becomes 0. */
void tdp_free(struct tdp *t);

#endif
