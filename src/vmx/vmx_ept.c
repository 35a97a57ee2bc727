#include "vmx/vmx_ept.h"

uint64_t ept_table_entry(uint64_t table_phys)
{
	return (table_phys & EPT_ADDR_MASK) | tdp_format_ept.table_bits;
}

uint64_t ept_leaf_entry(uint64_t hpa, uint64_t page_size, unsigned memtype)
{
	return tdp_leaf(&tdp_format_ept, hpa, page_size,
			EPT_RWX | ((uint64_t)(memtype & 7) << EPT_MEMTYPE_SHIFT));
}

uint64_t ept_pointer(uint64_t root, unsigned memtype)
{
	return (root & EPT_ADDR_MASK) | ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT) |
	       ((uint64_t)(memtype & 7) << EPTP_MEMTYPE_SHIFT);
}

/* The EPT entry format for the paging engine (28.2.2, tables 28-1 to 28-6). */
const struct tdp_format tdp_format_ept = {
	.name = "ept",
	.present = EPT_RWX, /* any of R/W/X */
	.table_bits = EPT_RWX,
	.leaf_bits = 0,
	/* R/W/X, memory type, ignore PAT, accessed, dirty, user execute (bit 10) */
	.attr_4k = EPT_RWX | EPT_MEMTYPE_MASK | EPT_IGNORE_PAT | EPT_ACCESSED | EPT_DIRTY | (1ull << 10),
	.attr_large = EPT_RWX | EPT_MEMTYPE_MASK | EPT_IGNORE_PAT | EPT_ACCESSED | EPT_DIRTY | (1ull << 10),
	/* a split keeps what the mapping means; A/D start over */
	.split_keep = EPT_RWX | EPT_MEMTYPE_MASK | EPT_IGNORE_PAT,
	.r = EPT_READ,
	.w = EPT_WRITE,
	.x = EPT_EXEC,
	.nx = 0,
	/* 28.2.3.1: memory types 2, 3 and 7 are reserved (a misconfiguration) */
	.mt_mask = EPT_MEMTYPE_MASK,
	.mt_shift = EPT_MEMTYPE_SHIFT,
	.mt_reserved = (1u << 2) | (1u << 3) | (1u << 7),
	/* 28.2.3.1: write without read (010b, 110b) is a misconfiguration */
	.bad_rw_mask = EPT_RWX,
	.bad_rw_value = { EPT_WRITE, EPT_WRITE | EPT_EXEC },
};

struct tdp ept_as_tdp(const struct ept *ept)
{
	return (struct tdp){ .fmt = &tdp_format_ept, .fa = ept->fa, .frame_ptr = ept->frame_ptr,
			     .root = ept->root, .allow_2m = ept->allow_2m, .allow_1g = ept->allow_1g };
}

int ept_init(struct ept *ept, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t))
{
	struct tdp t;
	int rc = tdp_init(&t, &tdp_format_ept, fa, frame_ptr);
	ept->fa = fa;
	ept->frame_ptr = frame_ptr;
	ept->allow_2m = ept->allow_1g = false;
	ept->root = t.root;
	return rc;
}

int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned memtype)
{
	struct tdp t = ept_as_tdp(ept);
	return tdp_map(&t, gpa, hpa, size, EPT_RWX | ((uint64_t)(memtype & 7) << EPT_MEMTYPE_SHIFT));
}

int ept_set_4k_permissions(struct ept *ept, uint64_t gpa, uint64_t perms)
{
	struct tdp t = ept_as_tdp(ept);
	return tdp_update_4k(&t, gpa, EPT_RWX, perms & EPT_RWX);
}

int ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *page_size,
		  uint64_t *leaf)
{
	struct tdp t = ept_as_tdp(ept);
	struct tdp_walk_result r;
	if (tdp_walk(&t, gpa, &r))
		return -1;
	if (hpa)
		*hpa = r.hpa;
	if (page_size)
		*page_size = r.page_size;
	if (leaf)
		*leaf = r.leaf;
	return 0;
}

/* ---- the identity plan ---- */

enum page_class { CLASS_UC, CLASS_WB, CLASS_NESTBED };

static bool is_ram(uint32_t type)
{
	return type == MEM_USABLE || type == MEM_ACPI_RECLAIM || type == MEM_ACPI_NVS;
}

static uint64_t round_down(uint64_t a) { return a & ~(EPT_PAGE_4K - 1); }
static uint64_t round_up(uint64_t a) { return (a + EPT_PAGE_4K - 1) & ~(EPT_PAGE_4K - 1); }

static bool covers(const struct mem_range *r, uint64_t addr)
{
	return addr >= round_down(r->base) && addr < round_up(r->base + r->length);
}

static enum page_class classify(const struct mem_range *ranges, uint32_t count, uint64_t addr)
{
	enum page_class c = CLASS_UC;
	for (uint32_t i = 0; i < count; i++) {
		if (!ranges[i].length || !covers(&ranges[i], addr))
			continue;
		if (ranges[i].type == MEM_NESTBED)
			return CLASS_NESTBED;
		if (is_ram(ranges[i].type))
			c = CLASS_WB;
	}
	return c;
}

static void insert_sorted(uint64_t *b, uint32_t *n, uint64_t v)
{
	uint32_t i = *n;
	for (uint32_t k = 0; k < *n; k++)
		if (b[k] == v)
			return;
	while (i > 0 && b[i - 1] > v) {
		b[i] = b[i - 1];
		i--;
	}
	b[i] = v;
	(*n)++;
}

int ept_identity_plan(const struct mem_range *ranges, uint32_t count, uint64_t min_top,
		      struct ept_region *out, uint32_t max)
{
	uint64_t top = min_top;
	for (uint32_t i = 0; i < count; i++)
		if (ranges[i].length && round_up(ranges[i].base + ranges[i].length) > top)
			top = round_up(ranges[i].base + ranges[i].length);
	top = (top + EPT_PAGE_1G - 1) & ~(EPT_PAGE_1G - 1);

	/* Only RAM and nestbed's ranges change a page's class; every other address is UC. */
	uint64_t bounds[EPT_PLAN_MAX];
	uint32_t nb = 0;
	insert_sorted(bounds, &nb, 0);
	insert_sorted(bounds, &nb, top);
	for (uint32_t i = 0; i < count; i++) {
		if (!ranges[i].length || (!is_ram(ranges[i].type) && ranges[i].type != MEM_NESTBED))
			continue;
		if (nb + 2 > EPT_PLAN_MAX)
			return -1;
		insert_sorted(bounds, &nb, round_down(ranges[i].base));
		insert_sorted(bounds, &nb, round_up(ranges[i].base + ranges[i].length));
	}

	int n = 0;
	for (uint32_t k = 0; k + 1 < nb; k++) {
		uint64_t base = bounds[k], end = bounds[k + 1];
		if (base >= top)
			break;
		enum page_class c = classify(ranges, count, base);
		if (c == CLASS_NESTBED)
			continue;
		unsigned memtype = c == CLASS_WB ? EPT_MEMTYPE_WB : EPT_MEMTYPE_UC;
		if (n && out[n - 1].base + out[n - 1].size == base && out[n - 1].memtype == memtype) {
			out[n - 1].size += end - base;
			continue;
		}
		if ((uint32_t)n == max)
			return -1;
		out[n++] = (struct ept_region){ .base = base, .size = end - base, .memtype = memtype };
	}
	return n;
}
