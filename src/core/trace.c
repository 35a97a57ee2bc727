#include "core/trace.h"

#include "core/format.h"

void trace_exit(struct trace *t, unsigned level, const struct exit *e, uint64_t rip,
		uint64_t tsc)
{
	if (level >= TRACE_LEVELS)
		level = TRACE_LEVELS - 1;
	unsigned kind = e->kind < EXIT_KIND_COUNT ? e->kind : EXIT_UNKNOWN;
	t->level[level].total++;
	t->level[level].by_kind[kind]++;
	uint64_t n = t->next;
	struct trace_record *r = &t->ring[n % TRACE_RING_SIZE];
	r->tsc = tsc;
	r->native_code = e->native_code;
	r->rip = rip;
	r->info1 = e->info1;
	r->info2 = e->info2;
	/* x86 is little-endian: level in the low byte (APM vol.1 3.1.3) */
	r->level_kind = (uint16_t)(level | kind << 8);
	t->next = n + 1;
}

void trace_add_counters(struct trace *sum, const struct trace *t)
{
	for (unsigned l = 0; l < TRACE_LEVELS; l++) {
		sum->level[l].total += t->level[l].total;
		for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
			sum->level[l].by_kind[k] += t->level[l].by_kind[k];
	}
	sum->reflected.total += t->reflected.total;
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
		sum->reflected.by_kind[k] += t->reflected.by_kind[k];
}

void trace_reflected(struct trace *t, const struct exit *e)
{
	unsigned kind = e->kind < EXIT_KIND_COUNT ? e->kind : EXIT_UNKNOWN;
	t->reflected.total++;
	t->reflected.by_kind[kind]++;
}

void trace_json_emit(struct trace_json *j, const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	int n = format_buf_v(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	j->out(j->ctx, buf, (uint64_t)n);
}

void trace_json_counters(struct trace_json *j, const char *key, const struct exit_counters *c)
{
	trace_json_emit(j, ",\"%s\":{\"total\":%llu", key, (unsigned long long)c->total);
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
		if (c->by_kind[k])
			trace_json_emit(j, ",\"%s\":%llu", exit_kind_name((enum exit_kind)k),
					(unsigned long long)c->by_kind[k]);
	trace_json_emit(j, "}");
}

void trace_format_json(const struct trace *t, const char *vendor, const char *iommu,
		       trace_out_fn out, void *ctx)
{
	struct trace_json j = { out, ctx };
	uint64_t total = 0;
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		total += t->level[l].total;
	trace_json_emit(&j, "{\"vendor\":\"%s\",\"exits\":%llu", vendor, (unsigned long long)total);
	static const char *const level_key[TRACE_LEVELS] = { NULL, "l1", "l2" };
	for (unsigned l = 1; l < TRACE_LEVELS; l++)
		trace_json_counters(&j, level_key[l], &t->level[l]);
	trace_json_counters(&j, "reflected", &t->reflected);
	/* "exit multiplication": every L0 exit per exit L1 saw, in hundredths (no floats here) */
	if (t->reflected.total) {
		uint64_t x100 = total * 100 / t->reflected.total;
		trace_json_emit(&j, ",\"l0_exits_per_reflected\":%llu.%02llu", (unsigned long long)(x100 / 100),
		     (unsigned long long)(x100 % 100));
	}
	trace_json_emit(&j, ",\"iommu\":\"%s\"", iommu);
	trace_json_emit(&j, ",\"recent\":[");
	uint64_t first = t->next > TRACE_RING_SIZE ? t->next - TRACE_RING_SIZE : 0;
	uint64_t shown = 0;
	/* the last 8 only: the line must stay readable */
	if (t->next - first > 8)
		first = t->next - 8;
	for (uint64_t i = first; i < t->next; i++, shown++) {
		const struct trace_record *r = &t->ring[i % TRACE_RING_SIZE];
		trace_json_emit(&j, "%s{\"l\":%u,\"kind\":\"%s\",\"code\":\"%#llx\",\"rip\":\"%#llx\",\"info1\":\"%#llx\",\"info2\":\"%#llx\"}",
		     shown ? "," : "", r->level, exit_kind_name((enum exit_kind)r->kind),
		     (unsigned long long)r->native_code, (unsigned long long)r->rip,
		     (unsigned long long)r->info1, (unsigned long long)r->info2);
	}
	trace_json_emit(&j, "]}");
}

static const char *const event_names[] = {
	[TRACE_EVENT_EXIT] = "kvm_exit",
	[TRACE_EVENT_NESTED_VMEXIT] = "kvm_nested_vmexit",
	[TRACE_EVENT_NESTED_INJECT] = "kvm_nested_vmexit_inject",
};

int trace_format_line(char *buf, size_t size, unsigned cpu, unsigned level,
		      enum trace_event event, const struct exit *e, uint64_t rip,
		      const char *reason)
{
	const char *ev = (unsigned)event < sizeof(event_names) / sizeof(event_names[0]) ?
				 event_names[event] : "kvm_exit";
	/* kvm_nested_vmexit_inject has no rip in KVM: the exit L1 sees, not where L2 was */
	if (event == TRACE_EVENT_NESTED_INJECT)
		return format_buf(buf, size,
				  "nestbed-trace cpu%u l%u %s %s: vcpu %u reason %s code %#llx "
				  "info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x",
				  cpu, level, exit_kind_name(e->kind), ev, cpu, reason ? reason : "UNKNOWN",
				  (unsigned long long)e->native_code, (unsigned long long)e->info1,
				  (unsigned long long)e->info2, e->intr_info, e->error_code);
	return format_buf(buf, size,
			  "nestbed-trace cpu%u l%u %s %s: vcpu %u reason %s code %#llx rip %#llx "
			  "info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x",
			  cpu, level, exit_kind_name(e->kind), ev, cpu, reason ? reason : "UNKNOWN",
			  (unsigned long long)e->native_code, (unsigned long long)rip,
			  (unsigned long long)e->info1, (unsigned long long)e->info2, e->intr_info,
			  e->error_code);
}

static bool name_is(const char *w, size_t len, const char *lit)
{
	size_t i = 0;
	for (; i < len && lit[i]; i++)
		if (w[i] != lit[i])
			return false;
	return i == len && lit[i] == 0;
}

static int kind_bits(const char *w, size_t len, uint32_t *bits)
{
	if (name_is(w, len, "all")) {
		*bits = TRACE_ALL_KINDS;
		return 0;
	}
	if (name_is(w, len, "msr")) {
		*bits = (1u << EXIT_MSR_READ) | (1u << EXIT_MSR_WRITE);
		return 0;
	}
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
		if (name_is(w, len, exit_kind_name((enum exit_kind)k))) {
			*bits = 1u << k;
			return 0;
		}
	return -1;
}

int trace_parse_kinds(const char *s, size_t len, uint32_t *mask, char *err, size_t errlen)
{
	uint32_t m = 0;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && s[i] != ',')
			i++;
		uint32_t bits;
		if (kind_bits(s + start, i - start, &bits)) {
			format_buf(err, errlen, "'%.*s' is not an exit kind (cpuid, msr, msr_read, msr_write, "
				   "io, hlt, tdp_fault, exception, intr, nmi, vm_insn, ..., all)",
				   (int)(i - start), s + start);
			return -1;
		}
		m |= bits;
		if (i >= len)
			break;
		i++; /* the comma */
	}
	*mask = m;
	return 0;
}

const char *exit_kind_name(enum exit_kind kind)
{
	static const char *const names[EXIT_KIND_COUNT] = {
		[EXIT_UNKNOWN] = "unknown", [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "msr_read",
		[EXIT_MSR_WRITE] = "msr_write", [EXIT_IO] = "io", [EXIT_HLT] = "hlt",
		[EXIT_TDP_FAULT] = "tdp_fault", [EXIT_TDP_MISCONFIG] = "tdp_misconfig",
		[EXIT_EXCEPTION] = "exception", [EXIT_INTR] = "intr", [EXIT_NMI] = "nmi",
		[EXIT_SHUTDOWN] = "shutdown", [EXIT_HYPERCALL] = "hypercall",
		[EXIT_VM_INSN] = "vm_insn", [EXIT_INVALID_STATE] = "invalid_state",
		[EXIT_INIT] = "init", [EXIT_XSETBV] = "xsetbv", [EXIT_CR_ACCESS] = "cr_access",
		[EXIT_OTHER] = "other", [EXIT_SIPI] = "sipi",
	};
	return kind < EXIT_KIND_COUNT && names[kind] ? names[kind] : "unknown";
}
