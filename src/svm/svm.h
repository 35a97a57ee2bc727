/* The AMD-V backend's internals (APM vol.2 chapter 15). */
#ifndef NESTBED_SVM_H
#define NESTBED_SVM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/machine.h"
#include "core/vcpu.h"
#include "svm/svm_event.h"
#include "svm/vmcb.h"
#include "core/x86.h"

#define SVM_FEATURE_NP (1u << 0)     /* CPUID 8000_000Ah EDX, APM vol.3 E.4.9 */
#define SVM_FEATURE_NRIPS (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN (1u << 5)
#define SVM_FEATURE_DECODE_ASSISTS (1u << 7)
#define SVM_FEATURE_VGIF (1u << 16)
#define SVM_FEATURE_PAUSE_FILTER (1u << 10)  /* APM vol.2 15.14.4 */
#define SVM_FEATURE_PAUSE_FILTER_THRESHOLD (1u << 12)
#define SVM_PRIMARY_ASID 1

struct svm_vcpu {
	struct vmcb *vmcb;        /* the VMCB the next entry uses: L1's, or an L2's (nested) */
	struct vmcb *vmcb01;      /* L1's own */
	uint64_t vmcb_pa;
	/* The VMCB of the guest's FS, GS, TR, LDTR and syscall MSRs (VMLOAD/VMSAVE around
	 * the run): L1's (vmcb01) always, also while an L2 runs (nested/svm: VMRUN and
	 * #VMEXIT leave that state in the CPU, APM 15.5.2) */
	uint64_t state_vmcb_pa;
	bool host_if;             /* RFLAGS.IF around VMRUN: L1's, while an L2 runs */
	uint64_t host_vmcb_pa; /* VMSAVE/VMLOAD area for the host's own state */
	uint8_t *iopm;
	uint8_t *msrpm;
	uint64_t npt_root;
	uint64_t apic_base;       /* the xAPIC page the NPT maps read-only (ICR writes exit) */
	bool nrips;
	struct svm_entry_event entry_event; /* what the last VMRUN injected (svm_event.h) */
	/* L1 resumes at the HLT of an "STI; HLT" with the HLT intercept off
	 * (svm_set_hlt_intercept): the HLT's RIP and length while that holds */
	bool hlt_guard, hlt_guard_intr_was_on;
	uint8_t hlt_guard_length;
	uint64_t hlt_guard_rip;
};

void svm_decode_exit(const struct vmcb *vmcb, bool nrips, struct exit *e);
extern const char svm_vmexit_return[]; /* svm_run.asm: the instruction after VMRUN */
extern const char svm_idle_hlt[];      /* svm_backend.c: the HLT of its idle */
void svm_world_switch(uint64_t guest_vmcb_pa, struct gprs *gprs, uint64_t host_vmcb_pa,
		      uint64_t host_if, uint64_t state_vmcb_pa);
/* Loads v->state (all but the GPRs VMRUN does not hold) from the current VMCB. */
void svm_state_from_vmcb(struct vcpu *v, const struct svm_vcpu *sv);

/* Builds the primary guest's NPT: all physical memory 1:1 except nestbed's own; the
 * xAPIC page at apic_page read-only, so that the guest's APIC writes exit and nestbed
 * sees its INIT and startup IPIs.
 * Returns the root's physical address or 0. */
uint64_t svm_npt_build(const struct machine *m, uint64_t apic_page);

/* svm_long_mode_entry.c: the guest's EFER.LME is kept from the CPU while its paging is
 * off, and nestbed emulates its CR0 writes meanwhile. */
static inline uint64_t svm_efer_for_cpu(uint64_t efer, uint64_t cr0)
{
	return (cr0 & CR0_PG) ? efer : efer & ~(uint64_t)EFER_LME;
}

/* Left set once the guest has used LME: a guest that sets LME runs in long mode for
 * good, and nestbed does not need to know whether L1 asked for it (nested: the
 * reflection decision reads L1's own VMCB, not this one). */
static inline void svm_long_mode_intercepts(struct vmcb *vmcb, uint64_t efer)
{
	if (efer & EFER_LME)
		vmcb->control.intercept_cr |= SVM_INTERCEPT_CR0_WRITE;
}
/* The value the CR0 write at the guest's RIP (MOV to CR0, LMSW, CLTS) would write. */
int svm_cr0_write_value(struct vcpu *v, uint64_t *value);
int svm_cr_access(struct vcpu *v, const struct exit *e);

void svm_intercept_msr(uint8_t *msrpm, uint32_t msr, bool read, bool write);
void svm_intercept_port(uint8_t *iopm, uint16_t port);

#endif
