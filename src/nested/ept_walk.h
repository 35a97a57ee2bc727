/* Walking an L1 hypervisor's EPT paging structures (Intel SDM vol.3 28.2.2 translation,
 * 28.2.3.1 misconfigurations, 28.2.3.2 violations, 28.2.3.3 their priority, 28.2.6
 * memory type, 28.2.4 accessed/dirty flags) and the EPT-violation exit qualification
 * (27.2.1, "Exit Qualification for EPT Violations"). Pure: L1 memory is reached through
 * callbacks, so the walker is host-tested and builds the nested VT-x layer's shadow EPT.
 *
 * What the walker models: 4-level EPT only (the EPTP's page-walk length must be 3);
 * execute-only entries and 1 GiB pages as the capabilities offered to L1 say; 2 MiB
 * pages always (bit 7 of a PDE is never reserved here, so nestbed must offer
 * IA32_VMX_EPT_VPID_CAP[16] to L1, as every EPT-capable processor does). Not modelled (nestbed does not offer them to L1, so those bits stay
 * ignored): mode-based execute control (bit 10, qualification bit 6), sub-page write
 * permissions, supervisor shadow stacks, guest-paging verification, #VE (bit 63).
 * Bits 63:48 of the guest-physical address are not looked at (a 4-level walk
 * translates 48 bits). */
#ifndef NESTBED_NESTED_EPT_WALK_H
#define NESTBED_NESTED_EPT_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* The access being translated; the same bits as the EPT-violation exit qualification's
 * bits 2:0 (27.2.1). Several may be combined (a read-modify-write is READ|WRITE). */
#define EPT_ACCESS_READ 1u
#define EPT_ACCESS_WRITE 2u
#define EPT_ACCESS_FETCH 4u
#define EPT_ACCESS_ALL (EPT_ACCESS_READ | EPT_ACCESS_WRITE | EPT_ACCESS_FETCH)
/* Qualification bits 5:3 are the R/W/X permissions shifted by this (27.2.1). */
#define EPT_QUAL_PERMS_SHIFT 3

/* ept_walk's results. */
#define EPT_WALK_OK 0
#define EPT_WALK_VIOLATION (-1)
#define EPT_WALK_MISCONFIG (-2)
#define EPT_WALK_UNREADABLE (-3)

struct ept_walk_ctx {
	uint64_t eptp;             /* L1's EPT pointer (24.6.11): PML4 address, memory type, page-walk length - 1, A/D enable */
	uint64_t phys_addr_mask;   /* the address bits below MAXPHYADDR, e.g. (1ull<<maxphyaddr)-1 */
	bool exec_only;            /* IA32_VMX_EPT_VPID_CAP[0] as offered to L1: execute-only entries (R=0,W=0,X=1) allowed */
	bool page_1g;              /* IA32_VMX_EPT_VPID_CAP[17] as offered to L1: a PDPTE may map a 1 GiB page;
				      when false, bit 7 of a PDPTE is reserved (28.2.2) */
	int (*read_phys)(void *ctx, uint64_t pa, uint64_t *value);  /* 8 bytes of L1-physical memory: 0 or -1 */
	/* Optional (may be NULL): 8 bytes written to L1-physical memory, 0 or -1. When set
	 * and EPTP[6] enables accessed/dirty flags, a successful translation sets the
	 * accessed flag (bit 8) in every entry used and, for a write, the dirty flag (bit 9)
	 * in the leaf (28.2.4), as KVM does: only when no violation occurs. The update is a
	 * plain read-modify-write, not atomic: L1's vCPUs must not run concurrently with the
	 * walk. When NULL, A/D flags are never written and nestbed must not offer EPT A/D
	 * (IA32_VMX_EPT_VPID_CAP[21]) to L1. With A/D enabled, accesses to L2's own paging
	 * structures count as writes (28.2.4): the caller passes EPT_ACCESS_WRITE for them. */
	int (*write_phys)(void *ctx, uint64_t pa, uint64_t value);
	void *ctx;
};

struct ept_walk_result {
	uint64_t pa;               /* L1-physical address the gpa translates to, on success */
	uint64_t page_size;        /* 4 KiB, 2 MiB or 1 GiB */
	unsigned perms;            /* EPT_ACCESS_* allowed by every level (AND of R/W/X over the entries walked) */
	unsigned memtype;          /* the leaf's EPT memory type (bits 5:3) */
	bool ipat;
	uint64_t qualification;    /* on -1 (violation): exit-qualification bits 0-2 (the access) and 3-5 (R/W/X AND over the entries walked; 0 when an entry is not present), bits 7-8 and higher left to the caller */
	int level;                 /* the level of the last entry read: 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE (0 if none):
				      the leaf on success, the offending entry on -1/-2/-3 */
	uint64_t entry;            /* that entry's value (0 when -3 or none read) */
};

/* 0 translated; -1 EPT violation; -2 EPT misconfiguration (28.2.3.1); -3 a table
 * unreadable (or an A/D update unwritable).
 * On success every field is set (qualification 0). On -1 qualification, perms, level and
 * entry are set, and when the leaf was reached (a permission violation) pa, page_size,
 * memtype and ipat too. On -2 and -3 level and entry say where; qualification is 0.
 * Priority (28.2.3.3): entries are examined from the PML4E down; a not-present entry
 * ends the walk with a violation, a misconfigured present entry with a misconfiguration;
 * permissions are checked only once the leaf is reached, so a misconfiguration or a
 * not-present entry below wins over missing permissions above. */
int ept_walk(const struct ept_walk_ctx *c, uint64_t gpa, unsigned access, struct ept_walk_result *r);

/* The qualification bits of the CPU's own EPT violation (L0's, on the shadow EPT) that
 * L1's EPT-violation exit keeps (27.2.1, Table 27-7): 7 (guest-linear address valid),
 * 8 (access to the final translation, not a paging-structure entry) and 12 (NMI
 * unblocking due to IRET). The others mean features nestbed does not offer to L1:
 * 6 mode-based execute control, 9-11 the advanced VM-exit information for EPT
 * violations (IA32_VMX_EPT_VPID_CAP[22]), 13-14 shadow stacks, 15 guest-paging
 * verification, 16 Intel PT; an L1 that was told they do not exist sees them clear,
 * whatever the CPU beneath reports. */
#define EPT_QUAL_FROM_CPU ((1ull << 7) | (1ull << 8) | (1ull << 12))

/* L1's EPT-violation qualification: bits 5:0 from the walk (r, after -1), the bits
 * EPT_QUAL_FROM_CPU from the CPU's qualification cpu_qual, every other bit 0. */
uint64_t ept_violation_qualification(const struct ept_walk_result *r, uint64_t cpu_qual);

#endif

/* The walker in the shadow-TDP algorithm's terms (nested/shadow_tdp.h): a walk for the
 * access (EPT_ACCESS_*) of an EPT violation whose qualification was cpu_qual. L1's fault
 * is exit 48 with ept_violation_qualification's bits, or exit 49 (misconfiguration,
 * qualification 0); the shadow keeps L1's memory type and ignore-PAT. */
struct shadow_tdp_walk;
void ept_walk_for_shadow(const struct ept_walk_ctx *c, uint64_t gpa, unsigned access, uint64_t cpu_qual,
			 struct shadow_tdp_walk *w);
