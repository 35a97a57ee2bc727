/* The I/O ports nestbed intercepts on every vCPU, for both backends to program into the
 * SVM I/O permission map or the VMX I/O bitmaps. */
#ifndef NESTBED_IO_INTERCEPTS_H
#define NESTBED_IO_INTERCEPTS_H

#include <stdint.h>

struct machine;

struct port_range {
	uint16_t first, count;
};

#define IO_INTERCEPT_MAX_RANGES 4

/* Fills `out` (IO_INTERCEPT_MAX_RANGES entries) and returns how many: the exit ports
 * (QEMU's isa-debug-exit, Bochs' shutdown port), fw_cfg's DMA address register where
 * fw_cfg has DMA (fw_cfg.c), the PCI configuration ports where nestbed guards a known
 * host bridge's SMRAM control (smram_lock.c). */
unsigned io_intercepted_ports(const struct machine *m, struct port_range *out);

#endif
