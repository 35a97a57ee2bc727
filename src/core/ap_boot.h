/* Every CPU under nestbed (issue 10): nestbed finds the CPUs in the MADT, starts each AP
 * itself with INIT-SIPI-SIPI through its own trampoline, enables VT-x/AMD-V on it, and
 * parks its vCPU in the architectural wait-for-SIPI state before the guest runs, so no
 * guest instruction ever runs outside guest mode on any CPU. */
#ifndef NESTBED_AP_BOOT_H
#define NESTBED_AP_BOOT_H

#include "core/machine.h"

/* Fills m->cpus and m->nr_cpus from the MADT (the boot CPU first); one CPU when the
 * firmware describes none. */
void smp_discover(struct machine *m);

/* Starts every AP; each runs ap_entry(m, cpu) on its own stack. Returns once all are
 * online; an AP that does not come up is fatal (a CPU outside nestbed is a hole). */
void smp_start_aps(struct machine *m, void (*ap_entry)(struct pcpu *c));

#endif
