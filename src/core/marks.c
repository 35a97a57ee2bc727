#include "core/marks.h"

#include "core/apic_base.h"
#include "core/console.h"
#include "core/machine.h"
#include "core/marks_format.h"
#include "core/pcpu.h"
#include "core/string.h"
#include "core/vcpu.h"
#include "core/vmm.h"

void marks_count(struct vcpu *v, const struct exit *e)
{
	if (!machine.options.marks)
		return;
	unsigned level = v->level < TRACE_LEVELS ? v->level : TRACE_LEVELS - 1;
	unsigned slot = marks_code_slot(e->native_code);
	v->marks.codes[level][slot]++;
	v->marks.exit_level = level;
	v->marks.exit_slot = slot;
	if (level == 1 && e->kind == EXIT_TDP_FAULT && e->u.tdp.write && v->apic_page &&
	    (e->u.tdp.gpa & ~(uint64_t)(APIC_MMIO_SIZE - 1)) == v->apic_page)
		v->marks.apic_writes[(e->u.tdp.gpa & (APIC_MMIO_SIZE - 1)) >> 4]++;
}

static void mark_out(void *ctx, const char *s, uint64_t len)
{
	(void)ctx;
	console_write(s, (size_t)len);
}

static void add_vcpu(struct marks_snapshot *s, const struct vcpu *c)
{
	for (unsigned l = 0; l < TRACE_LEVELS; l++) {
		s->level[l].total += c->trace.level[l].total;
		for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
			s->level[l].by_kind[k] += c->trace.level[l].by_kind[k];
		for (unsigned i = 0; i < MARKS_CODE_SLOTS; i++) {
			s->codes[l][i] += c->marks.codes[l][i];
			s->code_ticks[l][i] += c->marks.code_ticks[l][i];
		}
	}
	s->reflected.total += c->trace.reflected.total;
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
		s->reflected.by_kind[k] += c->trace.reflected.by_kind[k];
	for (unsigned r = 0; r < MARKS_APIC_REGS; r++)
		s->apic_writes[r] += c->marks.apic_writes[r];
}

/* The other CPUs' counters are read while they run: a window's figures may miss their
 * last few exits, never count one twice. */
void marks_cpuid(struct vcpu *v, uint32_t leaf, uint32_t tag)
{
	if (!machine.options.marks || leaf != NESTBED_MARK_LEAF || v->level != 1)
		return;
	uint64_t start = marks_rdtsc();
	struct marks_snapshot *s = &v->marks_snapshot;
	memset(s, 0, sizeof(*s));
	s->cpu = v->id;
	s->tag = tag;
	s->ticks = start - v->marks.own_ticks;
	s->guest_ticks = v->marks.guest_ticks;
	const struct machine *m = &machine;
	if (m->nr_cpus < 2) {
		add_vcpu(s, v);
	} else {
		for (unsigned i = 0; i < m->nr_cpus; i++)
			if (m->cpus[i].vcpu)
				add_vcpu(s, m->cpus[i].vcpu);
	}
	/* as they stood before this mark's own exit */
	s->level[1].total--;
	s->level[1].by_kind[EXIT_CPUID]--;
	unsigned slot = v->trace.next ? marks_code_slot(
				v->trace.ring[(v->trace.next - 1) % TRACE_RING_SIZE].native_code) : 0;
	if (s->codes[1][slot])
		s->codes[1][slot]--;
	console_lock();
	kprintf("nestbed-mark ");
	marks_format_json(s, v->ops->exit_name, mark_out, NULL);
	kprintf("\n");
	console_unlock();
	uint64_t took = marks_rdtsc() - start;
	v->marks.own_ticks += took;
	if (v->marks.exit_tsc)
		v->marks.exit_tsc += took; /* not the mark's exit's cost */
}
