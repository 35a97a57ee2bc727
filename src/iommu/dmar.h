/* The ACPI DMA Remapping table (DMAR) that describes Intel VT-d units: pure parsing,
 * host-tested (Intel VT-d spec 3.x, chapter 8). */
#ifndef NESTBED_DMAR_H
#define NESTBED_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_SIGNATURE "DMAR"
/* VT-d 8.1: after the 36-byte ACPI header, Host Address Width (1 byte, value N means
 * N+1 bits), Flags (1 byte), 10 reserved bytes, then the remapping structures. */
#define DMAR_HAW_OFFSET 36
#define DMAR_FLAGS_OFFSET 37
#define DMAR_STRUCTS_OFFSET 48
/* VT-d 8.2: every remapping structure starts with Type (2 bytes) and Length (2 bytes). */
#define DMAR_TYPE_DRHD 0
#define DMAR_TYPE_RMRR 1
#define DMAR_STRUCT_HEADER 4
/* VT-d 8.3: DRHD: Flags (1 byte, bit 0 INCLUDE_PCI_ALL), Size (1 byte, bits 3:0: the
 * register set spans 2^Size 4 KiB pages), Segment (2 bytes), Register Base (8 bytes),
 * then device scope entries. */
#define DMAR_DRHD_LENGTH 16
#define DMAR_DRHD_FLAGS 4
#define DMAR_DRHD_SIZE 5
#define DMAR_DRHD_SEGMENT 6
#define DMAR_DRHD_BASE 8
#define DMAR_DRHD_INCLUDE_PCI_ALL 0x01u
#define DMAR_DRHD_SIZE_MASK 0x0fu

#define DMAR_MAX_UNITS 16

struct dmar_unit {
	uint64_t reg_base;       /* 4 KiB aligned */
	uint64_t reg_size;       /* bytes: 4 KiB << Size */
	uint16_t segment;
	bool include_pci_all;
};

struct dmar_info {
	uint8_t host_address_width; /* bits */
	uint8_t flags;
	uint32_t nr_units;
	struct dmar_unit units[DMAR_MAX_UNITS];
	uint32_t nr_rmrr;           /* reserved memory regions the firmware reports */
};

/* Parses the whole table (len bytes, header included). Returns 0, or -1 with a one-line
 * reason in err (bad checksum, a structure running past the end, no DRHD, ...). */
int dmar_parse(const uint8_t *table, size_t len, struct dmar_info *out, char *err,
	       size_t errlen);

#endif
