/* Nested AMD-V: L1 runs its guests (L2) in VMCBs (VMCB12) that nestbed checks and merges
 * into a VMCB of its own (VMCB02). APM vol.2 chapter 15. */
#ifndef NESTBED_NSVM_H
#define NESTBED_NSVM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/paging.h"
#include "core/vcpu.h"
#include "svm/svm.h"

#define NSVM_L2_ASID 2             /* nestbed's ASID for every L2 (1 is L1's) */
#define NSVM_OFFERED_ASIDS 16      /* CPUID 8000_000Ah EBX as L1 sees it */
/* CPUID 8000_000Ah EDX as L1 sees it: nested paging, next-RIP saving and decode assists,
 * the last two provided even where the CPU lacks them, by decoding L2's instruction
 * (APM vol.3 E.4.9). */
#define NSVM_OFFERED_FEATURES (SVM_FEATURE_NP | SVM_FEATURE_NRIPS | SVM_FEATURE_DECODE_ASSISTS)
/* Offered where the CPU has them: VMCB02 takes L1's pause filter fields as they are. */
#define NSVM_OFFERED_IF_HOST (SVM_FEATURE_PAUSE_FILTER | SVM_FEATURE_PAUSE_FILTER_THRESHOLD)
#define VINTR_MASKING (1ull << 24)  /* V_INTR_MASKING, APM vol.2 15.21.1 */
#define VINTR_VGIF_BITS ((1ull << 9) | (1ull << 25))

struct nsvm {
	bool gif;                /* L1's global interrupt flag */
	/* An NMI L1 intercepted for its L2: nestbed took the physical one, and L1 gets it
	 * once its GIF is 1 again (APM vol.2 15.17.1 holds it pending meanwhile). */
	bool nmi_pending_l1;
	bool in_l2;
	uint64_t hsave_pa;       /* VM_HSAVE_PA as L1 wrote it */
	uint64_t vm_cr;
	uint64_t vmcb12_pa;
	struct vmcb *vmcb01, *vmcb02;
	uint64_t vmcb01_pa, vmcb02_pa;
	uint8_t *iopm02, *msrpm02;
	uint64_t iopm02_pa, msrpm02_pa;
	struct vcpu_state l1_state; /* L1's registers while L2 runs (RIP past VMRUN) */
	struct vmcb vmcb12;      /* L1's VMCB as read at VMRUN (control intercepts used to reflect) */
	uint8_t iopm12[SVM_IOPM_PAGES * 4096] __attribute__((aligned(8)));
	uint8_t msrpm12[SVM_MSRPM_PAGES * 4096] __attribute__((aligned(8)));
	/* the shadow NPT: L2-physical -> host-physical, a cache of L1's NPT composed with
	 * nestbed's; dropped whenever L1 asks for a TLB flush */
	struct paging shadow;
	uint64_t shadow_ncr3_12; /* the L1 table it caches */
	uint32_t last_asid12;
	bool flush_l2;
	bool host_nrips;         /* the CPU saves nRIP itself */
	bool host_decode_assists; /* the CPU fills the DecodeAssists fields itself */
	uint32_t host_pause_filter; /* SVM_FEATURE_PAUSE_FILTER(_THRESHOLD) of the CPU */
};

/* DecodeAssists for the #VMEXIT L1 is about to get (decode_assists_l2.c): EXITINFO1
 * (*info1, the value the exit has so far) and the instruction bytes in *c12, from the
 * CPU's own values when it has the feature, else from L2's instruction at its RIP. */
void nsvm_decode_assists(struct vcpu *v, const struct nsvm *n, uint32_t code, uint64_t *info1,
			 struct vmcb_control *c12);

#endif
