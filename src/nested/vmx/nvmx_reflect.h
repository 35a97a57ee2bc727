/* Does L1 want this exit of its guest? The VMCS12 controls decide, as the CPU would
 * decide for L1 (SDM vol.3 25.1-25.3 and 26.1: instructions that always exit, exiting
 * controls, the exception bitmap with the #PF error-code filter, CR masks and shadows,
 * CR3-target values, I/O and MSR bitmaps). Pure, host-tested. */
#ifndef NESTBED_NVMX_REFLECT_H
#define NESTBED_NVMX_REFLECT_H

#include <stdbool.h>
#include <stdint.h>

/* The VMCS12 controls the decision reads. */
struct nvmx_exit_controls {
	uint32_t pin, proc, proc2; /* proc2 already 0 when proc does not activate it */
	uint32_t exception_bitmap, pfec_mask, pfec_match;
	uint64_t cr0_mask, cr0_shadow, cr4_mask, cr4_shadow;
	uint32_t cr3_target_count;
	uint64_t cr3_targets[4];
	/* L1's bitmaps (NULL when the control does not use them): I/O A then B (8 KiB),
	 * MSR (4 KiB). */
	const uint8_t *io_bitmaps;
	const uint8_t *msr_bitmap;
};

/* What the exit says. */
struct nvmx_exit_event {
	uint32_t reason;         /* basic exit reason */
	uint64_t qualification;
	uint32_t intr_info;      /* exception or NMI exits */
	uint32_t error_code;     /* of an exception that has one */
	uint32_t msr;            /* RDMSR/WRMSR: the guest's ECX */
	uint64_t cr_value;       /* MOV to CR: the source register's value */
};

bool nvmx_l1_wants_exit(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e);

/* One MSR's bit in a 4 KiB MSR bitmap (24.6.9): true when the access exits (also for
 * MSRs outside both ranges, which always exit). */
bool nvmx_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write);

#define MSR_HIGH_BASE 0xc0000000u /* 24.6.9: the MSR bitmaps' high range */

#endif
