/* covers: src/core/sipi_wait.c */
/* The startup-IPI handshake (core/sipi_wait.h) under every interleaving of its steps:
 * one waiter (take, announce, look, sleep until a kick) against one or two senders (put,
 * then kick_needed). Run on one thread, each interleaving is a sequentially consistent
 * execution, the order the SEQ_CST accesses (x86: MFENCE) guarantee on a real machine.
 * Checked in every one: the waiter never sleeps for good with a SIPI posted (lost
 * wakeup), it takes one of the posted vectors, and one wait gets at most one kick (two
 * NMIs could merge into one and leave pcpu.kicks_sent ahead of kicks_seen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sipi_wait.h"

#define MAX_SENDERS 2
#define MAX_WAITER_STEPS 24   /* the waiter spins while a kick is on its way */

enum waiter_pc { W_TAKE, W_ANNOUNCE, W_LOOK, W_ASLEEP, W_DONE };
enum sender_pc { S_PUT, S_KICK, S_DONE };

struct world {
	struct sipi_wait w;
	enum waiter_pc waiter;
	unsigned waiter_steps;
	uint32_t taken;
	unsigned senders;
	enum sender_pc sender[MAX_SENDERS];
	unsigned kicks_sent, kicks_taken;
};

struct tally {
	unsigned interleavings, slept, kicks;
};

static const uint8_t vectors[MAX_SENDERS] = { 0x11, 0x12 };

/* One step of the waiter; false when it cannot move (asleep, no kick to wake it). */
static bool waiter_step(struct world *s, struct tally *t)
{
	s->waiter_steps++;
	switch (s->waiter) {
	case W_TAKE:
		s->taken = sipi_wait_take(&s->w);
		s->waiter = s->taken ? W_DONE : W_ANNOUNCE;
		if (s->taken)
			sipi_wait_end(&s->w);
		return true;
	case W_ANNOUNCE:
		sipi_wait_announce_sleep(&s->w);
		s->waiter = W_LOOK;
		return true;
	case W_LOOK:
		if (sipi_wait_sleep_allowed(&s->w)) {
			s->waiter = W_ASLEEP;
			t->slept++;
		} else {
			s->waiter = W_TAKE; /* pause, look again */
		}
		return true;
	case W_ASLEEP:
		/* an NMI sent before the HLT is held and ends it at once: any kick not yet
		 * taken wakes it */
		if (s->kicks_taken == s->kicks_sent)
			return false;
		s->kicks_taken++;
		s->waiter = W_TAKE;
		return true;
	case W_DONE:
		return false;
	}
	return false;
}

static void sender_step(struct world *s, unsigned i)
{
	if (s->sender[i] == S_PUT) {
		sipi_wait_put(&s->w, vectors[i]);
		s->sender[i] = S_KICK;
	} else if (s->sender[i] == S_KICK) {
		if (sipi_wait_kick_needed(&s->w))
			s->kicks_sent++;
		s->sender[i] = S_DONE;
	}
}

static bool senders_done(const struct world *s)
{
	for (unsigned i = 0; i < s->senders; i++)
		if (s->sender[i] != S_DONE)
			return false;
	return true;
}

static void check_end(const struct world *s, struct tally *t)
{
	t->interleavings++;
	t->kicks += s->kicks_sent;
	/* all sent, nothing can move: the waiter must have its SIPI */
	assert_int_equal(s->waiter, W_DONE);
	bool posted = false;
	for (unsigned i = 0; i < s->senders; i++)
		posted |= s->taken == (SIPI_WAIT_VALID | vectors[i]);
	assert_true(posted);
	assert_true(s->kicks_sent <= 1);
}

static void explore(const struct world *s, struct tally *t)
{
	bool moved = false;
	for (unsigned i = 0; i < s->senders; i++) {
		if (s->sender[i] == S_DONE)
			continue;
		struct world next = *s;
		sender_step(&next, i);
		explore(&next, t);
		moved = true;
	}
	if (s->waiter_steps < MAX_WAITER_STEPS) {
		struct world next = *s;
		if (waiter_step(&next, t)) {
			explore(&next, t);
			moved = true;
		}
	}
	if (!moved) {
		assert_true(senders_done(s));
		check_end(s, t);
	}
}

static struct tally run_all(unsigned senders)
{
	struct world s;
	memset(&s, 0, sizeof(s));
	s.senders = senders;
	struct tally t = { 0, 0, 0 };
	explore(&s, &t);
	return t;
}

static void one_sender_every_interleaving(void **state)
{
	(void)state;
	struct tally t = run_all(1);
	print_message("%u interleavings, %u with a sleep, %u kicks\n", t.interleavings, t.slept, t.kicks);
	assert_true(t.interleavings >= 10);
	/* the checks above ran where it matters: the waiter slept, and was woken by a kick */
	assert_true(t.slept > 0);
	assert_true(t.kicks > 0);
}

/* The MP sequence's two SIPIs (SDM vol.3A 9.4.4.1), or two CPUs at once: one kick. */
static void two_senders_one_kick(void **state)
{
	(void)state;
	struct tally t = run_all(2);
	print_message("%u interleavings, %u with a sleep, %u kicks\n", t.interleavings, t.slept, t.kicks);
	assert_true(t.interleavings >= 100);
	assert_true(t.slept > 0);
}

static void take_gives_the_vector_once(void **state)
{
	(void)state;
	struct sipi_wait w;
	memset(&w, 0, sizeof(w));
	assert_int_equal(sipi_wait_take(&w), 0);
	assert_false(sipi_wait_post(&w, 0x9a)); /* nobody sleeps: no kick */
	assert_int_equal(sipi_wait_take(&w), SIPI_WAIT_VALID | 0x9a);
	assert_int_equal(sipi_wait_take(&w), 0);
	/* vector 0 is a SIPI too (CS = 0) */
	sipi_wait_put(&w, 0);
	assert_int_equal(sipi_wait_take(&w), SIPI_WAIT_VALID);
}

static void sleeper_gets_one_kick_per_wait(void **state)
{
	(void)state;
	struct sipi_wait w;
	memset(&w, 0, sizeof(w));
	assert_true(sipi_wait_may_sleep(&w));
	assert_true(sipi_wait_post(&w, 0x10));   /* kick */
	assert_false(sipi_wait_post(&w, 0x10));  /* the second SIPI: its kick is on its way */
	assert_false(sipi_wait_may_sleep(&w));   /* the SIPI is there: no sleep */
	assert_int_equal(sipi_wait_take(&w), SIPI_WAIT_VALID | 0x10);
	sipi_wait_end(&w);
	/* the next wait (a later INIT) sleeps and is kicked again */
	assert_true(sipi_wait_may_sleep(&w));
	assert_true(sipi_wait_post(&w, 0x11));
	sipi_wait_end(&w);
	/* a SIPI after the wait ended (the second of the pair) brings no kick */
	assert_false(sipi_wait_post(&w, 0x11));
}

static void init_clears_a_stale_sipi(void **state)
{
	(void)state;
	struct sipi_wait w;
	memset(&w, 0, sizeof(w));
	sipi_wait_put(&w, 0x11);
	sipi_wait_clear(&w);
	assert_int_equal(sipi_wait_take(&w), 0);
	assert_true(sipi_wait_may_sleep(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_sender_every_interleaving),
		cmocka_unit_test(two_senders_one_kick),
		cmocka_unit_test(take_gives_the_vector_once),
		cmocka_unit_test(sleeper_gets_one_kick_per_wait),
		cmocka_unit_test(init_clears_a_stale_sipi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
