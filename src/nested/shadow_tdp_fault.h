/* The shadow-TDP fault algorithm run for a vCPU (nested/shadow_tdp.h): a nested page
 * fault while L2 ran on its shadow table. The vendor half gives its hands in one table;
 * the steps and their order are here once for nested NPT and nested EPT. */
#ifndef NESTBED_SHADOW_TDP_FAULT_H
#define NESTBED_SHADOW_TDP_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/vcpu.h"
#include "nested/shadow_tdp.h"

struct shadow_tdp_ops {
	const char *name; /* "nested-svm", "nested-vmx": the prefix of failure lines */
	/* Walks L1's table for the access of exit e (its e->u.tdp), with L1's rules. */
	void (*walk)(struct vcpu *v, const struct exit *e, struct shadow_tdp_walk *w);
	/* L1's fault: the exit w describes goes to L1 (e->native_code set for the trace). */
	void (*reflect)(struct vcpu *v, struct exit *e, const struct shadow_tdp_walk *w);
	/* Optional: an exit L1 asked for that comes after its table's own faults and before
	 * nestbed maps the page (VMX: an access to L1's APIC-access page, 30.4.6.1): true
	 * when it went to L1. */
	bool (*after_walk)(struct vcpu *v, struct exit *e, uint64_t l1_pa);
	/* The shadow entry's attributes in the vendor's format. */
	uint64_t (*attrs)(const struct shadow_tdp_leaf *leaf);
	/* A write L1 allows to L1's page l1_pa: when it is a tracked permission map, the
	 * merges built from it go stale and it is no longer tracked (map_track_machine.h). */
	bool (*tracked_write)(struct vcpu *v, uint64_t l1_pa);
	/* The vCPU's shadow table. */
	struct tdp *(*shadow)(struct vcpu *v);
	/* The shadow table was started over at a new root: point L2's VMCB/VMCS at it and
	 * drop what the CPU caches of the old one. */
	void (*new_root)(struct vcpu *v);
	/* Optional: L2 resumes after nestbed mapped the page (VMX: put back NMI blocking an
	 * IRET had removed, 27.2.3). */
	void (*resumed)(struct vcpu *v, const struct exit *e);
};

/* A nested page fault while L2 ran with L1's nested paging on: fills the shadow table
 * or reflects L1's fault; stops the guest when L1's table lies outside its memory or
 * maps nestbed's. Returns true (the exit is handled). */
bool shadow_tdp_fault(struct vcpu *v, struct exit *e, const struct shadow_tdp_ops *ops);

/* The neutral access (TDP_R/W/X) of a nested page fault. */
unsigned shadow_tdp_access(const struct exit *e);

#endif
