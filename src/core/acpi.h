#ifndef NESTBED_ACPI_H
#define NESTBED_ACPI_H

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

/* Physical memory as the census reads it: a pointer to len readable bytes at phys, or
 * NULL when the range is not readable (outside memory). */
typedef const uint8_t *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

#define ACPI_MAX_CPUS 64

/* The CPUs the MADT lists as enabled (ACPI 6.4 5.2.12.2, 5.2.12.12: flags bit 0), in
 * table order, each APIC ID once, through the RSDP at rsdp_phys and the XSDT (revision
 * >= 2) or RSDT, every length and checksum checked. Returns the number found (at most
 * max), or -1 with a reason in *why. Pure. */
int acpi_find_cpus(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, uint32_t *apic_ids,
		   unsigned max, const char **why);

#endif
