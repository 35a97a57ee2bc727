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

/* Physical memory as the parser reads it: copies len bytes at phys into buf; 0, or -1
 * when the range is not readable (outside memory). */
typedef int (*acpi_read_fn)(void *ctx, uint64_t phys, void *buf, size_t len);

#define ACPI_MAX_CPUS 64
/* Room for the RSDT/XSDT and the MADT (each up to half): tables of machines with
 * hundreds of CPUs fit. */
#define ACPI_MADT_SCRATCH_SIZE (128u * 1024)

/* The CPUs the MADT lists as enabled (ACPI 6.4, 5.2.12.2 processor local APIC and
 * 5.2.12.12 processor local x2APIC structures, flags bit 0), in table order, each APIC
 * ID once. Through the RSDP at rsdp_phys (the XSDT when revision >= 2, else the RSDT),
 * with every length and checksum checked; scratch holds ACPI_MADT_SCRATCH_SIZE bytes.
 * Returns the number found (at most max), or -1
 * with a reason in *why when there is no usable MADT. Pure. */
int acpi_madt_cpus(acpi_read_fn read, void *ctx, uint64_t rsdp_phys, uint8_t *scratch,
		   uint32_t *apic_ids, unsigned max, const char **why);

#endif
