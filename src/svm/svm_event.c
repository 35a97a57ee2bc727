#include "svm/svm_event.h"

#include "svm/vmcb.h"
#include "core/x86.h"

#define VECTOR_FIRST_INTERRUPT 32 /* 0-31 are the architecture's exceptions (APM vol.2 8.2) */

uint64_t svm_event_normalize(uint64_t info)
{
	if (!(info & SVM_EVENT_VALID))
		return 0;
	uint64_t type = (info & SVM_EVENT_TYPE_MASK) >> SVM_EVENT_TYPE_SHIFT;
	uint64_t vector = info & SVM_EVENT_VECTOR_MASK;
	if (type != SVM_EVENT_TYPE_EXCEPTION)
		return info;
	if (vector == VECTOR_NMI)
		return SVM_EVENT_VALID | (SVM_EVENT_TYPE_NMI << SVM_EVENT_TYPE_SHIFT) | VECTOR_NMI;
	if (vector >= VECTOR_FIRST_INTERRUPT)
		return SVM_EVENT_VALID | (SVM_EVENT_TYPE_INTR << SVM_EVENT_TYPE_SHIFT) | vector;
	return info;
}

bool svm_event_is_soft(uint64_t info)
{
	if (!(info & SVM_EVENT_VALID))
		return false;
	uint64_t type = (info & SVM_EVENT_TYPE_MASK) >> SVM_EVENT_TYPE_SHIFT;
	uint64_t vector = info & SVM_EVENT_VECTOR_MASK;
	return type == SVM_EVENT_TYPE_SOFT_INT ||
	       (type == SVM_EVENT_TYPE_EXCEPTION && (vector == VECTOR_BP || vector == VECTOR_OF));
}

uint64_t svm_event_redeliver(uint64_t exitintinfo, const struct svm_entry_event *entry,
			     uint64_t rip, uint64_t *next_rip)
{
	uint64_t ev = svm_event_normalize(exitintinfo);
	if (!ev)
		return 0;
	if (!svm_event_is_soft(ev))
		return ev;
	uint64_t injected = svm_event_normalize(entry->eventinj);
	if (svm_event_is_soft(injected) && rip == entry->rip &&
	    (ev & SVM_EVENT_ID_MASK) == (injected & SVM_EVENT_ID_MASK)) {
		*next_rip = entry->next_rip;
		return entry->eventinj;
	}
	return 0;
}
