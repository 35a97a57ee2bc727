/* A guest's WRMSR to an MSR nestbed lets through to the CPU (the primary guest's own
 * WRMSR, and the VM-entry/VM-exit MSR-load areas nestbed performs for an L1): nestbed's
 * checks first, then the CPU's. */
#ifndef NESTBED_GUEST_MSR_H
#define NESTBED_GUEST_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"

/* 0, or -1 when the guest gets #GP(0) (nothing was written). */
int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);

/* Does [pa, pa + len) overlap the register page of this CPU's local APIC (xAPIC mode)?
 * nestbed must not write there for a guest: its writes would land in APIC registers. */
bool cpu_apic_page_overlaps(uint64_t pa, uint64_t len);

#endif
