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

#endif
