/* INIT and startup IPIs never reach a CPU from the guest where the CPU has no
 * wait-for-SIPI state for guests (AMD-V): the guest's ICR writes exit (its xAPIC page is
 * read-only in NPT, x2APIC's ICR MSR is intercepted), nestbed performs every other APIC
 * write itself, and emulates INIT and SIPI on the target vCPUs (issue 10). */
#ifndef NESTBED_APIC_EMULATION_H
#define NESTBED_APIC_EMULATION_H

#include <stdbool.h>

#include "core/exit.h"
#include "core/vcpu.h"

/* A nested page fault at L1: true when it was a write to the vCPU's protected xAPIC
 * page, now done (or emulated) and the instruction skipped. */
bool apic_mmio_write_exit(struct vcpu *v, struct exit *e);

/* A WRMSR of the x2APIC ICR: done or emulated (the caller skips the instruction). */
void apic_x2apic_icr_write(struct vcpu *v, uint64_t value);

/* Makes CPU c leave guest mode (SVM: an NMI, which nestbed intercepts; apic_nmi_was_kick
 * tells it apart from the guest's): its next entry picks up what it was asked to. */
struct pcpu;
void apic_kick(struct pcpu *c);

/* An NMI exit: true when another CPU sent it to make this one read its mailbox
 * (consumed); false when it is the guest's own NMI. */
bool apic_nmi_was_kick(struct vcpu *v);

/* The vCPU takes an INIT: its local APIC's logical destination goes back to the RESET
 * state (LDR 0, DFR all ones; SDM vol.3 11.4.7.3), which the INIT that nestbed emulates
 * or that became an INIT exit did not do to the physical one. */
void apic_init_reset(struct vcpu *v);

/* An INIT the CPU itself delivered to the vCPU (VMX INIT exit; SVM INIT intercept). */
void apic_init_exit(struct vcpu *v);

#endif
