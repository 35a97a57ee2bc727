#include "vmx/vmx_ept.h"

#define ENTRIES 512
#define LEVEL_SHIFT(level) (12 + 9 * ((level) - 1)) /* 4: PML4 ... 1: PT */

uint64_t ept_table_entry(uint64_t table_phys)
{
	return (table_phys & EPT_ADDR_MASK) | EPT_RWX;
}

uint64_t ept_leaf_entry(uint64_t hpa, uint64_t page_size, unsigned memtype)
{
	uint64_t e = (hpa & EPT_ADDR_MASK) | EPT_RWX | ((uint64_t)(memtype & 7) << EPT_MEMTYPE_SHIFT);
	if (page_size != EPT_PAGE_4K)
		e |= EPT_LARGE_PAGE;
	return e;
}

uint64_t ept_pointer(uint64_t root, unsigned memtype)
{
	return (root & EPT_ADDR_MASK) | ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT) |
	       ((uint64_t)(memtype & 7) << EPTP_MEMTYPE_SHIFT);
}

static uint64_t *table(const struct ept *ept, uint64_t phys)
{
	return ept->frame_ptr(phys);
}

static uint64_t alloc_table(struct ept *ept)
{
	uint64_t phys = frame_alloc_one(ept->fa);
	if (!phys)
		return 0;
	uint64_t *t = table(ept, phys);
	for (int i = 0; i < ENTRIES; i++)
		t[i] = 0;
	return phys;
}

int ept_init(struct ept *ept, struct frame_alloc *fa, void *(*frame_ptr)(uint64_t))
{
	ept->fa = fa;
	ept->frame_ptr = frame_ptr;
	ept->allow_2m = ept->allow_1g = false;
	ept->root = alloc_table(ept);
	return ept->root ? 0 : -1;
}

/* An entry is present when any of R/W/X is set (28.2.2). */
static bool present(uint64_t e)
{
	return (e & EPT_RWX) != 0;
}

static int map_one(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t page_size, unsigned memtype)
{
	int leaf_level = page_size == EPT_PAGE_1G ? 3 : page_size == EPT_PAGE_2M ? 2 : 1;
	uint64_t t = ept->root;
	for (int level = EPT_LEVELS; level > leaf_level; level--) {
		uint64_t *entries = table(ept, t);
		unsigned idx = (gpa >> LEVEL_SHIFT(level)) & (ENTRIES - 1);
		uint64_t e = entries[idx];
		if (!present(e)) {
			uint64_t next = alloc_table(ept);
			if (!next)
				return -1;
			entries[idx] = ept_table_entry(next);
			t = next;
		} else if (e & EPT_LARGE_PAGE) {
			return -1;
		} else {
			t = e & EPT_ADDR_MASK;
		}
	}
	uint64_t *entries = table(ept, t);
	unsigned idx = (gpa >> LEVEL_SHIFT(leaf_level)) & (ENTRIES - 1);
	if (present(entries[idx]))
		return -1;
	entries[idx] = ept_leaf_entry(hpa, page_size, memtype);
	return 0;
}

static bool fits(uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t page)
{
	return !(gpa & (page - 1)) && !(hpa & (page - 1)) && size >= page;
}

int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned memtype)
{
	if ((gpa | hpa | size) & (EPT_PAGE_4K - 1))
		return -1;
	while (size) {
		uint64_t page = EPT_PAGE_4K;
		if (ept->allow_1g && fits(gpa, hpa, size, EPT_PAGE_1G))
			page = EPT_PAGE_1G;
		else if (ept->allow_2m && fits(gpa, hpa, size, EPT_PAGE_2M))
			page = EPT_PAGE_2M;
		if (map_one(ept, gpa, hpa, page, memtype))
			return -1;
		gpa += page;
		hpa += page;
		size -= page;
	}
	return 0;
}

/* Replaces the large leaf *slot (mapping `size` bytes) by a table of leaves of the next
 * size down, with the same address, memory type and permissions (28.2.2). */
static int split_leaf(struct ept *ept, uint64_t *slot, uint64_t size)
{
	uint64_t next = alloc_table(ept);
	if (!next)
		return -1;
	uint64_t e = *slot, child = size / ENTRIES;
	uint64_t base = e & EPT_ADDR_MASK & ~(size - 1);
	uint64_t keep = e & (EPT_RWX | EPT_MEMTYPE_MASK | EPT_IGNORE_PAT);
	uint64_t *entries = table(ept, next);
	for (unsigned i = 0; i < ENTRIES; i++)
		entries[i] = (base + i * child) | keep | (child != EPT_PAGE_4K ? EPT_LARGE_PAGE : 0);
	*slot = ept_table_entry(next);
	return 0;
}

int ept_set_4k_permissions(struct ept *ept, uint64_t gpa, uint64_t perms)
{
	uint64_t t = ept->root;
	for (int level = EPT_LEVELS; level >= 1; level--) {
		uint64_t *entries = table(ept, t);
		uint64_t *slot = &entries[(gpa >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		if (!present(*slot))
			return -1;
		if (level == 1) {
			*slot = (*slot & ~EPT_RWX) | (perms & EPT_RWX);
			return 0;
		}
		if ((*slot & EPT_LARGE_PAGE) && split_leaf(ept, slot, 1ull << LEVEL_SHIFT(level)))
			return -1;
		t = *slot & EPT_ADDR_MASK;
	}
	return -1;
}

int ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *page_size,
		  uint64_t *leaf)
{
	uint64_t t = ept->root;
	for (int level = EPT_LEVELS; level >= 1; level--) {
		const uint64_t *entries = table(ept, t);
		uint64_t e = entries[(gpa >> LEVEL_SHIFT(level)) & (ENTRIES - 1)];
		if (!present(e))
			return -1;
		if (level == 1 || (e & EPT_LARGE_PAGE)) {
			uint64_t size = 1ull << LEVEL_SHIFT(level);
			if (hpa)
				*hpa = (e & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			if (page_size)
				*page_size = size;
			if (leaf)
				*leaf = e;
			return 0;
		}
		t = e & EPT_ADDR_MASK;
	}
	return -1;
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
