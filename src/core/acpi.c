#include "core/acpi.h"

#include <stdbool.h>

#include "core/acpi_madt.h"

#define RSDP_V1_LENGTH 20
#define RSDP_REVISION_OFFSET 15
#define RSDP_ALIGN 16

static const char rsdp_signature[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };

uint64_t acpi_scan_rsdp(const uint8_t *mem, uint64_t phys, size_t len)
{
	for (size_t off = 0; off + RSDP_V1_LENGTH <= len; off += RSDP_ALIGN) {
		int match = 1;
		for (int i = 0; i < 8; i++)
			if (mem[off + i] != (uint8_t)rsdp_signature[i])
				match = 0;
		if (!match)
			continue;
		uint8_t sum = 0;
		for (int i = 0; i < RSDP_V1_LENGTH; i++)
			sum = (uint8_t)(sum + mem[off + i]);
		if (sum == 0)
			return phys + off;
	}
	return 0;
}

/* nestbed's CPU census: RSDP -> XSDT (revision >= 2) or RSDT -> MADT, each table checked
 * (acpi_madt.c) before its entries are read. */
#define RSDP_V2_LENGTH 36
#define MADT_SIGNATURE "APIC"

/* The table at phys, whole and valid, or NULL. */
static const uint8_t *map_table(acpi_map_fn map, void *ctx, uint64_t phys, const char *sig)
{
	const uint8_t *h = map(ctx, phys, ACPI_SDT_HEADER_SIZE);
	if (!h)
		return NULL;
	uint32_t len = acpi_table_length(h);
	const uint8_t *t = len >= ACPI_SDT_HEADER_SIZE ? map(ctx, phys, len) : NULL;
	return t && acpi_table_valid(t, len, sig) ? t : NULL;
}

int acpi_find_cpus(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, uint32_t *apic_ids,
		   unsigned max, const char **why)
{
	const uint8_t *rsdp = rsdp_phys ? map(ctx, rsdp_phys, RSDP_V1_LENGTH) : NULL;
	if (!rsdp) {
		*why = "no RSDP";
		return -1;
	}
	const uint8_t *rsdp2 = rsdp[RSDP_REVISION_OFFSET] >= 2 ? map(ctx, rsdp_phys, RSDP_V2_LENGTH) : NULL;
	uint32_t rsdt = 0;
	uint64_t xsdt = rsdp2 ? acpi_rsdp_xsdt(rsdp2, RSDP_V2_LENGTH, &rsdt)
			      : acpi_rsdp_xsdt(rsdp, RSDP_V1_LENGTH, &rsdt);
	const uint8_t *sdt = xsdt ? map_table(map, ctx, xsdt, "XSDT") : map_table(map, ctx, rsdt, "RSDT");
	if (!sdt) {
		*why = xsdt ? "the XSDT is unreadable or its checksum is wrong"
			    : "the RSDT is unreadable or its checksum is wrong";
		return -1;
	}
	unsigned entry_size = xsdt ? 8 : 4;
	const uint8_t *madt = NULL;
	for (unsigned i = 0; i < acpi_sdt_entries(sdt, entry_size) && !madt; i++)
		madt = map_table(map, ctx, acpi_sdt_entry(sdt, entry_size, i), MADT_SIGNATURE);
	if (!madt) {
		*why = "no valid MADT (APIC table)";
		return -1;
	}
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	struct acpi_madt_info info;
	if (acpi_madt_parse_cpus(madt, acpi_table_length(madt), cpus, ACPI_MAX_CPUS, &info) < 0) {
		*why = "the MADT's entry list is malformed";
		return -1;
	}
	/* Only enabled CPUs run; an online-capable one is hot-plug, not started here. */
	unsigned n = 0;
	for (unsigned i = 0; i < info.nr_cpus && n < max; i++)
		if (cpus[i].flags & ACPI_MADT_CPU_ENABLED)
			apic_ids[n++] = cpus[i].apic_id;
	if (n == 0) {
		*why = "the MADT lists no enabled CPU";
		return -1;
	}
	return (int)n;
}
