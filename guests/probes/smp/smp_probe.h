/* Shared by the smp/ probes: the architectural INIT state an AP must start in. */
#ifndef PROBES_SMP_PROBE_H
#define PROBES_SMP_PROBE_H

#include "lib/probe.h"
#include "lib/smp.h"

/* Fails the probe unless the entry state recorded by the trampoline at vector is the
 * state both manuals give after INIT and a startup IPI with that vector. */
enum probe_status smp_expect_init_state(struct probe_run *run, const struct smp_entry_state *e,
					uint8_t vector, uint32_t signature);

#endif
