#include "core/run.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/format.h"
#include "core/guest_load.h"
#include "core/guest_mem.h"
#include "core/marks.h"
#include "core/platform.h"
#include "core/vmm.h"
#include "core/nested_ops.h"
#include "core/string.h"
#include "core/ap_boot.h"
#include "core/apic_emulation.h"
#include "core/gdt.h"
#include "core/exception.h"
#include "core/pcpu.h"
#include "core/x86.h"

#define INIT_STREAK_LIMIT 1000

extern const struct vmm_ops *const __start_nestbed_backends[];
extern const struct vmm_ops *const __stop_nestbed_backends[];
extern const struct nested_ops *const __start_nestbed_nested[];
extern const struct nested_ops *const __stop_nestbed_nested[];

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

/* One line per CPU when there are several, then the machine's line: every CPU's
 * counters summed, the recent exits of the vCPU that asked. */
void print_stats(const struct vcpu *v)
{
	const char *vendor = v->ops ? v->ops->name : "none";
	const char *iommu = machine.iommu.kind ? machine.iommu.kind : "none";
	const struct machine *m = &machine;
	console_lock();
	if (m->nr_cpus < 2) {
		kprintf("nestbed-stats ");
		trace_format_json(&v->trace, vendor, iommu, stats_out, NULL);
		kprintf("\n");
		console_unlock();
		return;
	}
	struct trace *sum = &machine.stats_sum; /* under the console lock: one CPU at a time */
	memcpy(sum, &v->trace, sizeof(*sum));
	memset(sum->level, 0, sizeof(sum->level));
	memset(&sum->reflected, 0, sizeof(sum->reflected));
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		const struct vcpu *c = m->cpus[i].vcpu;
		if (!c)
			continue;
		kprintf("nestbed-stats-cpu %u ", i);
		trace_format_json(&c->trace, vendor, iommu, stats_out, NULL);
		kprintf("\n");
		trace_add_counters(sum, &c->trace);
	}
	kprintf("nestbed-stats ");
	trace_format_json(sum, vendor, iommu, stats_out, NULL);
	kprintf("\n");
	console_unlock();
}

/* The `trace` option: one line per exit of a kind it asked for (README.md "Traces"). */
static void __attribute__((noinline)) trace_print_line(const struct vcpu *v, unsigned level,
							   const struct exit *e,
							   enum trace_event event)
{
	char line[256];
	const char *reason = v->ops->exit_name ? v->ops->exit_name(e->native_code) : NULL;
	trace_format_line(line, sizeof(line), v->id, level, event, e, v->state.rip, reason);
	kprintf("%s\n", line);
}

static inline void trace_print(const struct machine *m, const struct vcpu *v, unsigned level,
			       const struct exit *e, enum trace_event event)
{
	if (__builtin_expect(m->options.trace, 0) && e->kind < EXIT_KIND_COUNT &&
	    (m->options.trace_kinds & (1u << e->kind)))
		trace_print_line(v, level, e, event);
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

static _Noreturn void __attribute__((noinline)) no_insn_length(struct vcpu *v, const struct exit *e)
{
	guest_failure(v, "cannot find the length of the instruction that exited (%s, code %#llx)",
		      exit_kind_name(e->kind), (unsigned long long)e->native_code);
}

void vcpu_skip_decoded(struct vcpu *v, const struct exit *e)
{
	unsigned len = guest_insn_length(v);
	if (!len)
		no_insn_length(v, e);
	vcpu_advance_rip(v, len);
}

static struct vcpu *vcpu_new(struct machine *m, struct pcpu *c, const struct vmm_ops *ops,
			     const struct nested_ops *nested, const struct guest_start *start)
{
	uint64_t pa = alloc_frames_zeroed((sizeof(struct vcpu) + FRAME_SIZE - 1) / FRAME_SIZE,
					  FRAME_SIZE);
	if (!pa)
		fatal("no memory for CPU %u's vCPU", c->index);
	struct vcpu *v = phys_to_virt(pa);
	v->id = c->index;
	v->cpu = c;
	v->level = 1;
	v->ops = ops;
	if (ops->vcpu_create(m, v, start))
		fatal("%s: cannot create CPU %u's vCPU (see above)", ops->name, c->index);
	if (nested) {
		if (nested->vcpu_init(m, v))
			fatal("%s: cannot set up the nested layer (see above)", nested->name);
		v->nested = nested;
	}
	c->vcpu = v;
	return v;
}

/* SVM: a vCPU reset by INIT waits here, in nestbed, for the startup IPI another vCPU's
 * ICR write posted (apic_emulation.c); VMX waits in guest mode instead. */
static void wait_for_startup(struct vcpu *v)
{
	struct pcpu *c = v->cpu;
	uint32_t sipi;
	for (;;) {
		sipi = sipi_wait_take(&c->sipi);
		if (sipi)
			break;
		/* an INIT while waiting for SIPI changes nothing (SDM vol.3 9.4.4) */
		__atomic_store_n(&c->pending_init, 0, __ATOMIC_RELAXED);
		/* announced first: a SIPI posted from then on comes with a kick (sipi_wait.h) */
		if (v->ops->idle && sipi_wait_may_sleep(&c->sipi))
			v->ops->idle(v); /* until the NMI of deliver_startup (apic_emulation.c) */
		else
			__asm__ volatile("pause");
	}
	/* a wake-up kick still on its way exits from the guest as a kick (run loop) */
	sipi_wait_end(&c->sipi);
	v->ops->startup(v, (uint8_t)sipi);
}

/* An INIT posted for this vCPU (SVM: nestbed emulates INIT): the INIT state, then wait
 * for SIPI, unless the nested layer holds it (L1's GIF is 0) or hands it to L1 as an
 * exit (L2 ran and L1 intercepts INIT). */
static void __attribute__((noinline)) take_init(struct vcpu *v)
{
	enum nested_init what = v->nested && v->nested->init_signal ? v->nested->init_signal(v)
								    : NESTED_INIT_TAKE;
	if (what == NESTED_INIT_HELD)
		return;
	if (what == NESTED_INIT_TAKE) {
		v->ops->init_signal(v);
		apic_init_reset(v);
	}
	/* only now, after init_signal set wait_for_sipi (the release orders it): a SIPI sent
	 * meanwhile finds the INIT posted or the vCPU waiting (deliver_startup), never
	 * neither, which would drop it (the other order did, with this CPU's host thread
	 * stalled in between on an emulator: the AP never restarted) */
	__atomic_store_n(&v->cpu->pending_init, 0, __ATOMIC_RELEASE);
	if (what == NESTED_INIT_TAKE && v->ops->cpu_waits_for_sipi) {
		/* VMX waits in guest mode for a physical SIPI; one the guest sent before this
		 * CPU got here is in the mailbox (apic_emulation.c deliver_startup) */
		uint32_t sipi = sipi_wait_take(&v->cpu->sipi);
		if (sipi)
			v->ops->startup(v, (uint8_t)sipi);
	}
}

static inline void take_posted_init(struct vcpu *v)
{
	if (__builtin_expect(__atomic_load_n(&v->cpu->pending_init, __ATOMIC_ACQUIRE) != 0, 0))
		take_init(v);
}

/* The nested layer's before-entry hook has work only once nested state exists on the
 * machine (struct machine nested_used): a VM instruction seen, or this vCPU's EFER has
 * a bit only the nested layer accepts (L1's CLGI/STGI intercepts follow EFER.SVME). */
static inline bool nested_in_use(struct machine *m, const struct vcpu *v, uint64_t efer_bits)
{
	if (__builtin_expect(__atomic_load_n(&m->nested_used, __ATOMIC_ACQUIRE) != 0, 1))
		return true;
	if (!(v->state.efer & efer_bits))
		return false;
	__atomic_store_n(&m->nested_used, 1, __ATOMIC_RELEASE);
	return true;
}

static _Noreturn void vcpu_loop(struct machine *m, struct vcpu *v)
{
	const struct vmm_ops *ops = v->ops;
	/* the vCPU's ops and nested layer are set once, at its creation (vcpu_new) */
	void (*const before_entry)(struct vcpu *) = v->nested ? v->nested->before_entry : NULL;
	const uint64_t nested_efer_bits = v->nested ? v->nested->efer_extra_bits : 0;
	int (*const vcpu_run)(struct vcpu *, struct exit *) = ops->vcpu_run;
	for (;;) {
		if (__builtin_expect(v->wait_for_sipi, 0) && !ops->cpu_waits_for_sipi)
			wait_for_startup(v);
		struct exit e;
		if (before_entry && nested_in_use(m, v, nested_efer_bits))
			before_entry(v);
		if (vcpu_run(v, &e))
			guest_failure(v, "%s refused to enter the guest (see above)", ops->name);
		trace_exit(&v->trace, v->level, &e, v->state.rip, rdtsc());
		if (__builtin_expect(m->options.marks, 0)) /* the option's counting, off the hot path */
			marks_count(v, &e);
		/* An INIT exit consumes the INIT (SDM vol.3 25.2); a CPU that delivers one again
		 * at every entry (Bochs 2.7) would keep the vCPU from running at all, unseen. */
		v->init_streak = e.kind == EXIT_INIT ? v->init_streak + 1 : 0;
		if (v->init_streak > INIT_STREAK_LIMIT)
			guest_failure(v, "CPU %u delivers the same INIT as an exit at every entry (the CPU "
				      "departs from SDM 25.2: the INIT exit consumes the INIT)", v->id);
		trace_print(m, v, v->level, &e,
			    v->level >= 2 ? TRACE_EVENT_NESTED_VMEXIT : TRACE_EVENT_EXIT);
		if (v->hlt_intercept_paused) {
			ops->set_hlt_intercept(v, true);
			v->hlt_intercept_paused = false;
		}
		/* nestbed's own kick (apic_emulation.c) is no one's NMI: never reflected */
		if (e.kind == EXIT_NMI && apic_nmi_was_kick(v)) {
			take_posted_init(v);
			continue;
		}
		if (v->level >= 2 && v->nested && v->nested->reflect_if_wanted(v, &e)) {
			trace_reflected(&v->trace, &e);
			trace_print(m, v, 2, &e, TRACE_EVENT_NESTED_INJECT); /* L1 runs now */
			take_posted_init(v);
			continue;
		}
		exit_handler_fn handler = e.kind < EXIT_KIND_COUNT ? exit_handlers[e.kind] : NULL;
		if (!handler)
			guest_failure(v, "unexpected exit %s (native %#llx, info1 %#llx, info2 %#llx)",
				      exit_kind_name(e.kind), (unsigned long long)e.native_code,
				      (unsigned long long)e.info1, (unsigned long long)e.info2);
		uint64_t reflected = v->trace.reflected.total;
		handler(v, &e);
		/* the nested layer reflects some L2 exits from their handler (a fault of L1's
		 * nested page tables): the trace shows those too */
		if (v->trace.reflected.total != reflected)
			trace_print(m, v, 2, &e, TRACE_EVENT_NESTED_INJECT);
		take_posted_init(v);
	}
}

/* An AP, from the trampoline (ap_boot.c): nestbed's GDT, TSS and IDT, VT-x/AMD-V on, its
 * vCPU in the INIT state waiting for the guest's startup IPI. */
static _Noreturn void ap_main(struct pcpu *c)
{
	struct machine *m = &machine;
	gdt_load(&c->tables);
	idt_load();
	write_cr0(m->boot_cr0); /* caches on (INIT left CD and NW set), WP, NE as the BSP */
	write_cr4(read_cr4() | m->boot_cr4);
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	if (m->ap_ops->cpu_init(m, c))
		fatal("%s: CPU %u cannot be virtualized (see above)", m->ap_ops->name, c->index);
	struct guest_start start = { .mode = GUEST_START_WAIT_FOR_SIPI };
	struct vcpu *v = vcpu_new(m, c, m->ap_ops, m->ap_nested, &start);
	__atomic_add_fetch(&m->aps_ready, 1, __ATOMIC_ACQ_REL);
	vcpu_loop(m, v);
}

static void ap_entry(struct pcpu *c)
{
	ap_main(c);
}

_Noreturn void run_primary_guest(struct machine *m)
{
	const struct vmm_ops *ops = vmm_select(m);
	if (!ops)
		fatal("cannot run a guest: the CPU offers neither usable VT-x nor AMD-V");
	smp_discover(m);
	struct pcpu *boot = &m->cpus[0];
	if (!m->bi->firmware_active)
		gdt_load(&boot->tables); /* the boot CPU's own tables from now on */
	if (ops->cpu_init(m, boot))
		fatal("%s: this CPU cannot be virtualized (see above)", ops->name);
	const struct nested_ops *nested = m->options.nested ? nested_select(ops->name) : NULL;
	if (nested)
		nested->cpuid_policy(m, &m->cpuid_policy);
	m->ap_ops = ops;
	m->ap_nested = nested;
	exit_handlers_init(m);
	m->boot_cr0 = read_cr0();
	m->boot_cr4 = read_cr4() & CR4_OSXSAVE;
	/* Every AP is started, virtualized and parked before the guest is loaded: the
	 * trampoline borrows low memory the guest gets afterwards. */
	smp_start_aps(m, ap_entry);
	while (__atomic_load_n(&m->aps_ready, __ATOMIC_ACQUIRE) + 1 < m->nr_cpus)
		__asm__ volatile("pause");
	struct guest_start start;
	guest_load(m, &start);
	struct vcpu *v = vcpu_new(m, boot, ops, nested, &start);
	kprintf("nestbed: running the guest on %s%s%s, %u CPU%s\n", ops->name, nested ? " with " : "",
		nested ? nested->name : "", m->nr_cpus, m->nr_cpus > 1 ? "s" : "");
	vcpu_loop(m, v);
}
