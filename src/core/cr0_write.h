/* What writing CR0 does architecturally, the same on Intel and AMD (SDM vol.2 "MOV-Move
 * to/from Control Registers", vol.3 2.5 and 9.8.5; APM vol.2 3.1.1 and 14.6): the #GP(0)
 * rules and the EFER.LMA change. A backend that intercepts CR0 writes emulates them with
 * this, then applies its own view (VMX: forced bits and read shadows; SVM: EFER.LME kept
 * from the CPU while paging is off). Pure: also compiled for host tests. */
#ifndef NESTBED_CR0_WRITE_H
#define NESTBED_CR0_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/x86.h"

#define CR0_LMSW_BITS 0xfull /* LMSW writes PE, MP, EM, TS (SDM vol.2 "LMSW") */
#define CR0_PAGING_BITS (CR0_PG | CR0_WP | CR0_PE) /* a change flushes translations */
#define CR0_HIGH_BITS 0xffffffff00000000ull        /* reserved: #GP(0) when set */

/* The vCPU's state the rules look at. */
struct cr0_write_view {
	uint64_t cr0, cr4, efer;
	bool cs_l; /* CS.L: with EFER.LMA, 64-bit code */
};

struct cr0_write_effect {
	uint64_t efer;  /* EFER afterwards: LMA follows PG when LME is set (9.8.5) */
	bool pg_on, pg_off;
	bool flush_tlb; /* PG, WP or PE changed */
};

/* 0 and *out filled, or -1: the write raises #GP(0) (reserved bits 63:32; PG without PE;
 * NW without CD; PG set with EFER.LME and either CR4.PAE clear or CS.L set; PG cleared in
 * 64-bit code). */
int cr0_write(const struct cr0_write_view *cur, uint64_t value, struct cr0_write_effect *out);

/* The CR0 value LMSW produces: bits 3:0 from the source, except that it never clears
 * PE. CLTS is a write of CR0 & ~TS. */
uint64_t cr0_lmsw_value(uint64_t cr0, uint16_t source);

#endif
