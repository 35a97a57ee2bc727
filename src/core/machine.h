/* Machine-wide state nestbed keeps after boot (per-CPU state lives in struct cpu_tables
 * and, later, struct vcpu). */
#ifndef NESTBED_MACHINE_H
#define NESTBED_MACHINE_H

#include "core/boot_info.h"
#include "core/cpu_caps.h"
#include "core/cpuid_policy.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/smram.h"

struct machine {
	struct boot_info *bi;
	struct nestbed_options options;
	struct cpu_caps caps;
	struct guest_memmap guest_map;
	struct cpuid_policy cpuid_policy; /* what the primary guest sees */
	/* Devices nestbed mediates, found at boot (fw_cfg.c, smram_lock.c). */
	bool fwcfg_dma;                   /* QEMU's fw_cfg DMA interface is there */
	enum smram_chipset smram_chipset; /* the host bridge whose SMRAM nestbed locked */
};

extern struct machine machine;

void print_memory_map(const char *title, const struct mem_range *ranges, uint32_t count);

/* Runs the L0 self-tests (TAP on the console) and exits through the exit port. */
_Noreturn void selftest_run(struct machine *m);

#endif
