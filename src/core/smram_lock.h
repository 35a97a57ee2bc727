/* SMRAM locked at boot and kept locked (design in smram_lock.c). */
#ifndef NESTBED_SMRAM_LOCK_H
#define NESTBED_SMRAM_LOCK_H

#include <stdbool.h>

#include "core/exit.h"
#include "core/vcpu.h"

struct machine;

/* Identifies the host bridge (00:00.0) by vendor and device ID; locks its SMRAM control
 * if the firmware left it open; sets m->smram_chipset; prints one `nestbed: smram ...`
 * line. */
void smram_lock_at_boot(struct machine *m);

/* The guest's IN or OUT on the PCI configuration ports (non-string): forwarded, with
 * any byte of the host bridge's SMRAM control it writes filtered by the lock. */
void smram_pci_io(struct vcpu *v, const struct exit_io *io);

#endif
