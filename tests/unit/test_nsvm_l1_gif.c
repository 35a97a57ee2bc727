/* covers: src/nested/svm/l1_gif.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nested/svm/l1_gif.h"

static struct l1_gif_intercepts of(bool svme, bool v_gif, bool direct, bool held, bool waits)
{
	/* direct delivery just begun (see test_direct_ends) */
	struct l1_gif_state s = { .svme = svme, .v_gif = v_gif, .intr_direct = direct,
				  .held = held, .event_waits = waits, .fresh = true,
				  .end_early = true };
	struct l1_gif_intercepts i = l1_gif_intercepts(&s);
	assert_int_equal(i.direct, direct);
	return i;
}

/* L1 without EFER.SVME: CLGI and STGI exit (nestbed raises #UD), INTR as before */
static void test_no_svme(void **state)
{
	(void)state;
	struct l1_gif_intercepts i = of(false, true, true, false, false);
	assert_true(i.clgi);
	assert_true(i.stgi);
	assert_false(i.intr);
	i = of(false, false, false, false, false);
	assert_true(i.intr);
}

/* GIF 1 and INTR given to L1 directly: only CLGI exits (it ends the direct delivery) */
static void test_direct(void **state)
{
	(void)state;
	struct l1_gif_intercepts i = of(true, true, true, false, false);
	assert_true(i.clgi);
	assert_false(i.stgi);
	assert_false(i.intr);
}

/* after a CLGI: nothing exits but INTR, whatever V_GIF became since (KVM's
 * CLGI ... VMRUN ... STGI runs without CLGI/STGI exits) */
static void test_watching(void **state)
{
	(void)state;
	for (int v_gif = 0; v_gif < 2; v_gif++) {
		struct l1_gif_intercepts i = of(true, v_gif, false, false, false);
		assert_false(i.clgi);
		assert_false(i.stgi);
		assert_true(i.intr);
	}
}

/* an interrupt held for GIF: STGI exits to let it in */
static void test_held(void **state)
{
	(void)state;
	struct l1_gif_intercepts i = of(true, false, false, true, false);
	assert_true(i.stgi);
	assert_false(i.clgi);
}

/* an NMI or INIT waiting: STGI exits while V_GIF is 0, not once it is 1 */
static void test_event_waits(void **state)
{
	(void)state;
	assert_true(of(true, false, false, false, true).stgi);
	assert_false(of(true, true, false, false, true).stgi);
	assert_true(of(true, false, true, false, true).clgi);
}

/* direct delivery for an L1 that runs guests (end_early) ends at the first entry after
 * the one that began it that finds no interrupt left for L1 (it took it): INTR exits
 * again and CLGI does not; while one waits, or for an idle L1, or at the first entry,
 * nothing changes */
static void test_direct_ends(void **state)
{
	(void)state;
	struct l1_gif_state s = { .svme = true, .v_gif = true, .intr_direct = true,
				  .end_early = true };
	struct l1_gif_intercepts i = l1_gif_intercepts(&s);
	assert_false(i.direct);
	assert_true(i.intr);
	assert_false(i.clgi);
	assert_false(i.stgi);
	s.interrupt_pending = true;            /* still waiting (L1's IF 0) */
	i = l1_gif_intercepts(&s);
	assert_true(i.direct);
	assert_false(i.intr);
	assert_true(i.clgi);
	s.interrupt_pending = false;
	s.fresh = true;                        /* the entry that delivers it (ExtINT: no IRR) */
	assert_true(l1_gif_intercepts(&s).direct);
	s.fresh = false;
	s.end_early = false;                   /* an idle L1: no INTR exit per interrupt */
	i = l1_gif_intercepts(&s);
	assert_true(i.direct);
	assert_true(i.clgi);
	/* not direct: nothing makes it so */
	s.intr_direct = false;
	s.end_early = true;
	s.interrupt_pending = true;
	i = l1_gif_intercepts(&s);
	assert_false(i.direct);
	assert_true(i.intr);
	assert_false(i.clgi);
	/* without SVME CLGI and STGI exit for the #UD: direct delivery costs nothing, stays */
	s.svme = false;
	s.intr_direct = true;
	s.interrupt_pending = false;
	i = l1_gif_intercepts(&s);
	assert_true(i.direct);
	assert_false(i.intr);
	assert_true(i.clgi && i.stgi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_svme),
		cmocka_unit_test(test_direct),
		cmocka_unit_test(test_watching),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_event_waits),
		cmocka_unit_test(test_direct_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
