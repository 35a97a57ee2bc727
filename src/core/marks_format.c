#include "core/marks_format.h"

#include "core/format.h"

unsigned marks_code_slot(uint64_t native_code)
{
	if (native_code < MARKS_CODES_LOW)
		return (unsigned)native_code;
	if (native_code >= MARKS_CODES_HIGH_BASE &&
	    native_code < MARKS_CODES_HIGH_BASE + MARKS_CODES_HIGH)
		return MARKS_CODES_LOW + (unsigned)(native_code - MARKS_CODES_HIGH_BASE);
	return MARKS_CODE_SLOTS - 1;
}

uint64_t marks_slot_code(unsigned slot)
{
	if (slot < MARKS_CODES_LOW)
		return slot;
	return MARKS_CODES_HIGH_BASE + (slot - MARKS_CODES_LOW);
}

static void by_code(struct trace_json *o, unsigned level, const char *what, const uint64_t *n,
		    marks_name_fn name)
{
	trace_json_emit(o, ",\"l%u_%s\":{", level, what);
	const char *sep = "";
	for (unsigned i = 0; i < MARKS_CODE_SLOTS; i++) {
		if (!n[i])
			continue;
		const char *nm = i == MARKS_CODE_SLOTS - 1 ? "other" :
				 name ? name(marks_slot_code(i)) : NULL;
		if (nm)
			trace_json_emit(o, "%s\"%s\":%llu", sep, nm, (unsigned long long)n[i]);
		else
			trace_json_emit(o, "%s\"%#llx\":%llu", sep, (unsigned long long)marks_slot_code(i),
			     (unsigned long long)n[i]);
		sep = ",";
	}
	trace_json_emit(o, "}");
}

void marks_format_json(const struct marks_snapshot *s, marks_name_fn name, trace_out_fn out,
		       void *ctx)
{
	struct trace_json o = { out, ctx };
	trace_json_emit(&o, "{\"tag\":%u,\"cpu\":%u,\"ticks\":%llu,\"guest_ticks\":%llu", s->tag, s->cpu,
	     (unsigned long long)s->ticks, (unsigned long long)s->guest_ticks);
	trace_json_counters(&o, "l1", &s->level[1]);
	trace_json_counters(&o, "l2", &s->level[2]);
	trace_json_counters(&o, "reflected", &s->reflected);
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		by_code(&o, l, "codes", s->codes[l], name);
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		by_code(&o, l, "code_ticks", s->code_ticks[l], name);
	trace_json_emit(&o, ",\"l1_apic_writes\":{");
	const char *sep = "";
	for (unsigned r = 0; r < MARKS_APIC_REGS; r++) {
		if (!s->apic_writes[r])
			continue;
		trace_json_emit(&o, "%s\"%#x\":%llu", sep, r << 4, (unsigned long long)s->apic_writes[r]);
		sep = ",";
	}
	trace_json_emit(&o, "}}");
}
