#ifndef NESTBED_ACPI_H
#define NESTBED_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Legacy BIOS places the RSDP on a 16-byte boundary in the EBDA's first KiB or in
 * 0xE0000-0xFFFFF (ACPI 6.4, 5.2.5.1). */
#define ACPI_BIOS_AREA_BASE 0xE0000u
#define ACPI_BIOS_AREA_SIZE 0x20000u
#define BDA_EBDA_SEGMENT 0x40E
#define ACPI_EBDA_SCAN_SIZE 1024u

/* Scans `len` bytes of memory (seen at `mem`, physical address `phys`) for a valid
 * RSDP signature and checksum; returns its physical address or 0. Pure. */
uint64_t acpi_scan_rsdp(const uint8_t *mem, uint64_t phys, size_t len);

/* The System Description Table header every ACPI table starts with (ACPI 6.4, 5.2.6). */
#define ACPI_SDT_HEADER_LENGTH 36
#define ACPI_SDT_LENGTH_OFFSET 4
#define ACPI_SDT_CHECKSUM_OFFSET 9
/* RSDP fields (ACPI 6.4, 5.2.5.3). */
#define ACPI_RSDP_REVISION_OFFSET 15
#define ACPI_RSDP_RSDT_OFFSET 16
#define ACPI_RSDP_XSDT_OFFSET 24
#define ACPI_RSDP_V2_LENGTH 36
/* A root table larger than this is not believed (it would list 16k tables). */
#define ACPI_ROOT_MAX_LENGTH 0x10000u
/* A table larger than this is not believed either. */
#define ACPI_TABLE_MAX_LENGTH 0x100000u

/* Where the tables are reachable: the bytes [phys, phys+len) or NULL when they are not
 * memory this walker may read (nestbed: its identity map; host tests: a buffer). */
typedef uint8_t *(*acpi_map_fn)(void *ctx, uint64_t phys, uint64_t len);

/* The physical address of the first table with signature sig (4 bytes) listed in the
 * XSDT (ACPI 2.0+ RSDP) or else the RSDT whose checksum is valid, and its length; 0
 * when there is none. Pure. */
uint64_t acpi_find_table(uint64_t rsdp_phys, const char *sig, acpi_map_fn map, void *ctx,
			 uint32_t *length);

/* Removes every entry that points at a table with signature sig from the RSDT and the
 * XSDT, in place: the later entries move down, the length shrinks, the checksum is
 * made good again. Returns the number of entries removed. Pure. */
int acpi_hide_table(uint64_t rsdp_phys, const char *sig, acpi_map_fn map, void *ctx);

#define ACPI_MAX_CPUS 64

/* The CPUs the MADT lists as enabled (ACPI 6.4 5.2.12.2, 5.2.12.12: flags bit 0), in
 * table order, each APIC ID once. Returns the number found (at most max), or -1 with a
 * reason in *why. Pure. */
int acpi_find_cpus(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, uint32_t *apic_ids,
		   unsigned max, const char **why);

#endif
