/* A vCPU's wait for a startup IPI, as a handshake between the CPU that waits in nestbed
 * (SVM: AMD-V has no wait-for-SIPI state, so an INITed vCPU waits in nestbed, run.c) and
 * the CPUs whose ICR writes post a SIPI for it (apic_emulation.c). The waiter sleeps in
 * HLT (vmm_ops.idle) rather than spin; a sender wakes it with one NMI (a "kick"). Pure,
 * host-tested (tests/unit/test_sipi_wait.c).
 *
 * No SIPI may be posted and left with its waiter asleep (a lost wakeup): the waiter
 * announces its sleep (sleeping = 1) and then looks at the mailbox again; the sender
 * posts and then looks at sleeping. With sequentially consistent accesses one of them
 * sees the other's store: the waiter the SIPI (it does not sleep), or the sender the
 * announcement (it kicks; an NMI sent before the HLT is held and ends the sleep at once,
 * exception_wake_site). At most one kick per wait (wake_requested), so kicks never
 * merge into one NMI and the kick count (pcpu.kicks_sent/kicks_seen) stays exact. */
#ifndef NESTBED_SIPI_WAIT_H
#define NESTBED_SIPI_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#define SIPI_WAIT_VALID 0x100u          /* sipi: posted; bits 7:0 the vector (SDM 11.6.1) */
#define SIPI_WAIT_VECTOR_MASK 0xffu

struct sipi_wait {
	volatile uint32_t sipi;           /* SIPI_WAIT_VALID | vector, not yet taken */
	volatile uint32_t sleeping;       /* the waiter may sleep: a sender must kick it */
	volatile uint32_t wake_requested; /* a kick is on its way (0 -> 1 once per wait) */
};

/* A sender: posts the vector (a later one replaces an earlier one not yet taken). true:
 * the caller must kick the waiter, which may sleep and has no kick on its way. The two
 * steps, in this order, are sipi_wait_put and sipi_wait_kick_needed. */
bool sipi_wait_post(struct sipi_wait *w, uint8_t vector);
void sipi_wait_put(struct sipi_wait *w, uint8_t vector);
bool sipi_wait_kick_needed(struct sipi_wait *w);
/* The waiter: the posted SIPI (SIPI_WAIT_VALID | vector), taken, or 0. */
uint32_t sipi_wait_take(struct sipi_wait *w);
/* The waiter, having taken nothing: announces a sleep, then looks again. true: it may
 * sleep until a kick (a SIPI posted from now on comes with one); false: a SIPI came in
 * between, take it. The two steps, in this order, are sipi_wait_announce_sleep and
 * sipi_wait_sleep_allowed. */
bool sipi_wait_may_sleep(struct sipi_wait *w);
void sipi_wait_announce_sleep(struct sipi_wait *w);
bool sipi_wait_sleep_allowed(struct sipi_wait *w);
/* The waiter, leaving the wait with its SIPI: the next wait starts afresh. */
void sipi_wait_end(struct sipi_wait *w);
/* An INIT: a SIPI still posted came before it and is not for the reset vCPU. */
void sipi_wait_clear(struct sipi_wait *w);

#endif
