#include "iommu/iommu.h"

#include "core/acpi.h"
#include "core/console.h"
#include "core/format.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/paging.h"
#include "core/platform.h"
#include "iommu/amdvi.h"
#include "iommu/ivrs.h"
#include "iommu/vamdvi_hw.h"
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

/* The units' registers become nestbed's: left out of NPT/EPT and of the DMA map. */
static void take_registers(struct guest_memmap *g, uint64_t base, uint64_t size)
{
	int n = memmap_carve(g->ranges, g->nr_ranges, BOOT_MAX_MEM_RANGES, base, size, MEM_NESTBED);
	if (n < 0)
		fatal("iommu: memory map has too many ranges to reserve the IOMMU's registers");
	g->nr_ranges = (uint32_t)n;
	g->identity_end = memmap_identity_end(g->ranges, g->nr_ranges);
}

/* VT-d: 0 and the units translating, or -1 with the reason in err. */
static int vtd_init(struct machine *m, uint64_t dmar, uint32_t len, char *err, size_t errlen)
{
	struct iommu_state *s = &m->iommu;
	struct guest_memmap *g = &m->guest_map;
	struct dmar_info info;
	if (dmar_parse(phys_to_virt(dmar), len, &info, err, errlen))
		return -1;
	s->nr_found = info.nr_units;
	for (uint32_t i = 0; i < info.nr_units; i++)
		take_registers(g, info.units[i].reg_base, info.units[i].reg_size);

	/* One table for every unit; a 3-level unit uses its first-level-down part. */
	uint64_t need = ram_top(g);
	uint64_t top = g->identity_end;
	bool allow_1g = true, any_3 = false;
	for (uint32_t i = 0; i < info.nr_units; i++) {
		uint64_t cap = *(volatile uint64_t *)phys_to_virt(info.units[i].reg_base + VTD_REG_CAP);
		allow_1g = allow_1g && (cap & VTD_CAP_SLLPS_1G);
		if (!(cap & VTD_CAP_SLLPS_2M)) {
			format_buf(err, errlen, "a VT-d unit lacks 2 MiB second-level pages (CAP.SLLPS)");
			return -1;
		}
		unsigned levels = vtd_levels(cap, need);
		if (!levels) {
			format_buf(err, errlen, "no VT-d table depth (CAP.SAGAW) reaches all RAM");
			return -1;
		}
		any_3 = any_3 || levels == 3;
	}
	if (any_3 && top > VTD_REACH_3LEVEL)
		top = VTD_REACH_3LEVEL;
	uint64_t pml4 = build_dma_map(g, top, allow_1g);
	if (!pml4) {
		format_buf(err, errlen, "no memory for the DMA page tables");
		return -1;
	}
	s->dma_top = top;
	for (uint32_t i = 0; i < info.nr_units; i++) {
		uint64_t base = info.units[i].reg_base;
		uint64_t cap = *(volatile uint64_t *)phys_to_virt(base + VTD_REG_CAP);
		unsigned levels = vtd_levels(cap, need);
		uint64_t slpt = levels == 4 ? pml4 : ((uint64_t *)phys_to_virt(pml4))[0] & PTE_ADDR_MASK;
		uint64_t root = vtd_build_root(slpt, levels);
		if (!root) {
			format_buf(err, errlen, "no memory for the VT-d root and context tables");
			return -1;
		}
		if (vtd_enable(base, root, err, errlen)) {
			kprintf("nestbed: iommu: VT-d unit at %#llx: %s\n", (unsigned long long)base, err);
			continue;
		}
		s->reg_base[s->nr_enabled++] = base;
	}
	if (!s->nr_enabled) {
		format_buf(err, errlen, "no VT-d unit could be enabled");
		return -1;
	}
	s->kind = "vt-d";
	return 0;
}

/* AMD-Vi: the same, from the IVRS. */
static int amdvi_init(struct machine *m, uint64_t ivrs, uint32_t len, char *err, size_t errlen)
{
	struct iommu_state *s = &m->iommu;
	struct guest_memmap *g = &m->guest_map;
	struct ivrs_info info;
	if (ivrs_parse(phys_to_virt(ivrs), len, &info, err, errlen))
		return -1;
	s->nr_found = info.nr_units;
	for (uint32_t i = 0; i < info.nr_units; i++)
		take_registers(g, info.units[i].reg_base, AMDVI_MMIO_SIZE);
	/* 4 levels (48 bits) always: every AMD-Vi unit walks them (2.2.3). */
	uint64_t top = g->identity_end;
	uint64_t pml4 = build_dma_map(g, top, true);
	if (!pml4) {
		format_buf(err, errlen, "no memory for the DMA page tables");
		return -1;
	}
	amdvi_convert_x86_table(pml4, identity_frame_ptr);
	s->dma_top = top;
	s->dma_root = pml4;
	for (uint32_t i = 0; i < info.nr_units && s->nr_enabled < DMAR_MAX_UNITS; i++) {
		uint64_t base = info.units[i].reg_base;
		if (amdvi_enable(base, pml4, &s->amdvi_units[s->nr_enabled], err, errlen)) {
			kprintf("nestbed: iommu: AMD-Vi unit at %#llx: %s\n", (unsigned long long)base, err);
			continue;
		}
		s->reg_base[s->nr_enabled++] = base;
	}
	if (!s->nr_enabled) {
		format_buf(err, errlen, "no AMD-Vi unit could be enabled");
		return -1;
	}
	s->kind = "amd-vi";
	s->amdvi = true;
	return 0;
}

void iommu_init(struct machine *m)
{
	struct iommu_state *s = &m->iommu;
	struct guest_memmap *g = &m->guest_map;
	s->kind = "none";
	if (!m->bi->rsdp_phys) {
		none(m, "no ACPI tables");
		return;
	}
	char err[128];
	uint32_t len = 0;
	const char *sig = DMAR_SIGNATURE;
	uint64_t table = acpi_find_table(m->bi->rsdp_phys, sig, map_identity, g, &len);
	int rc;
	if (table) {
		rc = vtd_init(m, table, len, err, sizeof(err));
	} else {
		sig = IVRS_SIGNATURE;
		table = acpi_find_table(m->bi->rsdp_phys, sig, map_identity, g, &len);
		if (!table) {
			none(m, "no ACPI DMAR or IVRS table");
			return;
		}
		rc = amdvi_init(m, table, len, err, sizeof(err));
	}
	if (rc) {
		none(m, err);
		return;
	}
	if (m->options.viommu) {
		if (vamdvi_init(m, err, sizeof(err)))
			fatal("viommu: %s", err);
		kprintf("nestbed: viommu: the guest programs a virtual AMD-Vi at %#llx (IVRS and "
			"PCI function the firmware's; registers emulated, DMA through copies of "
			"its I/O page tables that reach no byte of nestbed's)\n",
			(unsigned long long)s->reg_base[0]);
	} else {
		s->hidden = acpi_hide_table(m->bi->rsdp_phys, sig, map_identity, g);
	}
	kprintf("nestbed: iommu %s: %u of %u unit(s) translating (registers at", s->kind,
		s->nr_enabled, s->nr_found);
	for (uint32_t i = 0; i < s->nr_enabled; i++)
		kprintf(" %#llx", (unsigned long long)s->reg_base[i]);
	kprintf(", unmapped for the guest); DMA reaches [0, %#llx) but nestbed's memory; ",
		(unsigned long long)s->dma_top);
	if (s->viommu)
		kprintf("%s left in the guest's ACPI tables for its virtual AMD-Vi\n", sig);
	else
		kprintf("%s hidden from the guest's ACPI tables (%d root-table entries removed)\n",
			sig, s->hidden);
}

void iommu_report_faults(const struct machine *m)
{
	const struct iommu_state *s = &m->iommu;
	vamdvi_report(m);
	for (uint32_t i = 0; i < s->nr_enabled; i++) {
		if (s->amdvi) {
			uint64_t e[2];
			unsigned n = amdvi_events(s->reg_base[i], e);
			if (n)
				kprintf("nestbed: iommu fault: unit %#llx logged %u event(s) (blocked DMA "
					"among them), the first %#018llx %#018llx\n",
					(unsigned long long)s->reg_base[i], n, (unsigned long long)e[0],
					(unsigned long long)e[1]);
			continue;
		}
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
