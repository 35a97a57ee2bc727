/* A virtual CPU as the vendor-neutral core sees it. The backend copies the guest's
 * registers here after every exit and back before the next entry. */
#ifndef NESTBED_VCPU_H
#define NESTBED_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/fw_cfg_dma.h"
#include "core/marks_format.h"
#include "core/trace.h"

struct vmm_ops;
struct nested_ops;
struct pcpu;

/* General-purpose registers in the order the exit stubs use (rsp and rip are synced
 * from the VMCB/VMCS). */
struct gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vcpu_state {
	struct gprs gpr;
	uint64_t rsp, rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer; /* efer: what the guest believes it wrote */
	uint64_t cs_base;
	bool cs_long, cs_db; /* CS.L and CS.D/B, for the instruction decoder's mode */
	uint8_t cpl;
};

struct vcpu {
	unsigned id;             /* the index of the CPU it runs on (struct pcpu) */
	unsigned level;          /* 1: the primary guest; 2: a nested guest */
	struct pcpu *cpu;        /* the physical CPU it is pinned to */
	const struct vmm_ops *ops;
	const struct nested_ops *nested;
	void *backend;           /* the vendor's per-vCPU state (VMCB, VMCS, ...) */
	void *nested_state;      /* the nested layer's per-vCPU state (struct nsvm, nvmx) */
	/* The vCPU was reset by INIT and waits for a startup IPI (SDM vol.3 9.4.4): on VMX
	 * the CPU waits in guest mode (activity state), on SVM nestbed holds it. */
	bool wait_for_sipi;
	/* Started by a SIPI (VMX): an INIT exit before its first instruction (still at
	 * vector<<12 : 0) is the INIT the CPU held while the vCPU waited for SIPI (VMX blocks
	 * INIT in wait-for-SIPI, SDM vol.3 25.2), which natively the SIPI superseded. */
	bool started_by_sipi;
	uint8_t sipi_vector;     /* of that SIPI */
	unsigned init_streak;    /* INIT exits in a row, nothing else between (run.c) */
	/* The xAPIC page whose writes nestbed performs for the guest (0: none; SVM, see
	 * apic_emulation.h). */
	uint64_t apic_page;
	struct vcpu_state state;
	struct trace trace;
	bool insn_skipped;         /* the core moved RIP past an instruction: clear the interrupt shadow */
	bool hlt_intercept_paused; /* see handle_hlt in exit_handlers.c */
	uint8_t shutdown_port_match; /* bytes of "Shutdown" seen on the Bochs port */
	struct fwcfg_dma_vcpu fwcfg;   /* this vCPU's fw_cfg DMA mediation (fw_cfg.c) */
	struct marks marks;            /* option `marks`: what it counts (marks.c) */
	struct marks_snapshot marks_snapshot; /* the line a mark prints, built here */
};

/* The register an instruction encoding names (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP,
 * 6 RSI, 7 RDI, 8-15 R8-R15: SDM vol.2 table 3-1, APM vol.3 1.3.2); NULL above 15. */
uint64_t *vcpu_gpr(struct vcpu_state *st, unsigned index);

#endif
