#include "core/guest_mem.h"

#include "core/console.h"
#include "core/guest_msr.h"
#include "core/guest_walk.h"
#include "core/insn_decode.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/string.h"
#include "core/nested_ops.h"
#include "core/x86.h"

static int guest_range_ok(uint64_t gpa, size_t len)
{
	const struct guest_memmap *g = &machine.guest_map;
	if (gpa + len < gpa)
		return 0;
	/* Beyond the identity map there is no memory (an L1 may name any address below
	 * MAXPHYADDR in a VMCS or VMCB): refused, never dereferenced. */
	if (gpa + len > g->identity_end)
		return 0;
	/* Anything nestbed owns is off limits; MMIO and firmware ranges are the guest's. */
	return !nestbed_owns_range(gpa, len);
}

bool nestbed_owns_range(uint64_t pa, uint64_t len)
{
	const struct guest_memmap *g = &machine.guest_map;
	if (pa + len >= pa && pa + len <= g->nestbed_lowest)
		return false; /* the common case, on every page-table read of a guest walk */
	for (uint32_t i = 0; i < g->nr_ranges; i++)
		if (g->ranges[i].type == MEM_NESTBED && pa < g->ranges[i].base + g->ranges[i].length &&
		    g->ranges[i].base < pa + len)
			return true;
	return false;
}

int guest_phys_read(uint64_t gpa, void *buf, size_t len)
{
	if (!guest_range_ok(gpa, len))
		return -1;
	memcpy(buf, phys_to_virt(gpa), len);
	return 0;
}

int guest_phys_write(uint64_t gpa, const void *buf, size_t len)
{
	if (!guest_range_ok(gpa, len))
		return -1;
	memcpy(phys_to_virt(gpa), buf, len);
	return 0;
}

/* One page's worth at most: 0 and the host address, or -1. */
static int translate(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end)
{
	if (v->level >= 2 && v->nested && v->nested->l2_gpa_to_hpa)
		return v->nested->l2_gpa_to_hpa(v, gpa, hpa, page_end);
	*hpa = gpa;
	*page_end = (gpa | 0xfffull) + 1;
	return 0;
}

static int vcpu_phys_access(const struct vcpu *v, uint64_t gpa, void *buf, size_t len, bool write)
{
	size_t done = 0;
	while (done < len) {
		uint64_t hpa, page_end;
		if (translate(v, gpa + done, &hpa, &page_end))
			return -1;
		size_t chunk = len - done;
		if (page_end - (gpa + done) < chunk)
			chunk = (size_t)(page_end - (gpa + done));
		int rc = write ? guest_phys_write(hpa, (const uint8_t *)buf + done, chunk) :
				 guest_phys_read(hpa, (uint8_t *)buf + done, chunk);
		if (rc)
			return -1;
		done += chunk;
	}
	return 0;
}

void *vcpu_phys_ptr(const struct vcpu *v, uint64_t gpa, size_t len)
{
	uint64_t hpa, page_end;
	if (!len || translate(v, gpa, &hpa, &page_end) || page_end - gpa < len ||
	    !guest_range_ok(hpa, len))
		return NULL;
	return phys_to_virt(hpa);
}

int vcpu_phys_read(const struct vcpu *v, uint64_t gpa, void *buf, size_t len)
{
	return vcpu_phys_access(v, gpa, buf, len, false);
}

int vcpu_phys_write(const struct vcpu *v, uint64_t gpa, const void *buf, size_t len)
{
	return vcpu_phys_access(v, gpa, (void *)buf, len, true);
}

/* The common case on every exit that needs the guest's instruction (AMD-V without NRIPS)
 * or its page tables: a vCPU whose guest-physical addresses are host-physical (L1), and
 * a range below nestbed's lowest memory and inside the identity map. That is exactly
 * what guest_range_ok and nestbed_owns_range accept first; the pointer is NULL for
 * anything else, which takes the checked path (translate, ranges). */
static const void *direct_guest_ptr(const struct vcpu *v, uint64_t gpa, size_t len)
{
	const struct guest_memmap *g = &machine.guest_map;
	uint64_t end = gpa + len;
	if ((v->level >= 2 && v->nested && v->nested->l2_gpa_to_hpa) || end < gpa ||
	    end > g->nestbed_lowest || end > g->identity_end)
		return NULL;
	return phys_to_virt(gpa);
}

static int read_phys64(void *ctx, uint64_t gpa, uint64_t *value)
{
	const uint64_t *direct = direct_guest_ptr(ctx, gpa, sizeof(*value));
	if (direct && !(gpa & 7)) { /* a paging-structure entry: aligned, in one page */
		*value = *direct;
		return 0;
	}
	return vcpu_phys_read(ctx, gpa, value, sizeof(*value));
}

size_t guest_linear_read(const struct vcpu *v, uint64_t linear, void *buf, size_t len)
{
	const struct vcpu_state *s = &v->state;
	struct guest_walk_ctx ctx = { s->cr0, s->cr3, s->cr4, s->efer, read_phys64, (void *)v };
	size_t done = 0;
	while (done < len) {
		uint64_t gpa, page_end;
		if (guest_walk(&ctx, linear + done, &gpa, &page_end) != WALK_OK)
			break;
		size_t chunk = len - done;
		if (page_end - (linear + done) < chunk)
			chunk = (size_t)(page_end - (linear + done));
		const uint8_t *direct = direct_guest_ptr(v, gpa, chunk);
		if (direct)
			memcpy((uint8_t *)buf + done, direct, chunk);
		else if (vcpu_phys_read(v, gpa, (uint8_t *)buf + done, chunk))
			break;
		done += chunk;
	}
	return done;
}

bool guest_ram_range(uint64_t gpa, uint64_t len)
{
	const struct guest_memmap *g = &machine.guest_map;
	if (gpa + len < gpa)
		return false;
	for (uint32_t i = 0; i < g->nr_ranges; i++)
		if (g->ranges[i].type == MEM_USABLE && gpa >= g->ranges[i].base &&
		    gpa + len <= g->ranges[i].base + g->ranges[i].length)
			return true;
	return false;
}

/* Bits 63:47 equal (4-level) or 63:56 (5-level): SDM vol.3A 3.3.7.1. */
static bool canonical(uint64_t linear, bool la57)
{
	unsigned shift = la57 ? 56 : 47;
	uint64_t top = linear >> shift;
	return top == 0 || top == (~0ull >> shift);
}

int guest_linear_write_supervisor(const struct vcpu *v, uint64_t linear, const void *buf, size_t len)
{
	const struct vcpu_state *s = &v->state;
	struct guest_walk_ctx ctx = { s->cr0, s->cr3, s->cr4, s->efer, read_phys64, (void *)v };
	bool long_mode = (s->efer & EFER_LMA) != 0;
	if (v->level != 1 || !len)
		return -1;
	if (long_mode ? (!canonical(linear, s->cr4 & CR4_LA57) ||
			 !canonical(linear + len - 1, s->cr4 & CR4_LA57) || linear + len - 1 < linear)
		      : (linear > 0xffffffffull || linear + len - 1 > 0xffffffffull))
		return -1;
	/* First every page is checked, then written: a refusal writes nothing (unless the
	 * guest changes its tables meanwhile: then only its own memory is at stake). */
	for (int write = 0; write <= 1; write++) {
		size_t done = 0;
		while (done < len) {
			uint64_t gpa, page_end;
			unsigned perm;
			if (guest_walk_perm(&ctx, linear + done, &gpa, &page_end, &perm) != WALK_OK ||
			    !guest_walk_supervisor_write_ok(s->cr0, perm))
				return -1;
			size_t chunk = len - done;
			if (page_end - (linear + done) < chunk)
				chunk = (size_t)(page_end - (linear + done));
			/* checked again when writing: another vCPU may have changed the tables */
			if (!guest_ram_range(gpa, chunk) || cpu_apic_page_overlaps(gpa, chunk) ||
			    (write && vcpu_phys_write(v, gpa, (const uint8_t *)buf + done, chunk)))
				return -1;
			done += chunk;
		}
	}
	return 0;
}

static const uint8_t *fetch_direct(const struct vcpu *v, uint64_t linear, size_t *avail);

int guest_insn_decode(const struct vcpu *v, struct insn *insn)
{
	const struct vcpu_state *s = &v->state;
	uint8_t bytes[INSN_MAX_LENGTH];
	/* the in-place walk first (an L1's xAPIC write: every EOI and timer write of a
	 * Linux L1); the general walk where it declines (a page boundary within 15 bytes,
	 * other paging modes, memory that is not plainly the guest's) */
	size_t avail, got;
	const uint8_t *direct = fetch_direct(v, s->cs_base + s->rip, &avail);
	if (direct && avail >= sizeof(bytes)) {
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = direct[i];
		got = sizeof(bytes);
	} else {
		got = guest_linear_read(v, s->cs_base + s->rip, bytes, sizeof(bytes));
	}
	enum insn_mode mode = insn_mode_of(s->cr0 & CR0_PE, s->rflags & RFLAGS_VM,
					   s->efer & EFER_LMA, s->cs_long, s->cs_db);
	int rc = insn_decode(bytes, got, mode,
			     machine.caps.vendor == CPU_VENDOR_AMD ? INSN_VENDOR_AMD : INSN_VENDOR_INTEL,
			     insn);
	if (rc) {
		kprintf("nestbed: cannot decode the guest instruction at %#llx (%zu bytes readable): %s\n",
			(unsigned long long)(s->cs_base + s->rip), got, insn_error_name(rc));
		return -1;
	}
	return 0;
}

#define FETCH_PTE_PRESENT (1ull << 0)        /* SDM vol.3 4.5, table 4-15 */
#define FETCH_PTE_LARGE (1ull << 7)          /* PS: a 1 GiB or 2 MiB page */
#define FETCH_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define FETCH_PAGE 4096ull

/* The host address of gpa (through L1's nested paging for an L2, translate()) when its
 * whole 4 KiB page lies below `limit`, or NULL. Inlined: five times per fetch. */
static inline __attribute__((always_inline)) const uint8_t *
direct_page(const struct vcpu *v, bool l2, uint64_t gpa, uint64_t limit)
{
	uint64_t hpa = gpa, page_end;
	if (l2 && v->nested->l2_gpa_to_hpa(v, gpa, &hpa, &page_end))
		return NULL;
	if ((hpa | (FETCH_PAGE - 1)) >= limit)
		return NULL;
	return phys_to_virt(hpa);
}

/* 4-level paging (SDM vol.3 4.5, APM vol.2 5.3) with every table below `limit`, read in
 * place: 0 and the guest-physical address, or -1 where the general walk must decide (a
 * table past the limit, an entry not present, PS in a PML4E, which is reserved).
 * Unrolled: one load, a present test and a PS test per level. */
static inline __attribute__((always_inline)) int
walk4_direct(const struct vcpu *v, bool l2, uint64_t linear, uint64_t limit, uint64_t *gpa)
{
	uint64_t table = v->state.cr3 & FETCH_ADDR_MASK;
#pragma GCC unroll 4
	for (unsigned level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		const uint64_t *t = (const uint64_t *)direct_page(v, l2, table, limit);
		if (!t)
			return -1;
		uint64_t e = t[(linear >> shift) & 0x1ff];
		if (!(e & FETCH_PTE_PRESENT))
			return -1;
		if (level == 1 || ((e & FETCH_PTE_LARGE) && level <= 3)) {
			uint64_t size = 1ull << shift;
			*gpa = (e & FETCH_ADDR_MASK & ~(size - 1)) | (linear & (size - 1));
			return 0;
		}
		if (e & FETCH_PTE_LARGE)
			return -1;
		table = e & FETCH_ADDR_MASK;
	}
	return -1;
}

/* Where the bytes at a guest linear address are, read in place, with paging off or in
 * 64-bit mode with 4-level paging, when the tables and the bytes all lie in memory
 * nestbed reads directly (below nestbed's lowest range and the identity map's end, after
 * L1's nested paging for an L2: what the checked path accepts first), for the exits that
 * must find their instruction's length (AMD-V without NRIPS). Returns the bytes and in
 * *avail how many of them lie in that page (the rest may be elsewhere), or NULL where
 * the general path must decide (other paging modes, memory that is not plainly the
 * guest's). One walk; nothing copied. */
static const uint8_t *fetch_direct(const struct vcpu *v, uint64_t linear, size_t *avail)
{
	const struct vcpu_state *s = &v->state;
	const struct guest_memmap *g = &machine.guest_map;
	uint64_t limit = g->nestbed_lowest < g->identity_end ? g->nestbed_lowest : g->identity_end;
	bool long_mode = (s->efer & EFER_LMA) != 0;
	bool l2 = v->level >= 2 && v->nested && v->nested->l2_gpa_to_hpa;
	uint64_t gpa;
	if (!(s->cr0 & CR0_PG)) /* linear is physical, 32 bits outside long mode (guest_walk) */
		linear = gpa = long_mode ? linear : (uint32_t)linear;
	else if (!long_mode || (s->cr4 & CR4_LA57) ||
		 (l2 ? walk4_direct(v, true, linear, limit, &gpa) : /* specialised for L1 */
		       walk4_direct(v, false, linear, limit, &gpa)))
		return NULL;
	*avail = (size_t)(FETCH_PAGE - (linear & (FETCH_PAGE - 1)));
	return l2 ? direct_page(v, true, gpa, limit) : direct_page(v, false, gpa, limit);
}

/* The common case of fetch_direct, as a leaf: an L1 in 64-bit mode with 4-level paging
 * whose tables and code lie below `limit` (> one page). The host address of the bytes at
 * `linear`, or NULL where fetch_direct decides. A table at `table` is read directly when
 * its whole page lies below limit: table <= limit - 4 KiB (tables are page-aligned). */
static inline __attribute__((always_inline)) const uint8_t *
fetch_l1_4level(uint64_t cr3, uint64_t linear, uint64_t limit)
{
	uint64_t last_page = limit - FETCH_PAGE;
	uint64_t table = cr3 & FETCH_ADDR_MASK, gpa = 0;
#pragma GCC unroll 4
	for (unsigned level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		if (table > last_page)
			return NULL;
		uint64_t e = ((const uint64_t *)phys_to_virt(table))[(linear >> shift) & 0x1ff];
		if (!(e & FETCH_PTE_PRESENT))
			return NULL;
		if (level == 1 || ((e & FETCH_PTE_LARGE) && level <= 3)) {
			uint64_t size = 1ull << shift;
			gpa = (e & FETCH_ADDR_MASK & ~(size - 1)) | (linear & (size - 1));
			break;
		}
		if (e & FETCH_PTE_LARGE) /* PS in a PML4E is reserved */
			return NULL;
		table = e & FETCH_ADDR_MASK;
	}
	if ((gpa & ~(FETCH_PAGE - 1)) > last_page)
		return NULL;
	return phys_to_virt(gpa);
}

/* Everything but the common case: other modes, an L2, bytes across a page, prefixes or
 * other instructions (the decoder, on the checked path). */
static unsigned __attribute__((noinline)) guest_insn_length_general(const struct vcpu *v)
{
	const struct vcpu_state *s = &v->state;
	uint64_t linear = s->cs_base + s->rip;
	size_t avail;
	const uint8_t *direct = fetch_direct(v, linear, &avail);
	unsigned quick;
	if (direct) {
		quick = insn_length_quick(direct, avail);
	} else {
		uint8_t bytes[3];
		quick = insn_length_quick(bytes, guest_linear_read(v, linear, bytes, sizeof(bytes)));
	}
	if (quick)
		return quick;
	struct insn insn;
	return guest_insn_decode(v, &insn) ? 0 : insn.length;
}

unsigned guest_insn_length(const struct vcpu *v)
{
	/* the instructions that exit most often need no full decode, and an L1 with paging
	 * off or in 64-bit mode one walk of its tables in place (or none): the common cases
	 * on AMD-V without NRIPS */
	const struct vcpu_state *s = &v->state;
	const struct guest_memmap *g = &machine.guest_map;
	uint64_t limit = g->nestbed_lowest < g->identity_end ? g->nestbed_lowest : g->identity_end;
	if (v->level == 1 && limit > FETCH_PAGE) {
		uint64_t linear = s->cs_base + s->rip;
		const uint8_t *p = NULL;
		if (!(s->cr0 & CR0_PG)) {
			/* linear is physical, 32 bits outside long mode (guest_walk); the
			 * offset in the page is the same */
			uint64_t gpa = (s->efer & EFER_LMA) ? linear : (uint32_t)linear;
			if ((gpa & ~(FETCH_PAGE - 1)) <= limit - FETCH_PAGE)
				p = phys_to_virt(gpa);
		} else if ((s->efer & EFER_LMA) && !(s->cr4 & CR4_LA57)) {
			p = fetch_l1_4level(s->cr3, linear, limit);
		}
		if (p) {
			unsigned quick = insn_length_quick(p, (size_t)(FETCH_PAGE - (linear & (FETCH_PAGE - 1))));
			if (quick)
				return quick;
		}
	}
	return guest_insn_length_general(v);
}
