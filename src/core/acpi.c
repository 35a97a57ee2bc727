#include "core/acpi.h"

#include <stdbool.h>

#include "core/acpi_madt.h"
#include "core/little_endian.h"

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

static uint8_t byte_sum(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;
	for (uint64_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* A table at phys with a sane length and a valid checksum: its bytes, else NULL. */
static uint8_t *map_table(uint64_t phys, uint32_t max_length, acpi_map_fn map, void *ctx)
{
	if (!phys)
		return NULL;
	uint8_t *h = map(ctx, phys, ACPI_SDT_HEADER_LENGTH);
	if (!h)
		return NULL;
	uint32_t len = le32(h + ACPI_SDT_LENGTH_OFFSET);
	if (len < ACPI_SDT_HEADER_LENGTH || len > max_length)
		return NULL;
	uint8_t *t = map(ctx, phys, len);
	if (!t || byte_sum(t, len) != 0)
		return NULL;
	return t;
}

/* The root tables the RSDP names: [0] the RSDT (4-byte entries), [1] the XSDT (8-byte
 * entries, ACPI 2.0+), each NULL when absent or invalid. */
static void root_tables(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, uint8_t *roots[2])
{
	roots[0] = roots[1] = NULL;
	const uint8_t *r = rsdp_phys ? map(ctx, rsdp_phys, RSDP_V1_LENGTH) : NULL;
	if (!r || byte_sum(r, RSDP_V1_LENGTH) != 0)
		return;
	roots[0] = map_table(le32(r + ACPI_RSDP_RSDT_OFFSET), ACPI_ROOT_MAX_LENGTH, map, ctx);
	if (r[ACPI_RSDP_REVISION_OFFSET] >= 2) {
		const uint8_t *r2 = map(ctx, rsdp_phys, ACPI_RSDP_V2_LENGTH);
		if (r2 && byte_sum(r2, ACPI_RSDP_V2_LENGTH) == 0)
			roots[1] = map_table(le64(r2 + ACPI_RSDP_XSDT_OFFSET), ACPI_ROOT_MAX_LENGTH,
					     map, ctx);
	}
}

static uint64_t root_entry(const uint8_t *root, unsigned size, uint32_t i)
{
	const uint8_t *p = root + ACPI_SDT_HEADER_LENGTH + (uint64_t)i * size;
	return size == 8 ? le64(p) : le32(p);
}

static bool has_signature(uint64_t phys, const char *sig, acpi_map_fn map, void *ctx)
{
	const uint8_t *h = phys ? map(ctx, phys, ACPI_SDT_HEADER_LENGTH) : NULL;
	return h && h[0] == (uint8_t)sig[0] && h[1] == (uint8_t)sig[1] &&
	       h[2] == (uint8_t)sig[2] && h[3] == (uint8_t)sig[3];
}

uint64_t acpi_find_table(uint64_t rsdp_phys, const char *sig, acpi_map_fn map, void *ctx,
			 uint32_t *length)
{
	uint8_t *roots[2];
	root_tables(rsdp_phys, map, ctx, roots);
	for (int k = 1; k >= 0; k--) {   /* the XSDT first, as ACPI 2.0+ OSes do */
		const uint8_t *root = roots[k];
		if (!root)
			continue;
		unsigned size = k ? 8 : 4;
		uint32_t n = (le32(root + ACPI_SDT_LENGTH_OFFSET) - ACPI_SDT_HEADER_LENGTH) / size;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t phys = root_entry(root, size, i);
			if (!has_signature(phys, sig, map, ctx))
				continue;
			const uint8_t *t = map_table(phys, ACPI_TABLE_MAX_LENGTH, map, ctx);
			if (!t)
				continue;
			if (length)
				*length = le32(t + ACPI_SDT_LENGTH_OFFSET);
			return phys;
		}
	}
	return 0;
}

int acpi_hide_table(uint64_t rsdp_phys, const char *sig, acpi_map_fn map, void *ctx)
{
	uint8_t *roots[2];
	root_tables(rsdp_phys, map, ctx, roots);
	int removed = 0;
	for (int k = 0; k < 2; k++) {
		uint8_t *root = roots[k];
		if (!root)
			continue;
		unsigned size = k ? 8 : 4;
		uint32_t len = le32(root + ACPI_SDT_LENGTH_OFFSET);
		uint32_t n = (len - ACPI_SDT_HEADER_LENGTH) / size, kept = 0;
		uint8_t *entries = root + ACPI_SDT_HEADER_LENGTH;
		for (uint32_t i = 0; i < n; i++) {
			if (has_signature(root_entry(root, size, i), sig, map, ctx)) {
				removed++;
				continue;
			}
			if (kept != i)
				for (unsigned b = 0; b < size; b++)
					entries[kept * size + b] = entries[i * size + b];
			kept++;
		}
		if (kept == n)
			continue;
		/* Bytes past the new end (the freed entries, any trailing byte) are zeroed so
		 * the table does not keep the hidden address. */
		uint32_t new_len = ACPI_SDT_HEADER_LENGTH + kept * size;
		for (uint32_t b = new_len; b < len; b++)
			root[b] = 0;
		put_le32(root + ACPI_SDT_LENGTH_OFFSET, new_len);
		root[ACPI_SDT_CHECKSUM_OFFSET] = 0;
		root[ACPI_SDT_CHECKSUM_OFFSET] = (uint8_t)(0 - byte_sum(root, new_len));
	}
	return removed;
}

/* nestbed's CPU census: the MADT acpi_find_table finds, parsed by acpi_madt.c. */
int acpi_find_cpus(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, uint32_t *apic_ids,
		   unsigned max, const char **why)
{
	uint32_t len = 0;
	uint64_t phys = acpi_find_table(rsdp_phys, "APIC", map, ctx, &len);
	const uint8_t *madt = phys ? map(ctx, phys, len) : NULL;
	if (!madt) {
		*why = "no valid MADT (APIC table)";
		return -1;
	}
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	struct acpi_madt_info info;
	if (acpi_madt_parse_cpus(madt, len, cpus, ACPI_MAX_CPUS, &info) < 0) {
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
