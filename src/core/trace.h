/* Exit counters (per level, per neutral kind) and a ring of recent exits, printed at the
 * end of a run as one parseable line: `nestbed-stats {json}`. */
#ifndef NESTBED_TRACE_H
#define NESTBED_TRACE_H

#include <stdint.h>

#include "core/exit.h"

#define TRACE_RING_SIZE 64
#define TRACE_LEVELS 3 /* index 1: L1 exits, 2: L2 exits; 0 unused */

struct exit_counters {
	uint64_t total;
	uint64_t by_kind[EXIT_KIND_COUNT];
};

struct trace_record {
	uint64_t tsc;
	uint64_t native_code;
	uint64_t rip;
	uint64_t info1, info2;
	uint8_t level;
	uint8_t kind;
};

struct trace {
	struct exit_counters level[TRACE_LEVELS];
	struct exit_counters reflected; /* L2 exits handed to L1 (the exits L1 sees) */
	uint64_t next; /* records written so far; the ring holds the last TRACE_RING_SIZE */
	struct trace_record ring[TRACE_RING_SIZE];
};

void trace_exit(struct trace *t, unsigned level, const struct exit *e, uint64_t rip, uint64_t tsc);
void trace_reflected(struct trace *t, const struct exit *e);
/* Adds t's counters (not its ring) to sum's: the machine's figures are the CPUs' sum. */
void trace_add_counters(struct trace *sum, const struct trace *t);

/* Writes the stats as JSON through `out` (pure: host-tested); iommu is what keeps
 * device DMA out of nestbed's memory ("vt-d", or "none"). */
typedef void (*trace_out_fn)(void *ctx, const char *s, uint64_t len);
void trace_format_json(const struct trace *t, const char *vendor, const char *iommu,
		       trace_out_fn out, void *ctx);

#endif
