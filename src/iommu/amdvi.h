/* AMD-Vi (AMD IOMMU, spec 48882 rev 3.x): the device table entry that sends a device's
 * DMA through one I/O page table, that table's format, and the unit's registers. */
#ifndef NESTBED_AMDVI_H
#define NESTBED_AMDVI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 3.4 MMIO registers */
#define AMDVI_REG_DEVTAB 0x0000       /* bits 51:12 base, 8:0 size in 4 KiB - 1 */
#define AMDVI_REG_EVENT_LOG 0x0010    /* bits 51:12 base, 59:56 log2 of entries */
#define AMDVI_REG_CONTROL 0x0018
#define AMDVI_REG_EXCL_BASE 0x0020    /* bit 0 ExEn: the exclusion range bypasses translation */
#define AMDVI_REG_EXCL_LIMIT 0x0028
#define AMDVI_REG_CMDBUF 0x0008       /* bits 51:12 base, 59:56 log2 of entries */
#define AMDVI_REG_EFR 0x0030
#define AMDVI_REG_CMD_HEAD 0x2000
#define AMDVI_REG_CMD_TAIL 0x2008
#define AMDVI_REG_EVENT_HEAD 0x2010
#define AMDVI_REG_EVENT_TAIL 0x2018
#define AMDVI_CONTROL_IOMMU_EN (1ull << 0)
#define AMDVI_CONTROL_EVENT_LOG_EN (1ull << 2)
#define AMDVI_CONTROL_CMDBUF_EN (1ull << 12)

/* 2.2.2: device table: one 32-byte entry per 16-bit device ID; 2 MiB for all of them. */
#define AMDVI_DTE_SIZE 32
#define AMDVI_DEVICE_IDS 65536u
#define AMDVI_DEVTAB_BYTES ((uint64_t)AMDVI_DTE_SIZE * AMDVI_DEVICE_IDS)
#define AMDVI_DEVTAB_SIZE_FIELD ((AMDVI_DEVTAB_BYTES >> 12) - 1)
/* DTE qword 0: V (bit 0), TV (1), Mode = page-table levels (11:9), root (51:12), IR
 * (61), IW (62); qword 1 bits 15:0 the domain ID. */
#define AMDVI_DTE_V (1ull << 0)
#define AMDVI_DTE_TV (1ull << 1)
#define AMDVI_DTE_MODE_SHIFT 9
#define AMDVI_IR (1ull << 61)
#define AMDVI_IW (1ull << 62)
#define AMDVI_ADDR_MASK 0x000ffffffffff000ull
/* 2.2.3: I/O page-table entries: PR (bit 0), Next Level (11:9: 0 for a page, which is
 * then as large as its level maps), address (51:12), IR and IW as in the DTE. */
#define AMDVI_PTE_PR (1ull << 0)
#define AMDVI_PTE_NEXT_SHIFT 9
#define AMDVI_DOMAIN 1
/* 2.5: event log entries are 16 bytes; 256 of them (log2 8, the smallest) */
#define AMDVI_EVENT_SIZE 16
#define AMDVI_EVENT_LOG_LEN_SHIFT 56
#define AMDVI_EVENT_LOG_LEN_256 8ull
#define AMDVI_EVENT_PTR_MASK 0x7fff0ull  /* head/tail registers: byte offsets, 18:4 */

/* 2.4: a 4 KiB command buffer, 256 16-byte commands (log2 8, the smallest) */
#define AMDVI_CMD_SIZE 16
#define AMDVI_CMDBUF_LEN_256 8ull
#define AMDVI_CMDBUF_BYTES (AMDVI_CMD_SIZE << AMDVI_CMDBUF_LEN_256)
#define AMDVI_CMD_MAX_BATCH 32

/* What nestbed keeps of a unit it enabled: its tables and its command queue. */
struct amdvi_unit {
	uint64_t base;           /* registers */
	uint64_t devtab;         /* 2 MiB device table */
	uint64_t cmdbuf;         /* 4 KiB command buffer */
	uint64_t wait;           /* a frame COMPLETION_WAIT stores to */
	uint64_t cmd_tail;       /* byte offset */
	uint64_t wait_seq;
	uint64_t efr;
};

/* Pure: rewrites, in place, an identity table built by core/paging (the x86-64 format:
 * 4 levels, PS for large pages) into the AMD-Vi I/O page-table format with read and
 * write allowed. frame_ptr reaches the table frames. */
void amdvi_convert_x86_table(uint64_t root, void *(*frame_ptr)(uint64_t));

/* Pure: the device table entry for a 4-level table at root. */
void amdvi_dte(uint64_t root, uint64_t out[4]);


/* Allocates and fills the device table (every device ID: the table at root), points the
 * unit at it and at a fresh event log, switches off an exclusion range and enables
 * translation. 0, or -1 with a one-line reason. */
int amdvi_enable(uint64_t reg_base, uint64_t root, struct amdvi_unit *unit, char *err,
		 size_t errlen);

/* Queues n commands and a COMPLETION_WAIT, and waits for the unit to store its data
 * (2.4.1). 0, or -1 when the unit did not complete in time. */
int amdvi_commands(struct amdvi_unit *unit, const uint64_t (*cmds)[2], unsigned n);

/* How many events the unit logged (IO page faults among them), the first one's two
 * qwords in first[] raw: QEMU 7.2 does not lay its events out as 2.5 says. */
unsigned amdvi_events(uint64_t reg_base, uint64_t first[2]);

#endif
