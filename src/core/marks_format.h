/* The pure half of the measurement marks (marks.h): which slot counts a native exit
 * code, and the JSON of one mark. Host-tested (tests/unit/test_marks.c). */
#ifndef NESTBED_MARKS_FORMAT_H
#define NESTBED_MARKS_FORMAT_H

#include <stdint.h>

#include "core/marks.h"
#include "core/trace.h"

/* What one mark reports: the machine's counters (every CPU's summed) as they stood
 * before the mark's own exit, and the marking CPU's clock. */
struct marks_snapshot {
	unsigned cpu;
	uint32_t tag;             /* the guest's ECX */
	uint64_t ticks;           /* the marking CPU's TSC less the ticks marks took */
	uint64_t guest_ticks;     /* ... of which in guest mode */
	struct exit_counters level[TRACE_LEVELS];
	struct exit_counters reflected;
	uint64_t codes[TRACE_LEVELS][MARKS_CODE_SLOTS];
	uint64_t code_ticks[TRACE_LEVELS][MARKS_CODE_SLOTS]; /* nestbed's ticks by exit */
	uint64_t apic_writes[MARKS_APIC_REGS];
};

/* The manual's name of a native code (the backend's exit_name; NULL: unnamed). */
typedef const char *(*marks_name_fn)(uint64_t native_code);

/* `{"tag":T,"cpu":C,"ticks":N,"guest_ticks":N,"l1":{"total":N,"cpuid":N,...},"l2":{...},
 *   "reflected":{...},"l1_codes":{"VMRUN":N,...},"l2_codes":{...},
 *   "l1_code_ticks":{"VMRUN":N,...},"l2_code_ticks":{...},
 *   "l1_apic_writes":{"0xb0":N,...}}`, zero counts left out; a code without a name is
 * written as its number ("0x1f"), the slot of codes beyond the table as "other". */
void marks_format_json(const struct marks_snapshot *s, marks_name_fn name, trace_out_fn out,
		       void *ctx);

#endif
