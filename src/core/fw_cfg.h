/* QEMU's fw_cfg DMA interface, mediated by nestbed (design in fw_cfg.c). */
#ifndef NESTBED_FW_CFG_H
#define NESTBED_FW_CFG_H

#include <stdbool.h>

#include "core/exit.h"
#include "core/vcpu.h"

struct machine;

/* At boot: is fw_cfg there with its DMA interface? Sets m->fwcfg_dma and prints one
 * `nestbed: fw_cfg ...` line. Leaves the device's selector at 0 (its reset value). */
void fwcfg_detect(struct machine *m);

/* The guest's IN or OUT on the DMA address register (non-string). */
void fwcfg_dma_io(struct vcpu *v, const struct exit_io *io);

#endif
