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

struct out {
	trace_out_fn fn;
	void *ctx;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	int n = format_buf_v(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	o->fn(o->ctx, buf, (uint64_t)n);
}

static void counters(struct out *o, const char *key, const struct exit_counters *c)
{
	emit(o, ",\"%s\":{\"total\":%llu", key, (unsigned long long)c->total);
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
		if (c->by_kind[k])
			emit(o, ",\"%s\":%llu", exit_kind_name((enum exit_kind)k),
			     (unsigned long long)c->by_kind[k]);
	emit(o, "}");
}

static void by_code(struct out *o, unsigned level, const char *what, const uint64_t *n,
		    marks_name_fn name)
{
	emit(o, ",\"l%u_%s\":{", level, what);
	const char *sep = "";
	for (unsigned i = 0; i < MARKS_CODE_SLOTS; i++) {
		if (!n[i])
			continue;
		const char *nm = i == MARKS_CODE_SLOTS - 1 ? "other" :
				 name ? name(marks_slot_code(i)) : NULL;
		if (nm)
			emit(o, "%s\"%s\":%llu", sep, nm, (unsigned long long)n[i]);
		else
			emit(o, "%s\"%#llx\":%llu", sep, (unsigned long long)marks_slot_code(i),
			     (unsigned long long)n[i]);
		sep = ",";
	}
	emit(o, "}");
}

void marks_format_json(const struct marks_snapshot *s, marks_name_fn name, trace_out_fn out,
		       void *ctx)
{
	struct out o = { out, ctx };
	emit(&o, "{\"tag\":%u,\"cpu\":%u,\"ticks\":%llu,\"guest_ticks\":%llu", s->tag, s->cpu,
	     (unsigned long long)s->ticks, (unsigned long long)s->guest_ticks);
	counters(&o, "l1", &s->level[1]);
	counters(&o, "l2", &s->level[2]);
	counters(&o, "reflected", &s->reflected);
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		by_code(&o, l, "codes", s->codes[l], name);
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		by_code(&o, l, "code_ticks", s->code_ticks[l], name);
	emit(&o, ",\"l1_apic_writes\":{");
	const char *sep = "";
	for (unsigned r = 0; r < MARKS_APIC_REGS; r++) {
		if (!s->apic_writes[r])
			continue;
		emit(&o, "%s\"%#x\":%llu", sep, r << 4, (unsigned long long)s->apic_writes[r]);
		sep = ",";
	}
	emit(&o, "}}");
}
