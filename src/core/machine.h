/* Machine-wide state nestbed keeps after boot (per-CPU state lives in struct cpu_tables
 * and, later, struct vcpu). */
#ifndef NESTBED_MACHINE_H
#define NESTBED_MACHINE_H

#include "core/bios_int15_hook.h"
#include "core/boot_info.h"
#include "core/console.h"
#include "core/cpu_caps.h"
#include "core/cpuid_policy.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/pcpu.h"
#include "core/trace.h"
#include "iommu/iommu.h"
#include "core/smram.h"

struct map_track; /* nested/map_track.h: the nested layer's, opaque to the core */
struct vmm_ops;
struct nested_ops;

struct machine {
	struct boot_info *bi;
	struct nestbed_options options;
	struct cpu_caps caps;
	struct guest_memmap guest_map;
	struct cpuid_policy cpuid_policy; /* what the primary guest sees */
	struct pcpu *cpus;                /* the CPUs nestbed owns, the boot CPU first */
	unsigned nr_cpus;
	uint64_t boot_cr0, boot_cr4; /* CR bits the boot CPU runs with, for the APs */
	struct trace stats_sum;           /* every CPU's counters, for nestbed-stats (run.c) */
	struct bios_int15_hook int15;     /* BIOS machines: the INT 15h stub */
	struct iommu_state iommu;         /* nestbed's, never the guest's */
	/* Devices nestbed mediates, found at boot (fw_cfg.c, smram_lock.c). */
	bool fwcfg_dma;                   /* QEMU's fw_cfg DMA interface is there */
	/* The device registers are the machine's, not a CPU's: one CPU at a time writes the
	 * DMA address pair, or checks and writes CONFIG_ADDRESS/CONFIG_DATA (another CPU's
	 * CONFIG_ADDRESS write between the check and the write would aim it elsewhere). */
	struct spinlock fwcfg_lock, pci_config_lock;
	enum smram_chipset smram_chipset; /* the host bridge whose SMRAM nestbed locked */
	/* L1's permission-map pages the nested layer's merged maps depend on (every vCPU's
	 * write to one is caught), under their lock (nested/map_track_machine.c). */
	struct map_track *map_track;
	struct spinlock map_track_lock;
	/* Set once, never cleared: a vCPU executed a VM instruction (exit_handlers.c
	 * handle_vm_insn) or turned on a nested EFER bit (SVME). Until then no vCPU has
	 * nested state another CPU could ask it to pick up, and the nested layer's
	 * before-entry hook is skipped (run.c). Machine-wide, not per vCPU: one vCPU's
	 * nested paging write-protects every vCPU's L1 table and asks each to flush
	 * (nested/map_track_machine.c). */
	volatile uint32_t nested_used;
	/* What pcpu_this() gives the boot CPU before it runs on its struct pcpu's tables
	 * (early boot, or while it keeps the firmware's): its per-CPU bookkeeping then. */
	struct pcpu early_cpu;
	struct console_state console;     /* console.c: its lock and extra sink */
	/* Where a single-step #DB is the emulator's (exception.c), and how many came. */
	uint64_t tolerated_step_rip[2];
	unsigned spurious_steps;
	uint64_t wake_hlt_rip;            /* the HLT of vmm_ops.idle (exception_wake_site) */
	/* The secret behind the canary hypercall, set at boot (exit_handlers.c). */
	uint64_t l0_canary[2];
	/* What every AP shares with the boot CPU once it runs nestbed's code (run.c). */
	const struct vmm_ops *ap_ops;
	const struct nested_ops *ap_nested;
	volatile uint32_t aps_ready;      /* APs whose vCPU is parked */
};

extern struct machine machine;

void print_memory_map(const char *title, const struct mem_range *ranges, uint32_t count);

/* Runs the L0 self-tests (TAP on the console) and exits through the exit port. */
_Noreturn void selftest_run(struct machine *m);

#endif
