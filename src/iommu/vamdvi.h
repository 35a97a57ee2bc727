/* A virtual AMD-Vi for the primary guest (L1): the register file L1 programs, the
 * commands it queues, and the device-table entries and I/O page tables nestbed builds
 * for the real IOMMU from L1's, so that a device's DMA goes where L1's tables say and
 * never into nestbed's memory (AMD I/O Virtualization Technology (IOMMU) Specification
 * 48882 rev 3.x). Pure: no hardware access, host-tested (tests/unit/test_vamdvi.c); the
 * hardware half is vamdvi_hw.c.
 *
 * L1 sees the machine's own IOMMU (its PCI function and its IVRS, both the firmware's) and
 * programs it at the firmware's register address; those pages are nestbed's (unmapped in
 * NPT), so each access exits and lands here. */
#ifndef NESTBED_VAMDVI_H
#define NESTBED_VAMDVI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 3.4 MMIO register offsets (the 16 KiB block) */
#define VAMDVI_REG_DEVTAB 0x0000      /* 51:12 base, 8:0 size in 4 KiB - 1 */
#define VAMDVI_REG_CMDBUF 0x0008      /* 51:12 base, 59:56 ComLen (log2 entries, 8..15) */
#define VAMDVI_REG_EVLOG 0x0010       /* 51:12 base, 59:56 EventLen */
#define VAMDVI_REG_CONTROL 0x0018
#define VAMDVI_REG_EXCL_BASE 0x0020
#define VAMDVI_REG_EXCL_LIMIT 0x0028
#define VAMDVI_REG_EFR 0x0030         /* Extended Feature Register (read-only) */
#define VAMDVI_REG_CMD_HEAD 0x2000    /* 18:4 byte offset */
#define VAMDVI_REG_CMD_TAIL 0x2008
#define VAMDVI_REG_EV_HEAD 0x2010
#define VAMDVI_REG_EV_TAIL 0x2018
#define VAMDVI_REG_STATUS 0x2020
#define VAMDVI_MMIO_SIZE 0x4000u

/* 3.4.6 control register bits */
#define VAMDVI_CTRL_IOMMU_EN (1ull << 0)
#define VAMDVI_CTRL_EVLOG_EN (1ull << 2)
#define VAMDVI_CTRL_COMWAIT_INT_EN (1ull << 4)
#define VAMDVI_CTRL_CMDBUF_EN (1ull << 12)
/* 3.4.13 status register: EventOverflow, EventLogInt and ComWaitInt are RW1C */
#define VAMDVI_STATUS_EV_OVERFLOW (1ull << 0)
#define VAMDVI_STATUS_EVLOG_INT (1ull << 1)
#define VAMDVI_STATUS_COMWAIT_INT (1ull << 2)
#define VAMDVI_STATUS_EVLOG_RUN (1ull << 3)
#define VAMDVI_STATUS_CMDBUF_RUN (1ull << 4)
#define VAMDVI_STATUS_RW1C (VAMDVI_STATUS_EV_OVERFLOW | VAMDVI_STATUS_EVLOG_INT | \
			    VAMDVI_STATUS_COMWAIT_INT)
/* 3.4.5 EFR: what the virtual unit offers: IASup (bit 6, INVALIDATE_IOMMU_ALL) and
 * HATS (11:10) = 00b, 4 levels. No PPR, guest translation, GA or x2APIC. */
#define VAMDVI_EFR_IA_SUP (1ull << 6)
#define VAMDVI_EFR VAMDVI_EFR_IA_SUP

#define VAMDVI_ADDR_MASK 0x000ffffffffff000ull
#define VAMDVI_LEN_SHIFT 56
#define VAMDVI_PTR_MASK 0x7fff0ull    /* head/tail: 18:4 */
#define VAMDVI_CMD_SIZE 16u
#define VAMDVI_DTE_SIZE 32u

/* 2.4 commands: opcode in bits 63:60 of the first qword */
#define VAMDVI_CMD_COMPLETION_WAIT 0x1
#define VAMDVI_CMD_INV_DEVTAB_ENTRY 0x2
#define VAMDVI_CMD_INV_IOMMU_PAGES 0x3
#define VAMDVI_CMD_INV_IOTLB_PAGES 0x4
#define VAMDVI_CMD_INV_INTERRUPT_TABLE 0x5
#define VAMDVI_CMD_PREFETCH_IOMMU_PAGES 0x6
#define VAMDVI_CMD_INV_IOMMU_ALL 0x8
/* 2.4.1 COMPLETION_WAIT: s (store, bit 0), i (interrupt, bit 1), store address 51:3 */
#define VAMDVI_CW_S (1ull << 0)
#define VAMDVI_CW_I (1ull << 1)
#define VAMDVI_CW_ADDR_MASK 0x000ffffffffffff8ull

/* 2.2.2 device-table entry fields */
#define VAMDVI_DTE_V (1ull << 0)
#define VAMDVI_DTE_TV (1ull << 1)
#define VAMDVI_DTE_MODE_SHIFT 9
#define VAMDVI_DTE_MODE_MASK (7ull << 9)
#define VAMDVI_DTE_IR (1ull << 61)
#define VAMDVI_DTE_IW (1ull << 62)
#define VAMDVI_DTE_DOMAIN_MASK 0xffffull            /* qword 1 */
#define VAMDVI_DTE_IV (1ull << 0)                   /* qword 2 */
#define VAMDVI_DTE_INTTABLEN_SHIFT 1                /* qword 2 4:1: log2 entries */
#define VAMDVI_DTE_INTTAB_MASK 0x000fffffffffffc0ull /* qword 2 51:6 */
#define VAMDVI_DTE_INIT_PASS (1ull << 56)           /* qword 2 */
#define VAMDVI_DTE_INT_KEEP (VAMDVI_DTE_IV | 0x1eull | 1ull << 5 /* IG */ | \
			     VAMDVI_DTE_INTTAB_MASK | 1ull << 57 /* EIntPass */ | \
			     1ull << 58 /* NMIPass */ | 3ull << 60 /* IntCtl */ | \
			     1ull << 62 /* Lint0Pass */ | 1ull << 63 /* Lint1Pass */)
/* 2.2.7: an interrupt remapping table entry is 4 bytes (16 with GA, not offered);
 * checked as 16 so a table is safe whichever format the unit reads. */
#define VAMDVI_IRTE_MAX_SIZE 16u
#define VAMDVI_IRT_MAX_LEN 11u                      /* IntTabLen > 1011b is reserved */

/* 2.2.3 I/O page-table entries */
#define VAMDVI_PTE_PR (1ull << 0)
#define VAMDVI_PTE_NEXT_SHIFT 9
#define VAMDVI_PTE_NEXT_MASK (7ull << 9)
#define VAMDVI_PTE_KEEP (VAMDVI_PTE_PR | VAMDVI_DTE_IR | VAMDVI_DTE_IW)
#define VAMDVI_MAX_LEVELS 4u          /* HATS 00b */

struct vamdvi_regs {
	uint64_t devtab, cmdbuf, evlog, control, excl_base, excl_limit;
	uint64_t cmd_head, cmd_tail, ev_head, ev_tail, status;
};

/* MMIO: off is the byte offset of an aligned 4- or 8-byte access. A read returns the
 * value (0 for registers the virtual unit does not have). */
uint64_t vamdvi_read(const struct vamdvi_regs *r, uint32_t off, unsigned size);

/* What a write asks of the caller. */
enum vamdvi_action {
	VAMDVI_NONE,
	VAMDVI_RUN_COMMANDS,     /* new commands between head and tail */
	VAMDVI_RESYNC_ALL,       /* IommuEn changed: every real entry is rebuilt */
};
enum vamdvi_action vamdvi_write(struct vamdvi_regs *r, uint32_t off, unsigned size,
				uint64_t value);

/* REP STOS of count elements of size bytes (1, 2, 4, 8), each `value`, from byte offset
 * off (aligned to size): the part up to the end of off's 4 KiB page, done as 8-byte
 * writes of the registers it covers whole (Xen 4.17 clears the block when it maps it).
 * Returns the elements done; *action is the most the writes asked for
 * (VAMDVI_RESYNC_ALL over VAMDVI_RUN_COMMANDS over VAMDVI_NONE). */
uint64_t vamdvi_fill(struct vamdvi_regs *r, uint32_t off, unsigned size, uint64_t count,
		     uint64_t value, enum vamdvi_action *action);

struct vamdvi_cmd {
	unsigned opcode;
	uint16_t device_id;      /* INVALIDATE_DEVTAB_ENTRY, INVALIDATE_INTERRUPT_TABLE */
	uint16_t domain;         /* INVALIDATE_IOMMU_PAGES */
	uint64_t store_addr;     /* COMPLETION_WAIT */
	uint64_t store_data;
	bool store, interrupt;
};
/* Decodes one 16-byte command: 0, or -1 for an opcode the unit does not know (the
 * spec's ILLEGAL_COMMAND_ERROR). */
int vamdvi_cmd_decode(const uint64_t c[2], struct vamdvi_cmd *out);

/* Where the command processing reaches L1's memory and the real unit. */
struct vamdvi_env {
	void *ctx;
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);   /* L1 memory: 0 or -1 */
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void (*inv_dte)(void *ctx, uint16_t device_id);
	void (*inv_domain)(void *ctx, uint16_t domain);
	void (*inv_all)(void *ctx);
};
/* Runs the commands from head to tail (the unit is enabled with its command buffer),
 * then head = tail. Stops at an illegal command or one whose buffer entry L1's memory
 * cannot give; returns how many ran. */
unsigned vamdvi_run_commands(struct vamdvi_regs *r, const struct vamdvi_env *env);

/* The real device-table entry for L1's entry l1[4], given the shadow root nestbed built
 * for l1's page tables (0 if none: blocked) and the identity root (nestbed's own table:
 * all memory but nestbed's). irt_ok says L1's interrupt table lies in its RAM. The real
 * entry never lets an INIT through (InitPass clear): an INIT must not reach a CPU. */
void vamdvi_compose_dte(const uint64_t l1[4], bool unit_enabled, uint64_t shadow_root,
			uint16_t shadow_domain, uint64_t identity_root, uint16_t identity_domain,
			bool irt_ok, uint64_t out[4]);

/* Does L1's entry translate through its own page tables (V, TV, Mode 1..4)? */
bool vamdvi_dte_translates(const uint64_t l1[4]);
/* The byte range of L1's interrupt table, 0 in *len when IV is clear. */
void vamdvi_dte_irt(const uint64_t l1[4], uint64_t *base, uint64_t *len);

/* Builds nestbed's copy of L1's I/O page tables: the same translations but only to
 * pages that are L1's (leaf_ok), with large pages split where they cover some of
 * nestbed's memory; non-present, malformed or unreachable entries (a table outside L1's
 * RAM, level skipping, non-default page sizes) leave holes. */
struct vamdvi_shadow_env {
	void *ctx;
	/* L1's table page at gpa (512 entries, each read once), NULL unless it is L1's RAM */
	const volatile uint64_t *(*table)(void *ctx, uint64_t gpa);
	bool (*leaf_ok)(void *ctx, uint64_t pa, uint64_t len);
	uint64_t (*alloc)(void *ctx);              /* a zeroed frame, 0 when none is left */
	uint64_t *(*ptr)(void *ctx, uint64_t frame);
};
struct vamdvi_shadow_stats {
	uint64_t leaves, dropped, tables;
	bool out_of_memory;
};
/* Root of the copy (levels deep, 1..4), 0 when no frame was left for the root. */
uint64_t vamdvi_shadow_build(const struct vamdvi_shadow_env *env, uint64_t l1_root,
			     unsigned levels, struct vamdvi_shadow_stats *stats);
/* Frees a copy's frames (tables only: leaves point at L1's pages). */
void vamdvi_shadow_free(const struct vamdvi_shadow_env *env, uint64_t root, unsigned levels,
			void (*free_frame)(void *ctx, uint64_t frame));

#endif
