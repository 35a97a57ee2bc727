/* The event an exit interrupted (EXITINTINFO) and what the next VMRUN must do with it
 * (APM vol.2 15.7.2 "Intercepts During IDT Interrupt Delivery", 15.20 "Event
 * Injection"). Pure, host-tested. */
#ifndef NESTBED_SVM_EVENT_H
#define NESTBED_SVM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#define SVM_EVENT_VECTOR_MASK 0xffull
#define SVM_EVENT_TYPE_MASK (7ull << 8)
#define SVM_EVENT_TYPE_INTR 0ull      /* external or virtual interrupt */
#define SVM_EVENT_TYPE_NMI 2ull
#define SVM_EVENT_TYPE_EXCEPTION 3ull
#define SVM_EVENT_TYPE_SOFT_INT 4ull  /* INTn */
#define SVM_EVENT_ID_MASK 0x7ffull    /* vector and type: which event it is */

/* The event as the APM types it. QEMU 7.2 writes every event that is not an INTn as an
 * exception (type 3), external and virtual interrupts and NMIs included (its
 * handle_even_inj), and refuses the same value back in EVENTINJ (an exception with
 * vector 2 or above 30 is VMEXIT_INVALID there). An exception with vector 2 is an NMI,
 * one above 31 an interrupt (no exception has such a vector); they carry no error code. */
uint64_t svm_event_normalize(uint64_t info);

/* A software interrupt or one of the exceptions an instruction raises as a trap, INT3's
 * #BP and INTO's #OF: delivered with the address of the next instruction (with NRIPS,
 * next_rip when injected, APM 15.20 and 15.7.1). */
bool svm_event_is_soft(uint64_t info);

/* What the last entry injected (EVENTINJ), at which RIP and with which next_rip. */
struct svm_entry_event {
	uint64_t eventinj;
	uint64_t rip;
	uint64_t next_rip;
};

/* The EVENTINJ the next entry needs so that nothing in flight is lost or doubled,
 * given EXITINTINFO and the guest's RIP at the exit: an interrupt, NMI or exception
 * is delivered again as it is (normalized); a software event is injected again only
 * when it is the one the last entry injected (same event, RIP unchanged: *next_rip gets
 * that entry's next_rip), else it came from the guest's own INTn/INT3/INTO, which
 * RIP still points at, and the guest executes the instruction again (0). */
uint64_t svm_event_redeliver(uint64_t exitintinfo, const struct svm_entry_event *entry,
			     uint64_t rip, uint64_t *next_rip);

#endif
