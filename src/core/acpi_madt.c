#include "core/acpi_madt.h"
#include "core/little_endian.h"

#define RSDP_V2_LENGTH 36
#define RSDP_REVISION  15
#define RSDP_RSDT      16
#define RSDP_LENGTH    20
#define RSDP_XSDT      24
#define SDT_LENGTH     4    /* offset of the length field, Table 5.4 */
#define MADT_LAPIC_ADDRESS 36
#define MADT_FLAGS         40
#define LAPIC_ENTRY_LENGTH  8  /* Table 5.22 */
#define X2APIC_ENTRY_LENGTH 16 /* Table 5.33 */

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

uint32_t acpi_table_length(const uint8_t *t)
{
	return le32(t + SDT_LENGTH);
}

bool acpi_table_valid(const uint8_t *t, size_t avail, const char signature[4])
{
	if (avail < ACPI_SDT_HEADER_SIZE)
		return false;
	for (int i = 0; i < 4; i++)
		if (t[i] != (uint8_t)signature[i])
			return false;
	uint32_t len = acpi_table_length(t);
	return len >= ACPI_SDT_HEADER_SIZE && len <= avail && checksum(t, len) == 0;
}

uint64_t acpi_rsdp_xsdt(const uint8_t *rsdp, size_t rsdp_len, uint32_t *rsdt)
{
	*rsdt = 0;
	if (rsdp_len < RSDP_V1_LENGTH || checksum(rsdp, RSDP_V1_LENGTH) != 0)
		return 0;
	*rsdt = le32(rsdp + RSDP_RSDT);
	if (rsdp[RSDP_REVISION] < 2 || rsdp_len < RSDP_V2_LENGTH)
		return 0;
	uint32_t len = le32(rsdp + RSDP_LENGTH);
	if (len < RSDP_V2_LENGTH || len > rsdp_len || checksum(rsdp, len) != 0)
		return 0;
	return le64(rsdp + RSDP_XSDT);
}

unsigned acpi_sdt_entries(const uint8_t *sdt, unsigned entry_size)
{
	return (acpi_table_length(sdt) - ACPI_SDT_HEADER_SIZE) / entry_size;
}

uint64_t acpi_sdt_entry(const uint8_t *sdt, unsigned entry_size, unsigned i)
{
	const uint8_t *p = sdt + ACPI_SDT_HEADER_SIZE + (size_t)i * entry_size;
	return entry_size == 8 ? le64(p) : le32(p);
}

static void add_cpu(struct acpi_cpu *cpus, unsigned max, struct acpi_madt_info *info,
		    struct acpi_cpu cpu)
{
	if (!(cpu.flags & (ACPI_MADT_CPU_ENABLED | ACPI_MADT_CPU_ONLINE_CAPABLE)))
		return;
	for (unsigned i = 0; i < info->nr_cpus; i++)
		if (cpus[i].apic_id == cpu.apic_id)
			return;
	info->nr_listed++;
	if (info->nr_cpus < max)
		cpus[info->nr_cpus++] = cpu;
}

int acpi_madt_parse_cpus(const uint8_t *madt, size_t len, struct acpi_cpu *cpus, unsigned max,
			 struct acpi_madt_info *info)
{
	*info = (struct acpi_madt_info){ 0 };
	if (len < ACPI_MADT_HEADER_LENGTH)
		return -1;
	info->local_apic_address = le32(madt + MADT_LAPIC_ADDRESS);
	info->madt_flags = le32(madt + MADT_FLAGS);
	for (size_t off = ACPI_MADT_HEADER_LENGTH; off < len;) {
		if (len - off < 2)
			return -1;
		uint8_t type = madt[off], entry_len = madt[off + 1];
		if (entry_len < 2 || entry_len > len - off)
			return -1;
		const uint8_t *e = madt + off;
		if (type == ACPI_MADT_LOCAL_APIC) {
			if (entry_len < LAPIC_ENTRY_LENGTH)
				return -1;
			add_cpu(cpus, max, info, (struct acpi_cpu){
				.uid = e[2], .apic_id = e[3], .flags = le32(e + 4) });
		} else if (type == ACPI_MADT_LOCAL_X2APIC) {
			if (entry_len < X2APIC_ENTRY_LENGTH)
				return -1;
			add_cpu(cpus, max, info, (struct acpi_cpu){
				.apic_id = le32(e + 4), .flags = le32(e + 8), .uid = le32(e + 12),
				.x2apic_entry = true });
		}
		off += entry_len;
	}
	return 0;
}
