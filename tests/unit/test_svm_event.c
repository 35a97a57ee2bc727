/* covers: src/svm/svm_event.c */
/* Re-delivery of the event an exit interrupted (APM vol.2 15.7.2, 15.20), with the event
 * values QEMU 7.2 and the APM give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "svm/svm_event.h"
#include "svm/vmcb.h"

#define EV(type, vector) (SVM_EVENT_VALID | ((uint64_t)(type) << SVM_EVENT_TYPE_SHIFT) | (vector))
#define WITH_ERROR(ev, code) ((ev) | SVM_EVENT_ERROR_VALID | ((uint64_t)(code) << 32))
#define RIP 0x401000ull
#define NEXT 0x401002ull

static void test_normalize(void **state)
{
	(void)state;
	assert_int_equal(svm_event_normalize(0), 0);
	assert_int_equal(svm_event_normalize(0x20), 0); /* not valid: nothing */
	/* QEMU's typing of an interrupt and of an NMI, with its stray error code */
	assert_int_equal(svm_event_normalize(EV(3, 0x30)), EV(0, 0x30));
	assert_int_equal(svm_event_normalize(WITH_ERROR(EV(3, 0xec), 5)), EV(0, 0xec));
	assert_int_equal(svm_event_normalize(EV(3, 2)), EV(2, 2));
	/* what the APM types already stays */
	assert_int_equal(svm_event_normalize(EV(0, 0x30)), EV(0, 0x30));
	assert_int_equal(svm_event_normalize(EV(2, 2)), EV(2, 2));
	assert_int_equal(svm_event_normalize(WITH_ERROR(EV(3, 14), 2)), WITH_ERROR(EV(3, 14), 2));
	assert_int_equal(svm_event_normalize(EV(3, 31)), EV(3, 31));
	assert_int_equal(svm_event_normalize(EV(4, 0x80)), EV(4, 0x80));
	assert_int_equal(svm_event_normalize(EV(4, 3)), EV(4, 3));
}

static void test_soft(void **state)
{
	(void)state;
	assert_true(svm_event_is_soft(EV(4, 0x80)));
	assert_true(svm_event_is_soft(EV(4, 3)));
	assert_true(svm_event_is_soft(EV(3, 3)));
	assert_true(svm_event_is_soft(EV(3, 4)));
	assert_false(svm_event_is_soft(EV(3, 6)));
	assert_false(svm_event_is_soft(EV(0, 3)));
	assert_false(svm_event_is_soft(EV(2, 2)));
	assert_false(svm_event_is_soft(3ull << 8 | 3)); /* not valid */
}

static void test_redeliver(void **state)
{
	(void)state;
	struct svm_entry_event none = { 0, RIP, 0 };
	uint64_t nrip = 0xdead;
	/* nothing in flight: nothing injected */
	assert_int_equal(svm_event_redeliver(0, &none, RIP, &nrip), 0);
	/* hardware events and exceptions again, as the APM types them, error code kept */
	assert_int_equal(svm_event_redeliver(EV(3, 0x41), &none, RIP, &nrip), EV(0, 0x41));
	assert_int_equal(svm_event_redeliver(EV(3, 2), &none, RIP, &nrip), EV(2, 2));
	assert_int_equal(svm_event_redeliver(WITH_ERROR(EV(3, 14), 3), &none, RIP, &nrip),
			 WITH_ERROR(EV(3, 14), 3));
	assert_int_equal(nrip, 0xdead);
	/* the guest's own INT3 (QEMU: type 4, the APM: type 3), INTn, INTO: executed again */
	assert_int_equal(svm_event_redeliver(EV(4, 3), &none, RIP, &nrip), 0);
	assert_int_equal(svm_event_redeliver(EV(3, 3), &none, RIP, &nrip), 0);
	assert_int_equal(svm_event_redeliver(EV(4, 0x80), &none, RIP, &nrip), 0);
	assert_int_equal(svm_event_redeliver(EV(3, 4), &none, RIP, &nrip), 0);
	/* the software event the entry injected: injected again, with its next_rip */
	struct svm_entry_event inj = { EV(4, 0x80), RIP, NEXT };
	assert_int_equal(svm_event_redeliver(EV(4, 0x80), &inj, RIP, &nrip), EV(4, 0x80));
	assert_int_equal(nrip, NEXT);
	struct svm_entry_event bp = { EV(3, 3), RIP, NEXT };
	nrip = 0;
	assert_int_equal(svm_event_redeliver(EV(3, 3), &bp, RIP, &nrip), EV(3, 3));
	assert_int_equal(nrip, NEXT);
	/* ... but not once RIP moved (the injected one was delivered, the guest raised
	 * another) nor for another event */
	assert_int_equal(svm_event_redeliver(EV(4, 0x80), &inj, RIP + 7, &nrip), 0);
	assert_int_equal(svm_event_redeliver(EV(4, 0x81), &inj, RIP, &nrip), 0);
	/* a hardware event in flight after an injected software one: that event */
	assert_int_equal(svm_event_redeliver(EV(0, 0x30), &inj, RIP, &nrip), EV(0, 0x30));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_soft),
		cmocka_unit_test(test_redeliver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
