/* The ACPI I/O Virtualization Reporting Structure (IVRS) that describes AMD IOMMUs:
 * pure parsing, host-tested (AMD I/O Virtualization Technology (IOMMU) Specification
 * 48882 rev 3.x, 5.2). */
#ifndef NESTBED_IVRS_H
#define NESTBED_IVRS_H

#include <stddef.h>
#include <stdint.h>

#define IVRS_SIGNATURE "IVRS"
/* 5.2.1: after the 36-byte ACPI header, IVinfo (4 bytes) and 8 reserved bytes; then
 * the IVHD/IVMD blocks, each starting Type (1), Flags (1), Length (2). */
#define IVRS_BLOCKS_OFFSET 48
#define IVRS_BLOCK_HEADER 4
/* 5.2.2: IVHD types 10h, 11h and 40h describe one IOMMU each (a firmware may list the
 * same IOMMU once per type): DeviceID at 4, Capability Offset at 6, IOMMU Base Address
 * at 8 (8 bytes), PCI Segment at 16. */
#define IVRS_IVHD_10 0x10
#define IVRS_IVHD_11 0x11
#define IVRS_IVHD_40 0x40
#define IVRS_IVHD_MIN_LENGTH 24
#define IVRS_IVHD_DEVICE_ID 4
#define IVRS_IVHD_BASE 8
#define IVRS_IVHD_SEGMENT 16
/* 3.4: the IOMMU's MMIO register block is 16 KiB, 16 KiB aligned. */
#define AMDVI_MMIO_SIZE 0x4000ull

#define IVRS_MAX_UNITS 16

struct ivrs_unit {
	uint64_t reg_base;
	uint16_t segment;
	uint16_t device_id;      /* the IOMMU's own PCI requester ID */
};

struct ivrs_info {
	uint32_t nr_units;
	struct ivrs_unit units[IVRS_MAX_UNITS];
};

/* Parses the whole table (len bytes). Returns 0, or -1 with a one-line reason. */
int ivrs_parse(const uint8_t *table, size_t len, struct ivrs_info *out, char *err,
	       size_t errlen);

#endif
