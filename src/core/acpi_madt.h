/* The ACPI tables a CPU census reads: the system description table header (ACPI 6.4
 * 5.2.6), the RSDP's RSDT/XSDT addresses (5.2.5.3), the RSDT/XSDT entry lists (5.2.7,
 * 5.2.8) and the MADT's processor entries (5.2.12): Processor Local APIC (type 0,
 * 5.2.12.2) and Processor Local x2APIC (type 9, 5.2.12.12). Pure: the caller maps each
 * table and passes its bytes, so nestbed and the conformance guests share it and the host
 * tests it. */
#ifndef NESTBED_ACPI_MADT_H
#define NESTBED_ACPI_MADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_SDT_HEADER_SIZE 36 /* 5.2.6, Table 5.4 */
#define ACPI_MADT_HEADER_LENGTH 44 /* the SDT header, Local Interrupt Controller Address, Flags */
#define ACPI_MADT_LOCAL_APIC   0  /* 5.2.12.2, Table 5.22 */
#define ACPI_MADT_LOCAL_X2APIC 9  /* 5.2.12.12, Table 5.33 */
#define ACPI_MADT_CPU_ENABLED        (1u << 0) /* Local APIC Flags, Table 5.23 */
#define ACPI_MADT_CPU_ONLINE_CAPABLE (1u << 1)

/* One processor as the MADT lists it. */
struct acpi_cpu {
	uint32_t apic_id;      /* local APIC ID (type 0: 8 bits) or x2APIC ID (type 9) */
	uint32_t uid;          /* ACPI Processor UID */
	uint32_t flags;        /* ACPI_MADT_CPU_* */
	bool x2apic_entry;     /* listed by a type 9 entry */
};

struct acpi_madt_info {
	uint32_t local_apic_address; /* the MADT header's, 5.2.12 Table 5.19 */
	uint32_t madt_flags;         /* bit 0: PCAT_COMPAT (8259s present) */
	unsigned nr_cpus;            /* entries stored in cpus[] */
	unsigned nr_listed;          /* processor entries seen, stored or not */
};

/* True if t (avail bytes readable) holds a whole table with this signature whose
 * length is at least the header's and whose bytes sum to 0 (5.2.6). */
bool acpi_table_valid(const uint8_t *t, size_t avail, const char signature[4]);

/* The length field of an SDT header (36 readable bytes at t). */
uint32_t acpi_table_length(const uint8_t *t);

/* The RSDP (rsdp_len readable bytes): the XSDT address when the revision is 2 or more,
 * the extended checksum holds and the address is non-zero; else 0 and *rsdt gets the
 * RSDT address. Returns 0 and *rsdt 0 for a bad RSDP (5.2.5.3). */
uint64_t acpi_rsdp_xsdt(const uint8_t *rsdp, size_t rsdp_len, uint32_t *rsdt);

/* Number of table addresses in an RSDT (entry_size 4) or XSDT (8), and the i-th. */
unsigned acpi_sdt_entries(const uint8_t *sdt, unsigned entry_size);
uint64_t acpi_sdt_entry(const uint8_t *sdt, unsigned entry_size, unsigned i);

/* Walks a validated MADT of len bytes: every enabled or online-capable processor, in
 * table order, the first max of them into cpus[]; an APIC ID listed twice (a type 0
 * and a type 9 entry for the same CPU) counts once. Returns -1 for a malformed entry
 * list (an entry shorter than its type's size or running past the table), else 0. */
int acpi_madt_parse_cpus(const uint8_t *madt, size_t len, struct acpi_cpu *cpus, unsigned max,
			 struct acpi_madt_info *info);

#define RSDP_V1_LENGTH 20 /* ACPI 5.2.5.3, table 5.3 */

#endif
