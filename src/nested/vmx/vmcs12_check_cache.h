/* The VM-entry checks of a VMCS12 (vmcs12_check.h), re-run only where their input changed
 * since they last passed, as KVM re-checks only what L1 dirtied: a group of checks
 * (26.2.1 controls, 26.2.2-26.2.4 host state, 26.3.1 guest state) that passed keeps its
 * verdict together with the set of VMCS12 slots it read while passing; a change to any of
 * those slots (an L1 VMWRITE, a shadow-VMCS write nestbed pulls, a value a VM exit saved)
 * makes it run again. A check is a function of the fields it reads, the capabilities
 * offered (fixed per vCPU) and L1's memory: so a group that read L1's memory (the PDPTEs
 * of a PAE L2 without EPT, 26.3.1.6) is never cached, and the rules that depend on L1's
 * mode or the current-VMCS pointer (26.2.4, 26.3.1.5) always run. The verdicts belong to
 * one VMCS12: VMPTRLD of another one and VMCLEAR drop them (vmcs12_check_cache_reset).
 * Pure, host-tested (tests/unit/test_vmcs12_check_cache.c). */
#ifndef NESTBED_NVMX_VMCS12_CHECK_CACHE_H
#define NESTBED_NVMX_VMCS12_CHECK_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "nested/vmx/vmcs12_check.h"
#include "nested/vmx/vmcs12_fields.h"

#define VMCS12_SLOT_WORDS ((VMCS12_FIELD_COUNT + 63) / 64)

enum vmcs12_check_group { VMCS12_CHECK_CONTROLS, VMCS12_CHECK_HOST, VMCS12_CHECK_GUEST, VMCS12_CHECK_GROUPS };

struct vmcs12_check_cache {
	bool passed[VMCS12_CHECK_GROUPS];                       /* the group passed on the fields below */
	uint64_t reads[VMCS12_CHECK_GROUPS][VMCS12_SLOT_WORDS]; /* the slots it read then */
	uint64_t changed[VMCS12_SLOT_WORDS];                    /* slots changed since the verdicts */
	unsigned runs[VMCS12_CHECK_GROUPS];                     /* how often each group ran (statistics, tests) */
};

/* No verdict (a new current VMCS12, VMCLEAR, VMXOFF). */
void vmcs12_check_cache_reset(struct vmcs12_check_cache *cc);

/* A VMCS12 slot's value changed. */
static inline void vmcs12_check_cache_changed(struct vmcs12_check_cache *cc, unsigned slot)
{
	cc->changed[slot / 64] |= 1ull << (slot % 64);
}

/* Whether the next vmcs12_check_entry_cached runs a group (its verdict is missing, or a
 * slot it read changed): the caller then brings every field up to date first. */
bool vmcs12_check_cache_will_run(const struct vmcs12_check_cache *cc);

/* vmcs12_check_entry + vmcs12_check_link_pointer_not_current, with the same outcome and
 * *r, running only the groups whose verdict is missing or whose slots changed. */
int vmcs12_check_entry_cached(struct vmcs12_check_cache *cc, const struct vmcs12_view *v,
			      const struct nvmx_caps *c, bool l1_in_ia32e_mode, uint64_t current_vmcs_pa,
			      struct vmcs12_check_result *r);

#endif
