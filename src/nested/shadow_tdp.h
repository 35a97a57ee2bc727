/* The shadow-TDP fault algorithm, one for nested NPT and nested EPT (after Xen's nested
 * HAP, xen/arch/x86/mm/hap/nested_hap.c: walk L1's table, compose with L1->host, install
 * in the shadow table, or hand the fault to L1). An L2 runs on a shadow table that maps
 * L2-physical addresses straight to host-physical ones: L1's table (walked by the
 * vendor's walker, nested/npt_walk.c or nested/ept_walk.c) composed with nestbed's own
 * (the identity, minus nestbed's memory), built by the paging engine (core/tdp.h) in the
 * vendor's entry format.
 *
 * This file is the pure part, host-tested: what a completed walk of L1's table means
 * (shadow_tdp_decide) and the installation of the leaf (shadow_tdp_install).
 * shadow_tdp_fault.c runs it for a vCPU with the vendor's hands (struct shadow_tdp_ops). */
#ifndef NESTBED_SHADOW_TDP_H
#define NESTBED_SHADOW_TDP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tdp.h"

/* A vendor walker's answer, in neutral terms. */
enum shadow_tdp_walk_rc {
	SHADOW_TDP_WALK_OK,         /* L1's table maps the address with these rights */
	SHADOW_TDP_WALK_L1_FAULT,   /* L1's table faults: L1's exit (NPF, EPT violation or
				       misconfiguration), in the vendor's format */
	SHADOW_TDP_WALK_UNREADABLE, /* one of L1's tables lies outside L1's memory */
};

struct shadow_tdp_walk {
	enum shadow_tdp_walk_rc rc;
	uint64_t l1_pa;      /* on OK: the L1-physical address L2's access maps to */
	unsigned perms;      /* on OK: TDP_R/W/X L1's table grants (every level) */
	uint64_t leaf_extra; /* on OK: the vendor's leaf bits the shadow keeps (EPT memory
				type and ignore-PAT) */
	uint64_t l1_exit;    /* on L1_FAULT: the vendor's exit code for L1 */
	uint64_t l1_info;    /* on L1_FAULT: its EXITINFO1 / exit qualification */
};

/* What nestbed knows of L1's memory, for the decision. */
struct shadow_tdp_host {
	/* Does [pa, pa+len) touch nestbed's memory? (nestbed_owns_range) */
	bool (*owns)(uint64_t pa, uint64_t len);
	/* Is L1's page at pa write-tracked (nested/map_track.h)? May be NULL. */
	bool (*tracked)(uint64_t pa);
	uint64_t apic_page; /* the xAPIC page nestbed keeps read-only (0: none) */
};

enum shadow_tdp_action {
	SHADOW_TDP_INSTALL,      /* put `leaf` in the shadow table, L2 resumes */
	SHADOW_TDP_REFLECT,      /* L1's fault: its exit */
	SHADOW_TDP_L1_TABLE_BAD, /* L1's table is outside its memory: a guest failure */
	SHADOW_TDP_HOST_MEMORY,  /* L1 maps its guest onto nestbed's memory: a guest failure,
				    never a shadow entry */
};

struct shadow_tdp_leaf {
	uint64_t gpa;   /* L2-physical page */
	uint64_t hpa;   /* host-physical page */
	unsigned perms; /* TDP_R/W/X the shadow entry gives */
	uint64_t extra; /* the walk's leaf_extra */
};

/* From L1's walk to what the fault means. On INSTALL, *leaf is the shadow entry: 4 KiB,
 * L1's rights less write where nestbed keeps the page read-only (its xAPIC page, a
 * write-tracked permission map), the target L1's address (L1->host is the identity
 * outside nestbed's memory, which never appears in a shadow entry). */
enum shadow_tdp_action shadow_tdp_decide(const struct shadow_tdp_host *host, uint64_t gpa,
					 const struct shadow_tdp_walk *w, struct shadow_tdp_leaf *leaf);

/* Puts leaf in the shadow table with the vendor's attributes. When frames run out the
 * table is started over (as a TLB flush would: it is only a cache of L1's table) and
 * the leaf put in the new one. 0: installed; 1: installed in a new table (the caller
 * points the CPU at shadow->root and flushes); -1: out of memory. */
int shadow_tdp_install(struct tdp *shadow, const struct shadow_tdp_leaf *leaf, uint64_t attrs);

/* Sets or clears write permission of L1's page gpa in nestbed's own table for L1 (its
 * NPT or EPT), where that table maps the page to itself (write tracking of permission
 * maps, nested/map_track.h), splitting a large page. 0 done, 1 not an identity page of
 * that table (nothing done), -1 out of frames. */
int shadow_tdp_l1_set_writable(struct tdp *l1_table, uint64_t gpa, bool writable);

#endif
