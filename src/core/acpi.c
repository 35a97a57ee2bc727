#include "core/acpi.h"

#include <stdbool.h>

#define RSDP_V1_LENGTH 20
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

/* ACPI 6.4, 5.2.5.3 (RSDP), 5.2.6 (table header), 5.2.7/5.2.8 (RSDT/XSDT), 5.2.12 (MADT). */
#define RSDP_REVISION_OFFSET 15
#define RSDP_RSDT_OFFSET 16
#define RSDP_XSDT_OFFSET 24
#define RSDP_V2_LENGTH 36
#define SDT_HEADER_LENGTH 36
#define SDT_LENGTH_OFFSET 4
#define SDT_MAX_LENGTH (ACPI_MADT_SCRATCH_SIZE / 2)
#define MADT_ENTRIES_OFFSET 44       /* header, local APIC address, flags */
#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_LOCAL_X2APIC 9
#define MADT_LOCAL_APIC_LENGTH 8
#define MADT_LOCAL_X2APIC_LENGTH 16
#define MADT_CPU_ENABLED (1u << 0)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | ((uint64_t)le32(p + 4) << 32);
}

/* Reads a whole table (header, then its length) into buf; checks signature and checksum.
 * Returns its length or 0. */
static uint32_t read_table(acpi_read_fn read, void *ctx, uint64_t phys, const char *sig,
			   uint8_t *buf, uint32_t cap)
{
	if (read(ctx, phys, buf, SDT_HEADER_LENGTH))
		return 0;
	for (int i = 0; i < 4; i++)
		if (sig && buf[i] != (uint8_t)sig[i])
			return 0;
	uint32_t len = le32(buf + SDT_LENGTH_OFFSET);
	if (len < SDT_HEADER_LENGTH || len > cap || read(ctx, phys, buf, len))
		return 0;
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + buf[i]);
	return sum == 0 ? len : 0;
}

static int add_cpu(uint32_t *ids, unsigned n, unsigned max, uint32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return (int)n;
	if (n < max)
		ids[n++] = id;
	return (int)n;
}

int acpi_madt_cpus(acpi_read_fn read, void *ctx, uint64_t rsdp_phys, uint8_t *scratch,
		   uint32_t *apic_ids, unsigned max, const char **why)
{
	uint8_t rsdp[RSDP_V2_LENGTH];
	if (!rsdp_phys || read(ctx, rsdp_phys, rsdp, RSDP_V1_LENGTH)) {
		*why = "no RSDP";
		return -1;
	}
	bool xsdt = false;
	uint64_t root = le32(rsdp + RSDP_RSDT_OFFSET);
	if (rsdp[RSDP_REVISION_OFFSET] >= 2 && !read(ctx, rsdp_phys, rsdp, RSDP_V2_LENGTH) &&
	    le64(rsdp + RSDP_XSDT_OFFSET)) {
		root = le64(rsdp + RSDP_XSDT_OFFSET);
		xsdt = true;
	}
	uint8_t *sdt = scratch, *madt = scratch + SDT_MAX_LENGTH;
	uint32_t sdt_len = read_table(read, ctx, root, xsdt ? "XSDT" : "RSDT", sdt, SDT_MAX_LENGTH);
	if (!sdt_len) {
		*why = xsdt ? "the XSDT is unreadable or its checksum is wrong"
			    : "the RSDT is unreadable or its checksum is wrong";
		return -1;
	}
	unsigned entry_size = xsdt ? 8 : 4;
	uint32_t madt_len = 0;
	for (uint32_t off = SDT_HEADER_LENGTH; off + entry_size <= sdt_len && !madt_len; off += entry_size) {
		uint64_t table = xsdt ? le64(sdt + off) : le32(sdt + off);
		madt_len = read_table(read, ctx, table, "APIC", madt, SDT_MAX_LENGTH);
	}
	if (!madt_len) {
		*why = "no valid MADT (APIC table)";
		return -1;
	}
	int n = 0;
	for (uint32_t off = MADT_ENTRIES_OFFSET; off + 2 <= madt_len;) {
		uint8_t type = madt[off], len = madt[off + 1];
		if (len < 2 || off + len > madt_len)
			break; /* a malformed entry ends the list */
		if (type == MADT_TYPE_LOCAL_APIC && len >= MADT_LOCAL_APIC_LENGTH &&
		    (le32(madt + off + 4) & MADT_CPU_ENABLED))
			n = add_cpu(apic_ids, (unsigned)n, max, madt[off + 3]);
		else if (type == MADT_TYPE_LOCAL_X2APIC && len >= MADT_LOCAL_X2APIC_LENGTH &&
			 (le32(madt + off + 8) & MADT_CPU_ENABLED))
			n = add_cpu(apic_ids, (unsigned)n, max, le32(madt + off + 4));
		off += len;
	}
	if (n == 0) {
		*why = "the MADT lists no enabled CPU";
		return -1;
	}
	return n;
}
