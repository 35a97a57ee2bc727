/* VMCB clean bits for L1 (APM vol.2 15.15.3, "VMCB Clean Bits", table 15-9): on a VMRUN of
 * the same VMCB12 by the same vCPU as the last successful one, a group whose clean bit L1
 * set keeps the value nestbed read (and checked) last time; every other field is read
 * again. nestbed honours the groups below and reads every other one (the APM lets a CPU
 * ignore any clean bit). Pure, host-tested. */
#ifndef NESTBED_NSVM_VMCB12_CLEAN_H
#define NESTBED_NSVM_VMCB12_CLEAN_H

#include <stdint.h>

#include "svm/vmcb.h"

/* VMCB clean field bits (APM vol.2 table 15-9) */
#define VMCB_CLEAN_I (1u << 0)     /* intercept vectors, TSC_OFFSET, pause filter */
#define VMCB_CLEAN_IOPM (1u << 1)  /* IOPM_BASE_PA, MSRPM_BASE_PA */
#define VMCB_CLEAN_ASID (1u << 2)  /* ASID */
#define VMCB_CLEAN_TPR (1u << 3)   /* V_TPR ... V_INTR_VECTOR (0x60-0x67): always read */
#define VMCB_CLEAN_NP (1u << 4)    /* N_CR3, G_PAT */
#define VMCB_CLEAN_CRX (1u << 5)   /* CR0, CR3, CR4, EFER */
#define VMCB_CLEAN_DRX (1u << 6)   /* DR6, DR7 */
#define VMCB_CLEAN_DT (1u << 7)    /* GDTR, IDTR */
#define VMCB_CLEAN_SEG (1u << 8)   /* CS, DS, SS, ES, CPL */
#define VMCB_CLEAN_CR2 (1u << 9)   /* CR2 */
#define VMCB_CLEAN_LBR (1u << 10)  /* DBGCTL, BR_FROM/TO, LASTEXCP_FROM/TO */
/* The groups nestbed keeps when clean. TPR is read at every VMRUN (V_IRQ and vGIF live
 * there, 8 bytes), AVIC and later groups are not offered. */
#define VMCB12_CLEAN_HONOURED (VMCB_CLEAN_I | VMCB_CLEAN_IOPM | VMCB_CLEAN_ASID | VMCB_CLEAN_NP | \
			       VMCB_CLEAN_CRX | VMCB_CLEAN_DRX | VMCB_CLEAN_DT | VMCB_CLEAN_SEG | \
			       VMCB_CLEAN_CR2 | VMCB_CLEAN_LBR)
/* What VMRUN reads of the control area: to the end of the instruction bytes */
#define VMCB12_CONTROL_BYTES 0x0e0u

/* Fills *cached (nestbed's copy of VMCB12) from L1's page `live` (each field read once):
 * the control area's defined fields (VMCB12_CONTROL_BYTES) but the groups in `keep`, and
 * every save-area field VMRUN loads but the groups in `keep` (L1's clean bits `clean`,
 * masked with VMCB12_CLEAN_HONOURED by the caller when the VMCB12 may keep them, 0 on a
 * full copy) into both *cached and VMCB02's save area v02: a group kept is in VMCB02
 * already, as L2 left it at the last #VMEXIT. The state VMLOAD loads (FS, GS, TR, LDTR,
 * the syscall MSRs) is not VMRUN's and is not read. cached->control.clean_bits is
 * `clean`, the value `keep` came from. */
void vmcb12_clean_load(struct vmcb *cached, struct vmcb_save *v02, const struct vmcb *live,
		       uint32_t clean, uint32_t keep);

#endif
