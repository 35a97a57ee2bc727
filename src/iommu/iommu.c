#include "iommu/iommu.h"

#include "core/acpi.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/paging.h"
#include "core/platform.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"

static uint8_t *map_identity(void *ctx, uint64_t phys, uint64_t len)
{
	const struct guest_memmap *g = ctx;
	if (phys + len < phys || phys + len > g->identity_end)
		return NULL;
	return phys_to_virt(phys);
}

/* The second-level table: identity everywhere below top but nestbed's ranges. */
static uint64_t build_dma_map(const struct guest_memmap *g, uint64_t top, bool allow_1g)
{
	struct paging pg;
	if (paging_init(&pg, &nestbed_frames, identity_frame_ptr))
		return 0;
	pg.allow_1g = allow_1g;
	uint64_t cursor = 0;
	for (uint32_t i = 0; i < g->nr_ranges && cursor < top; i++) {
		if (g->ranges[i].type != MEM_NESTBED)
			continue;
		uint64_t base = g->ranges[i].base < top ? g->ranges[i].base : top;
		if (base > cursor && paging_map(&pg, cursor, cursor, base - cursor, PTE_W))
			return 0;
		cursor = g->ranges[i].base + g->ranges[i].length;
	}
	if (top > cursor && paging_map(&pg, cursor, cursor, top - cursor, PTE_W))
		return 0;
	return pg.root;
}

/* The highest end of RAM the firmware reports (usable and ACPI), at least 4 GiB where
 * the chipset's MMIO lives. */
static uint64_t ram_top(const struct guest_memmap *g)
{
	uint64_t top = MEMMAP_IDENTITY_MIN;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		uint32_t t = g->ranges[i].type;
		uint64_t end = g->ranges[i].base + g->ranges[i].length;
		if ((t == MEM_USABLE || t == MEM_ACPI_RECLAIM || t == MEM_ACPI_NVS ||
		     t == MEM_NESTBED) && end > top)
			top = end;
	}
	return top;
}

static void none(struct machine *m, const char *why)
{
	m->iommu.kind = "none";
	if (m->options.require_iommu)
		fatal("require-iommu: no IOMMU keeps device DMA out of nestbed's memory (%s)", why);
	kprintf("nestbed: iommu none: device DMA can reach nestbed's memory (%s)\n", why);
}

void iommu_init(struct machine *m)
{
	struct iommu_state *s = &m->iommu;
	struct guest_memmap *g = &m->guest_map;
	s->kind = "none";
	uint32_t len = 0;
	uint64_t dmar = m->bi->rsdp_phys ?
		acpi_find_table(m->bi->rsdp_phys, DMAR_SIGNATURE, map_identity, g, &len) : 0;
	if (!dmar) {
		none(m, m->bi->rsdp_phys ? "no ACPI DMAR table" : "no ACPI tables");
		return;
	}
	struct dmar_info info;
	char err[128];
	if (dmar_parse(phys_to_virt(dmar), len, &info, err, sizeof(err))) {
		none(m, err);
		return;
	}
	s->nr_found = info.nr_units;

	/* The units' registers become nestbed's: left out of NPT/EPT and of the DMA map. */
	for (uint32_t i = 0; i < info.nr_units; i++) {
		int n = memmap_carve(g->ranges, g->nr_ranges, BOOT_MAX_MEM_RANGES,
				     info.units[i].reg_base, info.units[i].reg_size, MEM_NESTBED);
		if (n < 0)
			fatal("iommu: memory map has too many ranges to reserve the VT-d registers");
		g->nr_ranges = (uint32_t)n;
	}
	g->identity_end = memmap_identity_end(g->ranges, g->nr_ranges);

	/* One table for every unit; a 3-level unit uses its first-level-down part. */
	uint64_t need = ram_top(g);
	uint64_t top = g->identity_end;
	bool allow_1g = true, any_3 = false;
	for (uint32_t i = 0; i < info.nr_units; i++) {
		uint64_t cap = *(volatile uint64_t *)phys_to_virt(info.units[i].reg_base + VTD_REG_CAP);
		allow_1g = allow_1g && (cap & VTD_CAP_SLLPS_1G);
		if (!(cap & VTD_CAP_SLLPS_2M)) {
			none(m, "a VT-d unit lacks 2 MiB second-level pages (CAP.SLLPS)");
			return;
		}
		unsigned levels = vtd_levels(cap, need);
		if (!levels) {
			none(m, "no VT-d table depth (CAP.SAGAW) reaches all RAM");
			return;
		}
		any_3 = any_3 || levels == 3;
	}
	if (any_3 && top > VTD_REACH_3LEVEL)
		top = VTD_REACH_3LEVEL;
	uint64_t pml4 = build_dma_map(g, top, allow_1g);
	if (!pml4) {
		none(m, "no memory for the DMA page tables");
		return;
	}
	s->dma_top = top;
	for (uint32_t i = 0; i < info.nr_units; i++) {
		uint64_t base = info.units[i].reg_base;
		uint64_t cap = *(volatile uint64_t *)phys_to_virt(base + VTD_REG_CAP);
		unsigned levels = vtd_levels(cap, need);
		uint64_t slpt = levels == 4 ? pml4 : ((uint64_t *)phys_to_virt(pml4))[0] & PTE_ADDR_MASK;
		uint64_t root = vtd_build_root(slpt, levels);
		if (!root) {
			none(m, "no memory for the VT-d root and context tables");
			return;
		}
		if (vtd_enable(base, root, err, sizeof(err))) {
			kprintf("nestbed: iommu: VT-d unit at %#llx: %s\n", (unsigned long long)base, err);
			continue;
		}
		s->reg_base[s->nr_enabled++] = base;
	}
	if (!s->nr_enabled) {
		none(m, "no VT-d unit could be enabled");
		return;
	}
	s->kind = "vt-d";
	s->hidden = acpi_hide_table(m->bi->rsdp_phys, DMAR_SIGNATURE, map_identity, g);
	kprintf("nestbed: iommu vt-d: %u of %u unit(s) translating (registers at", s->nr_enabled,
		s->nr_found);
	for (uint32_t i = 0; i < s->nr_enabled; i++)
		kprintf(" %#llx", (unsigned long long)s->reg_base[i]);
	kprintf(", unmapped for the guest); DMA reaches [0, %#llx) but nestbed's memory; "
		"DMAR hidden from the guest's ACPI tables (%d root-table entries removed)\n",
		(unsigned long long)top, s->hidden);
}

void iommu_report_faults(const struct machine *m)
{
	const struct iommu_state *s = &m->iommu;
	for (uint32_t i = 0; i < s->nr_enabled; i++) {
		struct vtd_fault f;
		unsigned n = vtd_faults(s->reg_base[i], &f);
		if (n)
			kprintf("nestbed: iommu fault: unit %#llx recorded %u blocked DMA request(s), "
				"the first a %s by %02x:%02x.%u at %#llx (reason %#x)\n",
				(unsigned long long)s->reg_base[i], n, f.read ? "read" : "write",
				f.source >> 8, (f.source >> 3) & 0x1f, f.source & 7,
				(unsigned long long)f.address, f.reason);
	}
}
