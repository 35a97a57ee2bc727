/* VMCS12 check verdicts kept per group with the slots each read (vmcs12_check_cache.h). */
#include "nested/vmx/vmcs12_check_cache.h"

#ifdef HOST_TEST
#include <string.h>
#else
#include "core/string.h"
#endif

/* The view a group runs on: reads go to the VMCS12 and are recorded by slot. */
struct recording {
	const struct vmcs12_view *base;
	uint64_t *reads;
	bool read_memory;
};

static uint64_t record_read(const void *ctx, uint32_t encoding)
{
	const struct recording *rec = ctx;
	struct vmcs12_field f;
	/* an unsupported field reads as a constant 0: nothing to depend on */
	if (vmcs12_field_lookup(encoding, &f))
		rec->reads[f.slot / 64] |= 1ull << (f.slot % 64);
	return rec->base->read(rec->base->ctx, encoding);
}

static int record_read_phys(const void *ctx, uint64_t pa, uint64_t *value)
{
	struct recording *rec = (struct recording *)ctx;
	rec->read_memory = true; /* L1's memory changes without a VMWRITE: no verdict kept */
	return rec->base->read_phys(rec->base->ctx, pa, value);
}

void vmcs12_check_cache_reset(struct vmcs12_check_cache *cc)
{
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		cc->passed[g] = false;
}

static bool intersects(const uint64_t *a, const uint64_t *b)
{
	for (unsigned i = 0; i < VMCS12_SLOT_WORDS; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

bool vmcs12_check_cache_will_run(const struct vmcs12_check_cache *cc)
{
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		if (!cc->passed[g] || intersects(cc->reads[g], cc->changed))
			return true;
	return false;
}

/* One group: its verdict when it still holds, else a recorded run. */
static int run_group(struct vmcs12_check_cache *cc, enum vmcs12_check_group g, const struct vmcs12_view *v,
		     const struct nvmx_caps *c, struct vmcs12_check_result *r)
{
	if (cc->passed[g]) {
		r->insn_error = 0;
		r->exit_reason = 0;
		r->qualification = 0;
		r->rule = 0;
		return 0;
	}
	struct recording rec = { v, cc->reads[g], false };
	struct vmcs12_view view = { record_read, record_read_phys, &rec };
	memset(cc->reads[g], 0, sizeof(cc->reads[g]));
	cc->runs[g]++;
	int rc = g == VMCS12_CHECK_CONTROLS ? vmcs12_check_controls(&view, c, r) :
		 g == VMCS12_CHECK_HOST ? vmcs12_check_host_state(&view, c, r) :
					  vmcs12_check_guest_state(&view, c, r);
	cc->passed[g] = rc == 0 && !rec.read_memory;
	return rc;
}

int vmcs12_check_entry_cached(struct vmcs12_check_cache *cc, const struct vmcs12_view *v,
			      const struct nvmx_caps *c, bool l1_in_ia32e_mode, uint64_t current_vmcs_pa,
			      struct vmcs12_check_result *r)
{
	/* a verdict whose slots changed is gone; the changes are then accounted for */
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		if (cc->passed[g] && intersects(cc->reads[g], cc->changed))
			cc->passed[g] = false;
	memset(cc->changed, 0, sizeof(cc->changed));
	/* the SDM's order: controls, host state, L1's mode (26.2.4), guest state */
	if (run_group(cc, VMCS12_CHECK_CONTROLS, v, c, r) || run_group(cc, VMCS12_CHECK_HOST, v, c, r) ||
	    vmcs12_check_l1_mode(v, l1_in_ia32e_mode, r) || run_group(cc, VMCS12_CHECK_GUEST, v, c, r) ||
	    vmcs12_check_link_pointer_not_current(v, current_vmcs_pa, r))
		return -1;
	return 0;
}
