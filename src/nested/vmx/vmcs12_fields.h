/* The VMCS12 fields nestbed emulates for L1 (SDM vol.3 24.11.2 field encodings, appendix
 * B): encoding -> slot in nestbed's VMCS12 layout, width, read-only. An encoding not in
 * the table is an unsupported component (VMREAD/VMWRITE error 12). Pure, host-tested. */
#ifndef NESTBED_NVMX_VMCS12_FIELDS_H
#define NESTBED_NVMX_VMCS12_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

/* Field encoding layout, SDM vol.3 24.11.2 table 24-21. */
#define VMCS_ENC_ACCESS_HIGH 1u            /* bit 0: the high 32 bits of a 64-bit field */
#define VMCS_ENC_TYPE_SHIFT 10             /* bits 11:10: control, exit info, guest, host */
#define VMCS_ENC_TYPE_MASK 3u
#define VMCS_ENC_TYPE_READ_ONLY 1u         /* VM-exit information: read-only (24.9) */
#define VMCS_ENC_WIDTH_SHIFT 13            /* bits 14:13: 16-bit, 64-bit, 32-bit, natural */
#define VMCS_ENC_WIDTH_MASK 3u
#define VMCS_ENC_INDEX_SHIFT 1             /* bits 9:1 */
#define VMCS_ENC_INDEX_MASK 0x1ffu

enum vmcs_width { VMCS_WIDTH_16 = 0, VMCS_WIDTH_64 = 1, VMCS_WIDTH_32 = 2, VMCS_WIDTH_NATURAL = 3 };

struct vmcs12_field {
	int slot;             /* index into the VMCS12 value array; -1: unsupported */
	enum vmcs_width width;
	bool high;            /* access to the high half of a 64-bit field */
	bool read_only;       /* an exit-information field */
};

/* How many fields the table has (the VMCS12 value array's length). */
#define VMCS12_FIELD_COUNT 160

/* Looks an encoding up; returns false (and f->slot = -1) when nestbed does not support
 * the component: reserved bits set, high access to a non-64-bit field, or not listed. */
bool vmcs12_field_lookup(uint32_t encoding, struct vmcs12_field *f);

/* The supported fields by slot: count and full encoding (access type 0). */
unsigned vmcs12_field_count(void);
uint32_t vmcs12_field_encoding(unsigned slot);

/* The highest index (bits 9:1) among the supported encodings: IA32_VMX_VMCS_ENUM[9:1]
 * (A.9). */
unsigned vmcs12_highest_index(void);

/* Value as stored for a VMWRITE of `value` (truncated to the field's width; the high
 * half of a 64-bit field replaces bits 63:32 of `old`). */
uint64_t vmcs12_field_store(const struct vmcs12_field *f, uint64_t old, uint64_t value);
/* What VMREAD returns for a stored value (the high half, or the value by width). */
uint64_t vmcs12_field_load(const struct vmcs12_field *f, uint64_t stored);

/* The fast path for nestbed's own accesses by a full encoding it names (access type 0):
 * the slot, or -1 when the field is not supported. With a constant encoding the key
 * folds to a constant and the lookup is one byte load (an entry and an exit access some
 * 200 fields). */
#define VMCS12_KEY_INDEX_LIMIT 32u
extern uint8_t vmcs12_slot_by_key[4 * 4 * VMCS12_KEY_INDEX_LIMIT]; /* slot + 1, 0: unsupported */
void vmcs12_fields_init(void);  /* builds the table: before the first vmcs12_slot_of */
static inline int vmcs12_slot_of(uint32_t encoding)
{
	unsigned width = (encoding >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK;
	unsigned type = (encoding >> VMCS_ENC_TYPE_SHIFT) & VMCS_ENC_TYPE_MASK;
	unsigned index = (encoding >> VMCS_ENC_INDEX_SHIFT) & VMCS_ENC_INDEX_MASK;
	if (index >= VMCS12_KEY_INDEX_LIMIT || (encoding & VMCS_ENC_ACCESS_HIGH))
		return -1;
	return (int)vmcs12_slot_by_key[(width * 4 + type) * VMCS12_KEY_INDEX_LIMIT + index] - 1;
}
/* The value mask of a field by its encoding's width (a stored value is always masked). */
static inline uint64_t vmcs12_width_mask(uint32_t encoding)
{
	switch ((encoding >> VMCS_ENC_WIDTH_SHIFT) & VMCS_ENC_WIDTH_MASK) {
	case VMCS_WIDTH_16: return 0xffffull;
	case VMCS_WIDTH_32: return 0xffffffffull;
	default: return ~0ull;
	}
}

#endif
