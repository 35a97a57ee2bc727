#include "core/sipi_wait.h"

void sipi_wait_put(struct sipi_wait *w, uint8_t vector)
{
	__atomic_store_n(&w->sipi, SIPI_WAIT_VALID | vector, __ATOMIC_SEQ_CST);
}

bool sipi_wait_kick_needed(struct sipi_wait *w)
{
	/* after the put (SEQ_CST keeps this load after that store; x86: MFENCE): a waiter
	 * that announced its sleep too late to be seen here sees the SIPI instead */
	if (!__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST))
		return false;
	return !__atomic_exchange_n(&w->wake_requested, 1, __ATOMIC_SEQ_CST);
}

bool sipi_wait_post(struct sipi_wait *w, uint8_t vector)
{
	sipi_wait_put(w, vector);
	return sipi_wait_kick_needed(w);
}

uint32_t sipi_wait_take(struct sipi_wait *w)
{
	uint32_t sipi = __atomic_exchange_n(&w->sipi, 0, __ATOMIC_SEQ_CST);
	return sipi & SIPI_WAIT_VALID ? sipi & (SIPI_WAIT_VALID | SIPI_WAIT_VECTOR_MASK) : 0;
}

void sipi_wait_announce_sleep(struct sipi_wait *w)
{
	__atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
}

bool sipi_wait_sleep_allowed(struct sipi_wait *w)
{
	/* after the announcement (SEQ_CST, as above): a SIPI put too late to be seen here
	 * finds the announcement and comes with a kick */
	if (__atomic_load_n(&w->sipi, __ATOMIC_SEQ_CST) & SIPI_WAIT_VALID)
		return false;
	/* a kick comes only with a SIPI, which the waiter takes before it sleeps again:
	 * one requested here is on its way and would end the sleep at once anyway */
	return !__atomic_load_n(&w->wake_requested, __ATOMIC_SEQ_CST);
}

bool sipi_wait_may_sleep(struct sipi_wait *w)
{
	sipi_wait_announce_sleep(w);
	return sipi_wait_sleep_allowed(w);
}

void sipi_wait_end(struct sipi_wait *w)
{
	__atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->wake_requested, 0, __ATOMIC_SEQ_CST);
}

void sipi_wait_clear(struct sipi_wait *w)
{
	__atomic_store_n(&w->sipi, 0, __ATOMIC_SEQ_CST);
}
