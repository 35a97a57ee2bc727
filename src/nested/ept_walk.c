#include "nested/ept_walk.h"

#include "nested/shadow_tdp.h"

#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"

/* The access bits are the qualification's bits 2:0 and the entries' bits 2:0 (27.2.1,
 * 28.2.2), so one AND and one shift make the qualification. */
_Static_assert(EPT_ACCESS_READ == VMX_EPT_QUAL_READ && EPT_ACCESS_READ == EPT_READ, "read bit");
_Static_assert(EPT_ACCESS_WRITE == VMX_EPT_QUAL_WRITE && EPT_ACCESS_WRITE == EPT_WRITE, "write bit");
_Static_assert(EPT_ACCESS_FETCH == VMX_EPT_QUAL_FETCH && EPT_ACCESS_FETCH == EPT_EXEC, "fetch bit");
_Static_assert((EPT_READ << EPT_QUAL_PERMS_SHIFT) == VMX_EPT_QUAL_READABLE &&
		       (EPT_EXEC << EPT_QUAL_PERMS_SHIFT) == VMX_EPT_QUAL_EXECUTABLE,
	       "permission bits 5:3");

#define ENTRY_BYTES 8
#define INDEX_BITS 9 /* 512 entries a table */
#define INDEX_MASK ((1ull << INDEX_BITS) - 1)
#define LEVEL_PML4 4
#define LEVEL_PDPT 3
#define LEVEL_PD 2
#define LEVEL_PT 1
#define EPT_LEVEL_SHIFT(level) (12 + INDEX_BITS * ((level) - 1))

/* EPTP bits 5:3, the page-walk length minus 1 (24.6.11): only 4-level walks exist here. */
#define EPTP_WALK_LENGTH_MASK (7ull << EPTP_WALK_LENGTH_SHIFT)
#define EPTP_WALK_LENGTH_4 ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT)

/* Bits 2:0 of an entry (28.2.3.1): write without read (010b, 110b) is always a
 * misconfiguration, execute-only (100b) unless the capability is offered. */
#define RWX_WRITE_ONLY EPT_WRITE
#define RWX_WRITE_EXEC (EPT_WRITE | EPT_EXEC)
#define RWX_EXEC_ONLY EPT_EXEC

/* EPT memory types 2, 3 and 7 are reserved in a leaf (28.2.3.1, 28.2.6). */
#define EPT_MEMTYPE_RESERVED_2 2u
#define EPT_MEMTYPE_RESERVED_3 3u
#define EPT_MEMTYPE_RESERVED_7 7u

/* The memory-type field of an entry and its RWX bits (28.2.2). */
static unsigned entry_memtype(uint64_t e)
{
	return (unsigned)((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT);
}

static bool memtype_reserved(unsigned t)
{
	return t == EPT_MEMTYPE_RESERVED_2 || t == EPT_MEMTYPE_RESERVED_3 || t == EPT_MEMTYPE_RESERVED_7;
}

/* A present entry at `level` that maps a page (large) or references a table: is it
 * misconfigured (28.2.3.1)? Reserved bits per tables 28-1 to 28-6 of 28.2.2. */
static bool misconfigured(const struct ept_walk_ctx *c, uint64_t e, int level, bool leaf)
{
	uint64_t rwx = e & EPT_RWX;
	if (rwx == RWX_WRITE_ONLY || rwx == RWX_WRITE_EXEC)
		return true;
	if (rwx == RWX_EXEC_ONLY && !c->exec_only)
		return true;
	/* Bits 51:MAXPHYADDR, in every entry. */
	if (e & EPT_ADDR_MASK & ~c->phys_addr_mask)
		return true;
	if (!leaf)
		/* PML4Es, and PDPTEs/PDEs referencing a table: bits 7:3 (bit 7 of a PML4E,
		 * and of a PDPTE when 1 GiB pages are not offered, lands here as not a leaf). */
		return (e & EPT_TABLE_RESERVED) != 0;
	/* A large page's address bits below its size (29:12 or 20:12); a PTE has none. */
	if (level > LEVEL_PT && (e & EPT_ADDR_MASK & ((1ull << EPT_LEVEL_SHIFT(level)) - 1)))
		return true;
	return memtype_reserved(entry_memtype(e));
}

/* Is the entry read at `level` the last one of the walk? Bit 7 maps a page in a PDE
 * always and in a PDPTE when 1 GiB pages are offered; it is ignored in a PTE. */
static bool is_leaf(const struct ept_walk_ctx *c, uint64_t e, int level)
{
	if (level == LEVEL_PT)
		return true;
	if (!(e & EPT_LARGE_PAGE))
		return false;
	return level == LEVEL_PD || (level == LEVEL_PDPT && c->page_1g);
}

/* Sets A in every entry walked and D in the leaf on writes (28.2.4). */
static int set_accessed_dirty(const struct ept_walk_ctx *c, const uint64_t *addrs,
			      const uint64_t *entries, int count, bool write)
{
	for (int i = 0; i < count; i++) {
		uint64_t want = entries[i] | EPT_ACCESSED;
		if (write && i == count - 1)
			want |= EPT_DIRTY;
		if (want != entries[i] && c->write_phys(c->ctx, addrs[i], want))
			return -1;
	}
	return 0;
}

int ept_walk(const struct ept_walk_ctx *c, uint64_t gpa, unsigned access, struct ept_walk_result *r)
{
	uint64_t addrs[EPT_LEVELS], entries[EPT_LEVELS];
	unsigned perms = EPT_ACCESS_ALL;
	access &= EPT_ACCESS_ALL;
	*r = (struct ept_walk_result){0};
	if ((c->eptp & EPTP_WALK_LENGTH_MASK) != EPTP_WALK_LENGTH_4)
		return EPT_WALK_MISCONFIG;
	uint64_t table = c->eptp & EPT_ADDR_MASK & c->phys_addr_mask;
	for (int level = LEVEL_PML4, n = 0; level >= LEVEL_PT; level--, n++) {
		uint64_t addr = table + ((gpa >> EPT_LEVEL_SHIFT(level)) & INDEX_MASK) * ENTRY_BYTES;
		uint64_t e;
		r->level = level;
		r->entry = 0;
		if (c->read_phys(c->ctx, addr, &e))
			return EPT_WALK_UNREADABLE;
		r->entry = e;
		addrs[n] = addr;
		entries[n] = e;
		/* Not present (bits 2:0 = 0): a violation whatever the other bits say, and
		 * the AND of the permissions is 0 (27.2.1). */
		perms &= (unsigned)(e & EPT_RWX);
		if (!(e & EPT_RWX)) {
			r->perms = perms; /* 0 */
			r->qualification = access;
			return EPT_WALK_VIOLATION;
		}
		bool leaf = is_leaf(c, e, level);
		if (misconfigured(c, e, level, leaf))
			return EPT_WALK_MISCONFIG;
		if (!leaf) {
			table = e & EPT_ADDR_MASK;
			continue;
		}
		uint64_t size = 1ull << EPT_LEVEL_SHIFT(level);
		r->pa = (e & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
		r->page_size = size;
		r->perms = perms;
		r->memtype = entry_memtype(e);
		r->ipat = (e & EPT_IGNORE_PAT) != 0;
		if (access & ~perms) {
			r->qualification = access | ((uint64_t)perms << EPT_QUAL_PERMS_SHIFT);
			return EPT_WALK_VIOLATION;
		}
		if (c->write_phys && (c->eptp & EPTP_AD_ENABLE) &&
		    set_accessed_dirty(c, addrs, entries, n + 1, (access & EPT_ACCESS_WRITE) != 0))
			return EPT_WALK_UNREADABLE;
		return EPT_WALK_OK;
	}
	return EPT_WALK_VIOLATION; /* not reached: the PTE is always a leaf */
}

/* Bits 5:0: the access (2:0) and the R/W/X AND of the entries walked (5:3), 27.2.1. */
#define EPT_QUAL_WALK_BITS 0x3full

uint64_t ept_violation_qualification(const struct ept_walk_result *r, uint64_t cpu_qual)
{
	return (r->qualification & EPT_QUAL_WALK_BITS) | (cpu_qual & EPT_QUAL_FROM_CPU);
}

_Static_assert(TDP_R == EPT_ACCESS_READ && TDP_W == EPT_ACCESS_WRITE && TDP_X == EPT_ACCESS_FETCH,
	       "the neutral rights are the EPT access bits");

void ept_walk_for_shadow(const struct ept_walk_ctx *c, uint64_t gpa, unsigned access, uint64_t cpu_qual,
			 struct shadow_tdp_walk *w)
{
	struct ept_walk_result r;
	int rc = ept_walk(c, gpa, access, &r);
	*w = (struct shadow_tdp_walk){ 0 };
	if (rc == EPT_WALK_UNREADABLE) {
		w->rc = SHADOW_TDP_WALK_UNREADABLE;
	} else if (rc == EPT_WALK_VIOLATION) {
		w->rc = SHADOW_TDP_WALK_L1_FAULT;
		w->l1_exit = VMX_EXIT_REASON_EPT_VIOLATION;
		w->l1_info = ept_violation_qualification(&r, cpu_qual);
	} else if (rc == EPT_WALK_MISCONFIG) {
		w->rc = SHADOW_TDP_WALK_L1_FAULT;
		w->l1_exit = VMX_EXIT_REASON_EPT_MISCONFIG;
	} else {
		w->rc = SHADOW_TDP_WALK_OK;
		w->l1_pa = r.pa;
		w->perms = r.perms;
		w->leaf_extra = ((uint64_t)r.memtype << EPT_MEMTYPE_SHIFT) | (r.ipat ? EPT_IGNORE_PAT : 0);
	}
}
