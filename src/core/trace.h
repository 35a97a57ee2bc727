/* Exit counters (per level, per neutral kind) and a ring of recent exits, printed at the
 * end of a run as one parseable line: `nestbed-stats {json}`. */
#ifndef NESTBED_TRACE_H
#define NESTBED_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/exit.h"

#define TRACE_RING_SIZE 64 /* a power of two: the ring index is a mask */
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
	union {
		struct {
			uint8_t level;
			uint8_t kind;
		};
		uint16_t level_kind; /* both in one store (trace_exit) */
	};
};

struct trace {
	struct exit_counters level[TRACE_LEVELS];
	struct exit_counters reflected; /* L2 exits handed to L1 (the exits L1 sees) */
	uint64_t next; /* records written so far; the ring holds the last TRACE_RING_SIZE */
	struct trace_record ring[TRACE_RING_SIZE];
};

/* Every exit: its counters and a fixed-size record in the vCPU's ring, nothing formatted
 * (trace_format_json and the `trace` option's lines format later). Out of line on
 * purpose: the one function every exit passes, where a debugger stops on an exit kind
 * (README: `break trace_exit if e->kind == EXIT_CPUID`); the call costs a few
 * instructions per exit. */
void trace_exit(struct trace *t, unsigned level, const struct exit *e, uint64_t rip,
		uint64_t tsc);
void trace_reflected(struct trace *t, const struct exit *e);
/* Adds t's counters (not its ring) to sum's: the machine's figures are the CPUs' sum. */
void trace_add_counters(struct trace *sum, const struct trace *t);

/* Writes the stats as JSON through `out` (pure: host-tested); iommu is what keeps
 * device DMA out of nestbed's memory ("vt-d", or "none"). */
typedef void (*trace_out_fn)(void *ctx, const char *s, uint64_t len);
/* The JSON writer behind trace_format_json, shared with marks_format.c: one formatted
 * piece (at most 159 bytes) through `out`, and one exit_counters object under `key`. */
struct trace_json {
	trace_out_fn out;
	void *ctx;
};
void trace_json_emit(struct trace_json *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void trace_json_counters(struct trace_json *j, const char *key, const struct exit_counters *c);
void trace_format_json(const struct trace *t, const char *vendor, const char *iommu,
		       trace_out_fn out, void *ctx);

/* The `trace` option's lines, named after KVM's tracepoints so that a reader of
 * `perf trace -e kvm:*` output reads them at once (README.md "Traces"):
 *   kvm_exit                  an exit of L1 (level 1), as nestbed took it
 *   kvm_nested_vmexit         an exit of L2 (level 2), before nestbed decides whose it is
 *   kvm_nested_vmexit_inject  that exit reflected to L1: the exit L1 sees */
enum trace_event {
	TRACE_EVENT_EXIT,
	TRACE_EVENT_NESTED_VMEXIT,
	TRACE_EVENT_NESTED_INJECT,
};

/* One line, without its newline, into buf (NUL-terminated when size > 0):
 *   nestbed-trace cpu0 l1 cpuid kvm_exit: vcpu 0 reason CPUID code 0x72 rip 0x100a2c
 *     info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000
 *     error_code 0x00000000
 * (one line). reason is the manual's name of e->native_code (NULL: UNKNOWN). Returns
 * the untruncated length, as snprintf. */
int trace_format_line(char *buf, size_t size, unsigned cpu, unsigned level,
		      enum trace_event event, const struct exit *e, uint64_t rip,
		      const char *reason);

/* Which kinds the `trace=` option shows: a bit per enum exit_kind. */
#define TRACE_ALL_KINDS ((1u << EXIT_KIND_COUNT) - 1)
_Static_assert(EXIT_KIND_COUNT <= 32, "trace filter: one bit per kind in a uint32_t");

/* Parses a comma-separated list of neutral kind names ("cpuid,io,msr_read"; "msr" is
 * msr_read and msr_write, "all" every kind) into *mask. Returns 0, or -1 with the
 * offending name in err. */
int trace_parse_kinds(const char *s, size_t len, uint32_t *mask, char *err, size_t errlen);

#endif
