/* The virtual AMD-Vi on the machine (option viommu): L1 programs the machine's own AMD
 * IOMMU, whose registers nestbed keeps; each access exits and is emulated on a register
 * file of nestbed's (vamdvi.c), and what L1's device table and I/O page tables say is
 * carried out by the real unit through entries and page tables nestbed builds. */
#ifndef NESTBED_VAMDVI_HW_H
#define NESTBED_VAMDVI_HW_H

#include <stdbool.h>

#include "core/exit.h"
#include "core/vcpu.h"

struct machine;

/* After iommu_init enabled one AMD-Vi unit: gives L1 its virtual twin. 0, or -1 with
 * a one-line reason in err. */
int vamdvi_init(struct machine *m, char *err, size_t errlen);

/* A nested page fault of L1 on the unit's registers: emulated, the instruction skipped
 * (true); false when the fault is not there. */
bool vamdvi_mmio_exit(struct vcpu *v, struct exit *e);

/* One line at the end of a run: what L1 did with its unit. */
void vamdvi_report(const struct machine *m);

#endif
