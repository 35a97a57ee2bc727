/* Shared by the smp/ probes: the architectural INIT state an AP must start in. */
#ifndef PROBES_SMP_PROBE_H
#define PROBES_SMP_PROBE_H

#include "lib/probe.h"
#include "lib/smp.h"

/* Fails the probe unless the entry state recorded by the trampoline at vector is the
 * state both manuals give after INIT and a startup IPI with that vector (EDX apart). */
enum probe_status smp_expect_init_state(struct probe_run *run, const struct smp_entry_state *e,
					uint8_t vector);
/* EDX: the processor signature, CPUID.1:EAX (SDM Table 10-1, APM Table 14-1). Checked
 * last by the probes: Bochs 2.7 leaves it 0 (tests/emulator/known-failures). */
enum probe_status smp_expect_init_edx(struct probe_run *run, const struct smp_entry_state *e,
				      uint32_t signature);

#endif
