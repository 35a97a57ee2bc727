#include "core/guest_walk.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_LARGE (1ull << 7)
#define ADDR_MASK_64 0x000ffffffffff000ull

static int read_entry(const struct guest_walk_ctx *c, uint64_t gpa, uint64_t *e)
{
	return c->read_phys(c->ctx, gpa, e) ? WALK_UNREADABLE : WALK_OK;
}

/* Legacy 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE. */
/* Clears the rights an entry does not grant. */
static void restrict_perm(unsigned *perm, uint64_t entry)
{
	if (!(entry & PTE_RW))
		*perm &= ~WALK_PERM_WRITE;
	if (!(entry & PTE_US))
		*perm &= ~WALK_PERM_USER;
}

static int walk_32bit(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa,
		      uint64_t *page_end, unsigned *perm)
{
	uint32_t lin = (uint32_t)linear;
	uint64_t pde_addr = (c->cr3 & 0xfffff000ull) + ((lin >> 22) << 2);
	uint64_t raw;
	if (read_entry(c, pde_addr & ~7ull, &raw))
		return WALK_UNREADABLE;
	uint32_t pde = (uint32_t)(raw >> ((pde_addr & 4) * 8));
	if (!(pde & PTE_PRESENT))
		return WALK_NOT_PRESENT;
	restrict_perm(perm, pde);
	if ((pde & PTE_LARGE) && (c->cr4 & CR4_PSE)) {
		/* PSE-36: bits 20:13 of the PDE are physical address bits 39:32 */
		uint64_t base = (pde & 0xffc00000ull) | ((uint64_t)((pde >> 13) & 0xff) << 32);
		*gpa = base | (lin & 0x3fffffu);
		*page_end = (uint64_t)(lin & ~0x3fffffu) + (1ull << 22);
		return WALK_OK;
	}
	uint64_t pte_addr = (pde & 0xfffff000ull) + (((lin >> 12) & 0x3ff) << 2);
	if (read_entry(c, pte_addr & ~7ull, &raw))
		return WALK_UNREADABLE;
	uint32_t pte = (uint32_t)(raw >> ((pte_addr & 4) * 8));
	if (!(pte & PTE_PRESENT))
		return WALK_NOT_PRESENT;
	restrict_perm(perm, pte);
	*gpa = (pte & 0xfffff000ull) | (lin & 0xfffu);
	*page_end = (uint64_t)(lin & ~0xfffu) + 0x1000;
	return WALK_OK;
}

/* PAE and 4/5-level: 8-byte entries, 9 bits per level. */
static int walk_64bit_entries(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa,
			      uint64_t *page_end, unsigned *perm, int levels, uint64_t table)
{
	for (int level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e;
		if (read_entry(c, table + ((linear >> shift) & 0x1ff) * 8, &e))
			return WALK_UNREADABLE;
		if (!(e & PTE_PRESENT))
			return WALK_NOT_PRESENT;
		restrict_perm(perm, e);
		if (level == 1 || ((e & PTE_LARGE) && level <= 3)) {
			uint64_t size = 1ull << shift;
			*gpa = (e & ADDR_MASK_64 & ~(size - 1)) | (linear & (size - 1));
			*page_end = (linear & ~(size - 1)) + size;
			return WALK_OK;
		}
		if ((e & PTE_LARGE) && level > 3)
			return WALK_RESERVED;
		table = e & ADDR_MASK_64;
	}
	return WALK_NOT_PRESENT;
}

int guest_walk(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa, uint64_t *page_end)
{
	unsigned perm;
	return guest_walk_perm(c, linear, gpa, page_end, &perm);
}

bool guest_walk_supervisor_write_ok(uint64_t cr0, unsigned perm)
{
	return !(cr0 & CR0_WP) || (perm & WALK_PERM_WRITE);
}

int guest_walk_perm(const struct guest_walk_ctx *c, uint64_t linear, uint64_t *gpa,
		    uint64_t *page_end, unsigned *perm)
{
	*perm = WALK_PERM_WRITE | WALK_PERM_USER;
	bool long_mode = (c->efer & EFER_LMA) != 0;
	/* PG alone decides: SVM runs "paged real mode" guests with PG=1, PE=0 (APM vol.2
	 * 15.19), which a shadow-paging hypervisor such as KVM with npt=0 uses. */
	if (!(c->cr0 & CR0_PG)) {
		*gpa = long_mode ? linear : (uint32_t)linear;
		*page_end = (*gpa & ~0xfffull) + 0x1000;
		return WALK_OK;
	}
	if (long_mode) {
		int levels = (c->cr4 & CR4_LA57) ? 5 : 4;
		return walk_64bit_entries(c, linear, gpa, page_end, perm, levels, c->cr3 & ADDR_MASK_64);
	}
	if (c->cr4 & CR4_PAE) {
		/* PAE: CR3 points at four PDPTEs (32-byte aligned); they have no R/W or U/S
		 * (SDM vol.3 4.4.1). */
		uint32_t lin = (uint32_t)linear;
		uint64_t pdpte;
		if (read_entry(c, (c->cr3 & 0xffffffe0ull) + ((lin >> 30) & 3) * 8, &pdpte))
			return WALK_UNREADABLE;
		if (!(pdpte & PTE_PRESENT))
			return WALK_NOT_PRESENT;
		return walk_64bit_entries(c, lin, gpa, page_end, perm, 2, pdpte & ADDR_MASK_64);
	}
	return walk_32bit(c, linear, gpa, page_end, perm);
}
