#include "core/run.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/format.h"
#include "core/guest_load.h"
#include "core/guest_mem.h"
#include "core/platform.h"
#include "core/vmm.h"
#include "core/nested_ops.h"
#include "core/string.h"

#define RFLAGS_IF (1ull << 9)

extern const struct vmm_ops *const __start_nestbed_backends[];
extern const struct vmm_ops *const __stop_nestbed_backends[];
extern const struct nested_ops *const __start_nestbed_nested[];
extern const struct nested_ops *const __stop_nestbed_nested[];

static struct vcpu boot_vcpu;

const struct vmm_ops *vmm_select(const struct machine *m)
{
	for (const struct vmm_ops *const *o = __start_nestbed_backends; o < __stop_nestbed_backends; o++)
		if ((*o)->supported(m))
			return *o;
	return NULL;
}

const struct nested_ops *nested_select(const char *backend)
{
	for (const struct nested_ops *const *o = __start_nestbed_nested; o < __stop_nestbed_nested; o++)
		if (!strcmp((*o)->backend, backend))
			return *o;
	return NULL;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void stats_out(void *ctx, const char *s, uint64_t len)
{
	(void)ctx;
	console_write(s, (size_t)len);
}

void print_stats(const struct vcpu *v)
{
	kprintf("nestbed-stats ");
	trace_format_json(&v->trace, v->ops ? v->ops->name : "none",
			  machine.iommu.kind ? machine.iommu.kind : "none", stats_out, NULL);
	kprintf("\n");
}

_Noreturn void run_end(struct vcpu *v, int code)
{
	iommu_report_faults(&machine);
	print_stats(v);
	platform_exit(code);
}

static void print_guest_state(const struct vcpu *v)
{
	const struct vcpu_state *s = &v->state;
	const struct gprs *g = &s->gpr;
	kprintf("nestbed:   guest rip=%#llx rsp=%#llx rflags=%#llx cs_base=%#llx cpl=%u\n",
		(unsigned long long)s->rip, (unsigned long long)s->rsp,
		(unsigned long long)s->rflags, (unsigned long long)s->cs_base, s->cpl);
	kprintf("nestbed:   guest rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx rbp=%#llx\n",
		(unsigned long long)g->rax, (unsigned long long)g->rbx, (unsigned long long)g->rcx,
		(unsigned long long)g->rdx, (unsigned long long)g->rsi, (unsigned long long)g->rdi,
		(unsigned long long)g->rbp);
	kprintf("nestbed:   guest r8=%#llx r9=%#llx r10=%#llx r11=%#llx r12=%#llx r13=%#llx r14=%#llx r15=%#llx\n",
		(unsigned long long)g->r8, (unsigned long long)g->r9, (unsigned long long)g->r10,
		(unsigned long long)g->r11, (unsigned long long)g->r12, (unsigned long long)g->r13,
		(unsigned long long)g->r14, (unsigned long long)g->r15);
	kprintf("nestbed:   guest cr0=%#llx cr2=%#llx cr3=%#llx cr4=%#llx efer=%#llx\n",
		(unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->efer);
}

_Noreturn void guest_failure(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kprintf("nestbed: guest failure: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
	print_guest_state(v);
	if (v->ops && v->ops->dump)
		v->ops->dump(v);
	run_end(v, EXIT_CODE_GUEST_FAILURE);
}

void vcpu_skip_instruction(struct vcpu *v, const struct exit *e)
{
	unsigned len = e->insn_len ? e->insn_len : guest_insn_length(v);
	if (!len)
		guest_failure(v, "cannot find the length of the instruction that exited (%s, code %#llx)",
			      exit_kind_name(e->kind), (unsigned long long)e->native_code);
	v->state.rip += len;
	if (!(v->state.efer & EFER_LMA) || !v->state.cs_long)
		v->state.rip &= 0xffffffffull;
	v->insn_skipped = true;
}

_Noreturn void run_primary_guest(struct machine *m)
{
	const struct vmm_ops *ops = vmm_select(m);
	if (!ops)
		fatal("cannot run a guest: the CPU offers neither usable VT-x nor AMD-V");
	if (ops->cpu_init(m))
		fatal("%s: this CPU cannot be virtualized (see above)", ops->name);
	struct guest_start start;
	guest_load(m, &start);
	struct vcpu *v = &boot_vcpu;
	v->id = 0;
	v->level = 1;
	v->ops = ops;
	if (ops->vcpu_create(m, v, &start))
		fatal("%s: cannot create the guest's vCPU (see above)", ops->name);
	const struct nested_ops *nested = m->options.nested ? nested_select(ops->name) : NULL;
	if (nested) {
		if (nested->vcpu_init(m, v))
			fatal("%s: cannot set up the nested layer (see above)", nested->name);
		v->nested = nested;
		nested->cpuid_policy(m, &m->cpuid_policy);
	}
	kprintf("nestbed: running the guest on %s%s%s\n", ops->name, nested ? " with " : "",
		nested ? nested->name : "");
	for (;;) {
		struct exit e;
		if (ops->vcpu_run(v, &e))
			guest_failure(v, "%s refused to enter the guest (see above)", ops->name);
		trace_exit(&v->trace, v->level, &e, v->state.rip, rdtsc());
		if (m->options.trace)
			kprintf("nestbed-trace l%u %s code=%#llx rip=%#llx info1=%#llx info2=%#llx\n",
				v->level, exit_kind_name(e.kind), (unsigned long long)e.native_code,
				(unsigned long long)v->state.rip, (unsigned long long)e.info1,
				(unsigned long long)e.info2);
		if (v->hlt_intercept_paused) {
			ops->set_hlt_intercept(v, true);
			v->hlt_intercept_paused = false;
		}
		if (v->level >= 2 && v->nested && v->nested->reflect_if_wanted(v, &e)) {
			trace_reflected(&v->trace, &e);
			continue;
		}
		exit_handler_fn handler = e.kind < EXIT_KIND_COUNT ? exit_handlers[e.kind] : NULL;
		if (!handler)
			guest_failure(v, "unexpected exit %s (native %#llx, info1 %#llx, info2 %#llx)",
				      exit_kind_name(e.kind), (unsigned long long)e.native_code,
				      (unsigned long long)e.info1, (unsigned long long)e.info2);
		handler(v, &e);
	}
}
