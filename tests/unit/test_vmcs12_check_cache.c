/* covers: src/nested/vmx/vmcs12_check.c src/nested/vmx/vmcs12_check_cache.c src/nested/vmx/vmcs12_fields.c */
/* The cached VMCS12 entry checks (vmcs12_check_cache.h) against the full ones: on the valid
 * VMCS12s of test_vmcs12_check.c (64-bit, unrestricted real mode, PAE without EPT,
 * virtual-8086), every supported field changed to several values between two entries
 * gives exactly the outcome of a full check (VMfail number, exit reason, qualification,
 * rule), never a stale pass; unchanged fields run no group again; VMPTRLD/VMCLEAR
 * (reset) drops the verdicts. The VMCS12 builders and the capabilities are those of
 * test_vmcs12_check.c, included here with its main renamed. */
#define main test_vmcs12_check_main
#include "test_vmcs12_check.c"
#undef main

#include "nested/vmx/vmcs12_check_cache.h"

#define CURRENT_VMCS 0x5000ull

static struct vmcs12_check_cache cache;

static int cached(struct vmcs12_check_result *r)
{
	memset(r, 0, sizeof(*r));
	return vmcs12_check_entry_cached(&cache, &view, &caps, true, CURRENT_VMCS, r);
}

static int full(struct vmcs12_check_result *r)
{
	memset(r, 0, sizeof(*r));
	if (vmcs12_check_entry(&view, &caps, true, r))
		return -1;
	return vmcs12_check_link_pointer_not_current(&view, CURRENT_VMCS, r);
}

static void assert_same(int rc_full, const struct vmcs12_check_result *a, int rc_cached,
			const struct vmcs12_check_result *b, uint32_t encoding, uint64_t value)
{
	if (rc_full != rc_cached || a->insn_error != b->insn_error || a->exit_reason != b->exit_reason ||
	    a->qualification != b->qualification || a->rule != b->rule)
		fail_msg("field %#x = %#llx: full check %d (%s), cached %d (%s)", encoding, (unsigned long long)value,
			 rc_full, a->rule ? a->rule : "pass", rc_cached, b->rule ? b->rule : "pass");
}

typedef void (*builder)(void);

static void differential(builder build)
{
	build();
	vmcs12_check_cache_reset(&cache);
	struct vmcs12_check_result r, rf;
	assert_int_equal(cached(&r), 0);
	for (unsigned s = 0; s < vmcs12_field_count(); s++) {
		uint32_t enc = vmcs12_field_encoding(s);
		uint64_t old = get(enc);
		uint64_t values[] = { 0, ~0ull, old ^ 1, old ^ 2, old ^ 0x80, old ^ 0x100, old ^ 0x8000,
				      old ^ (1ull << 31), old ^ (1ull << 32), old ^ (1ull << 47), old ^ (1ull << 63),
				      old + 0x1000 };
		for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			set(enc, values[i] & vmcs12_width_mask(enc));
			vmcs12_check_cache_changed(&cache, s);
			int rc = cached(&r);
			int rcf = full(&rf);
			assert_same(rcf, &rf, rc, &r, enc, values[i]);
			set(enc, old);
			vmcs12_check_cache_changed(&cache, s);
			if (cached(&r))
				fail_msg("field %#x restored: %s", enc, r.rule);
		}
	}
}

static void test_cache_matches_full_64(void **state) { (void)state; differential(valid_64); }
static void test_cache_matches_full_ug(void **state) { (void)state; differential(valid_ug); }
static void test_cache_matches_full_pae(void **state) { (void)state; differential(valid_pae); }
static void test_cache_matches_full_v86(void **state) { (void)state; differential(valid_v86); }

/* Nothing changed: no group runs again, the entry still passes. (valid_64 without the TPR
 * shadow, whose VTPR rule reads L1's memory: that group runs at every entry, below.) */
static void test_cache_skips_unchanged(void **state)
{
	(void)state;
	valid_64();
	clear_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_TPR_SHADOW);
	vmcs12_check_cache_reset(&cache);
	memset(cache.runs, 0, sizeof(cache.runs));
	struct vmcs12_check_result r;
	assert_int_equal(cached(&r), 0);
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		assert_int_equal(cache.runs[g], 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(cached(&r), 0);
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		assert_int_equal(cache.runs[g], 1);
	/* a guest-state field re-runs the guest group only */
	set(VMCS_GUEST_RIP, get(VMCS_GUEST_RIP) + 2);
	struct vmcs12_field f;
	assert_true(vmcs12_field_lookup(VMCS_GUEST_RIP, &f));
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), 0);
	assert_int_equal(cache.runs[VMCS12_CHECK_CONTROLS], 1);
	assert_int_equal(cache.runs[VMCS12_CHECK_HOST], 1);
	assert_int_equal(cache.runs[VMCS12_CHECK_GUEST], 2);
	/* a field no check reads (an exit-information field) re-runs nothing */
	assert_true(vmcs12_field_lookup(VMCS_EXIT_REASON, &f));
	set(VMCS_EXIT_REASON, 10);
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), 0);
	assert_int_equal(cache.runs[VMCS12_CHECK_GUEST], 2);
	/* reset (VMPTRLD, VMCLEAR) runs them all */
	vmcs12_check_cache_reset(&cache);
	assert_int_equal(cached(&r), 0);
	for (unsigned g = 0; g < VMCS12_CHECK_GROUPS; g++)
		assert_int_equal(cache.runs[g], g == VMCS12_CHECK_GUEST ? 3 : 2);
	/* the TPR shadow's VTPR rule reads L1's memory: its group keeps no verdict */
	set_bits(VMCS_PROC_BASED_CTLS, VMX_PROC_TPR_SHADOW);
	assert_true(vmcs12_field_lookup(VMCS_PROC_BASED_CTLS, &f));
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), 0);
	assert_int_equal(cached(&r), 0);
	assert_int_equal(cache.runs[VMCS12_CHECK_CONTROLS], 4);
	assert_int_equal(cache.runs[VMCS12_CHECK_HOST], 2);
}

/* A bad field after a passing entry fails the next one with the full check's outcome;
 * the link pointer's current-VMCS rule and L1's mode are never cached. */
static void test_cache_one_field_between_entries(void **state)
{
	(void)state;
	valid_64();
	vmcs12_check_cache_reset(&cache);
	struct vmcs12_check_result r;
	assert_int_equal(cached(&r), 0);
	struct vmcs12_field f;
	assert_true(vmcs12_field_lookup(VMCS_HOST_CR4, &f));
	set(VMCS_HOST_CR4, get(VMCS_HOST_CR4) & ~(uint64_t)VMX_CR4_PAE);
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), -1);
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
	set(VMCS_HOST_CR4, get(VMCS_HOST_CR4) | VMX_CR4_PAE);
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), 0);
	set(VMCS_LINK_POINTER, CURRENT_VMCS);
	assert_true(vmcs12_field_lookup(VMCS_LINK_POINTER, &f));
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), -1);
	assert_int_equal(r.exit_reason, VMX_EXIT_REASON_INVALID_GUEST_STATE);
	set(VMCS_LINK_POINTER, ~0ull);
	vmcs12_check_cache_changed(&cache, (unsigned)f.slot);
	assert_int_equal(cached(&r), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(vmcs12_check_entry_cached(&cache, &view, &caps, false, CURRENT_VMCS, &r), -1);
	assert_int_equal(r.insn_error, VMX_ERROR_ENTRY_INVALID_HOST_STATE);
}

/* Walks of random changes, several fields at a time and some of them undone, each entry
 * checked cached and in full: verdicts come and go group by group, and the cached outcome
 * is the full one at every step. */
#define WALKS 400
#define WALK_STEPS 40
static void test_cache_random_walks(void **state)
{
	(void)state;
	static void (*const bases[])(void) = { valid_64, valid_ug, valid_pae, valid_v86 };
	uint64_t x = RANDOM_SEED;
	unsigned passes = 0, failures = 0;
	for (unsigned walk = 0; walk < WALKS; walk++) {
		bases[random_next(&x) % (sizeof bases / sizeof bases[0])]();
		static struct fake_l1 base;
		base = l1;
		vmcs12_check_cache_reset(&cache);
		for (unsigned step = 0; step < WALK_STEPS; step++) {
			unsigned changes = 1 + (unsigned)(random_next(&x) % 3);
			for (unsigned c = 0; c < changes; c++) {
				unsigned slot = (unsigned)(random_next(&x) % vmcs12_field_count());
				uint32_t enc = vmcs12_field_encoding(slot);
				uint64_t change = random_next(&x);
				switch (random_next(&x) % 8) { /* half the changes undo one */
				case 0: set(enc, get(enc) ^ (1ull << (change % FIELD_BITS))); break; /* one bit */
				case 1: set(enc, change); break;                                    /* anything */
				case 2: set(enc, change & SMALL_VALUE_MASK); break;                 /* small */
				default: set(enc, base.field[enc]); break;                          /* undone */
				}
				set(enc, get(enc) & vmcs12_width_mask(enc));
				vmcs12_check_cache_changed(&cache, slot);
			}
			struct vmcs12_check_result r, rf;
			int rc = cached(&r);
			int rcf = full(&rf);
			if (rcf != rc || rf.rule != r.rule || rf.insn_error != r.insn_error ||
			    rf.exit_reason != r.exit_reason || rf.qualification != r.qualification)
				fail_msg("walk %u step %u: full check %d (%s), cached %d (%s)", walk, step, rcf,
					 rf.rule ? rf.rule : "pass", rc, r.rule ? r.rule : "pass");
			if (rc)
				failures++;
			else
				passes++;
		}
	}
	/* the walks reach both outcomes often */
	print_message("random walks: %u entries passed, %u failed\n", passes, failures);
	assert_true(passes > WALKS && failures > WALKS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_skips_unchanged),
		cmocka_unit_test(test_cache_one_field_between_entries),
		cmocka_unit_test(test_cache_matches_full_64),
		cmocka_unit_test(test_cache_matches_full_ug),
		cmocka_unit_test(test_cache_matches_full_pae),
		cmocka_unit_test(test_cache_matches_full_v86),
		cmocka_unit_test(test_cache_random_walks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
