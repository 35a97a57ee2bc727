/* Walking an L1 hypervisor's nested page tables in the AMD64 long-mode format (APM
 * vol.2 15.25.5: every access through NPT is a user access; NX counts when the L1's
 * EFER.NXE is set). Pure: L1 memory is read through a callback. */
#ifndef NESTBED_NPT_WALK_H
#define NESTBED_NPT_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/x86.h"

/* #PF-style error code bits (APM vol.2 8.4.2), as an NPF's EXITINFO1 carries them. */
#define NPT_FAULT_PRESENT (1ull << 0)
#define NPT_FAULT_WRITE (1ull << 1)
#define NPT_FAULT_USER (1ull << 2)
#define NPT_FAULT_RESERVED (1ull << 3)
#define NPT_FAULT_FETCH (1ull << 4)

struct npt_walk_ctx {
	uint64_t root;            /* nCR3 */
	bool nxe;                 /* the L1's EFER.NXE */
	bool smep;                /* the L1's CR4.SMEP: with nxe, whether a fetch fault
				     reports NPT_FAULT_FETCH (APM vol.2 8.4.2: I/D is set for
				     a fetch only when EFER.NXE or CR4.SMEP is 1; a nested walk
				     is the host's, 15.25.5) */
	uint64_t phys_addr_mask;  /* bits above MAXPHYADDR */
	int (*read_phys)(void *ctx, uint64_t pa, uint64_t *value);
	void *ctx;
};

struct npt_walk_result {
	uint64_t pa;              /* the translation (on success) */
	uint64_t page_size;
	bool writable, executable;
	uint64_t fault;           /* on failure: NPT_FAULT_* bits (PRESENT: a permission or
				     reserved-bit fault on a present entry) */
};

/* 0 on success; -1 with result->fault set; -2 when a table is unreadable. */
int npt_walk(const struct npt_walk_ctx *c, uint64_t gpa, bool write, bool fetch,
	     struct npt_walk_result *result);

#endif

/* The walker in the shadow-TDP algorithm's terms (nested/shadow_tdp.h): a walk for an
 * NPF whose EXITINFO1 was hw_info1. L1's fault is an NPF (exit 400h) with L1's error
 * code and the hardware's bits 33:32 (final address or guest page-table walk). */
struct shadow_tdp_walk;
void npt_walk_for_shadow(const struct npt_walk_ctx *c, uint64_t gpa, bool write, bool fetch,
			 uint64_t hw_info1, struct shadow_tdp_walk *w);
