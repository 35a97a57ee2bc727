#include "core/exception.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/machine.h"
#include "core/pcpu.h"
#include "core/platform.h"
#include "core/x86.h"

#define IDT_VECTORS 256
#define IDT_GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate: SDM vol.3 6.14.1 */
#define BACKTRACE_MAX_FRAMES 16
#define FIRST_EXTERNAL_VECTOR 32

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t idt_stub_table[IDT_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

static struct exception_expectation *this_expectation(void)
{
	return &pcpu_this()->expectation;
}

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *exception_name(uint64_t vector)
{
	return vector < 32 ? names[vector] : "interrupt";
}

void idt_init(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (int v = 0; v < IDT_VECTORS; v++) {
		uint64_t addr = idt_stub_table[v];
		idt[v].offset_low = (uint16_t)addr;
		idt[v].selector = cs;
		idt[v].ist = 0;
		idt[v].type_attr = IDT_GATE_INTERRUPT;
		idt[v].offset_mid = (uint16_t)(addr >> 16);
		idt[v].offset_high = (uint32_t)(addr >> 32);
		idt[v].reserved = 0;
	}
}

void idt_load(void)
{
	struct descriptor_pointer p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(p));
}

void idt_swap_in(uint8_t saved[10])
{
	__asm__ volatile("sidt %0" : "=m"(*(struct descriptor_pointer *)saved));
	idt_init();
	idt_load();
}

void idt_restore(const uint8_t saved[10])
{
	__asm__ volatile("lidt %0" ::"m"(*(const struct descriptor_pointer *)saved));
}

void exception_expect(uint64_t vector, uint64_t resume_rip)
{
	struct exception_expectation *x = this_expectation();
	x->hit = false;
	x->vector = vector;
	x->resume_rip = resume_rip;
	__atomic_store_n(&x->armed, true, __ATOMIC_RELEASE);
}

bool exception_take(struct exception_record *out)
{
	struct exception_expectation *x = this_expectation();
	bool hit = x->hit;
	if (hit && out)
		*out = x->record;
	x->armed = false;
	x->hit = false;
	return hit;
}

bool exception_catch_interrupt(uint8_t *vector)
{
	struct exception_expectation *x = this_expectation();
	x->caught = false;
	x->catch_interrupt = true;
	/* STI's shadow covers the NOP: the window is the NOP's boundary; the handler
	 * returns with IF clear, so a second interrupt waits for the guest */
	__asm__ volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
	x->catch_interrupt = false;
	if (x->caught)
		*vector = x->caught_vector;
	return x->caught;
}

void exception_print_frame(const struct exception_frame *f)
{
	kprintf("nestbed:   rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	kprintf("nestbed:   rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->rsp);
	kprintf("nestbed:   r8=%016llx r9=%016llx r10=%016llx r11=%016llx\n",
		(unsigned long long)f->r8, (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11);
	kprintf("nestbed:   r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n",
		(unsigned long long)f->r12, (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	kprintf("nestbed:   rip=%016llx cs=%04llx rflags=%016llx ss=%04llx cr0=%016llx cr3=%016llx cr4=%016llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags, (unsigned long long)f->ss,
		(unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
		(unsigned long long)read_cr4());
}

static bool plausible_frame(uint64_t rbp)
{
	/* canonical, 8-byte aligned, not in the first page */
	uint64_t top = rbp >> 47;
	return rbp > 0x1000 && !(rbp & 7) && (top == 0 || top == 0x1ffff);
}

void print_backtrace(uint64_t rbp)
{
	kprintf("nestbed:   backtrace:");
	for (int i = 0; i < BACKTRACE_MAX_FRAMES && plausible_frame(rbp); i++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		if (!frame[1])
			break;
		kprintf(" %016llx", (unsigned long long)frame[1]);
		if (frame[0] <= rbp)
			break; /* the chain must go up the stack */
		rbp = frame[0];
	}
	kprintf("\n");
}

#define DR6_BS (1ull << 14)            /* single step, SDM vol.3 18.2.3 */
#define DR6_RESET 0xffff0ff0ull        /* SDM vol.3 table 9-1 */
#define TOLERATED_STEP_SITES 2

void exception_tolerate_single_step_at(uint64_t rip)
{
	uint64_t *sites = machine.tolerated_step_rip; /* every CPU names the same sites */
	for (unsigned i = 0; i < TOLERATED_STEP_SITES; i++) {
		uint64_t none = 0;
		if (__atomic_load_n(&sites[i], __ATOMIC_ACQUIRE) == rip ||
		    __atomic_compare_exchange_n(&sites[i], &none, rip, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
		    none == rip)
			return;
	}
}

static bool spurious_single_step(const struct exception_frame *f)
{
	if (f->vector != VECTOR_DB)
		return false;
	uint64_t dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	if (!(dr6 & DR6_BS))
		return false;
	_Static_assert(sizeof(machine.tolerated_step_rip) / sizeof(machine.tolerated_step_rip[0]) ==
			       TOLERATED_STEP_SITES, "tolerated step sites");
	for (unsigned i = 0; i < TOLERATED_STEP_SITES; i++) {
		uint64_t site = __atomic_load_n(&machine.tolerated_step_rip[i], __ATOMIC_ACQUIRE);
		if (site && site == f->rip) {
			__asm__ volatile("mov %0, %%dr6" ::"r"(DR6_RESET));
			if (__atomic_fetch_add(&machine.spurious_steps, 1, __ATOMIC_RELAXED) == 0)
				kprintf("nestbed: a guest's single-step #DB reached nestbed after a VM exit "
					"(an emulator bug); ignored\n");
			return true;
		}
	}
	return false;
}

#define HLT_LENGTH 1 /* F4 */

void exception_wake_site(uint64_t hlt_rip)
{
	__atomic_store_n(&machine.wake_hlt_rip, hlt_rip, __ATOMIC_RELEASE);
}

/* An NMI at the sleep's HLT (not yet executed) or right after it */
static void note_wake_nmi(struct exception_frame *f)
{
	uint64_t site = __atomic_load_n(&machine.wake_hlt_rip, __ATOMIC_ACQUIRE);
	if (!site || (f->rip != site && f->rip != site + HLT_LENGTH))
		return;
	f->rip = site + HLT_LENGTH;
	struct pcpu *c = pcpu_this();
	if (c->kicks_seen != __atomic_load_n(&c->kicks_sent, __ATOMIC_ACQUIRE))
		c->kicks_seen++; /* else the guest's NMI to a CPU waiting for SIPI: it goes */
}

void exception_dispatch(struct exception_frame *f);
void exception_dispatch(struct exception_frame *f)
{
	uint64_t cr2 = read_cr2();
	if (spurious_single_step(f))
		return;
	/* An NMI in nestbed is taken only where nestbed opens for it (SVM: the STGI after
	 * an NMI intercept, svm_backend.c); what it meant is decided there. */
	if (f->vector == VECTOR_NMI) {
		note_wake_nmi(f);
		return;
	}
	struct exception_expectation *x = this_expectation();
	if (f->vector >= FIRST_EXTERNAL_VECTOR && x->catch_interrupt && !x->caught) {
		x->caught = true;
		x->caught_vector = (uint8_t)f->vector;
		f->rflags &= ~RFLAGS_IF; /* one: the next one stays pending for the guest */
		return;
	}
	if (x->armed && !x->hit && f->vector == x->vector) {
		x->hit = true;
		x->record.vector = f->vector;
		x->record.error_code = f->error_code;
		x->record.rip = f->rip;
		x->record.cr2 = cr2;
		f->rip = x->resume_rip;
		return;
	}
	kprintf("nestbed: exception %s (vector %llu) in nestbed: error=%#llx rip=%#llx cr2=%#llx\n",
		exception_name(f->vector), (unsigned long long)f->vector,
		(unsigned long long)f->error_code, (unsigned long long)f->rip,
		(unsigned long long)cr2);
	exception_print_frame(f);
	print_backtrace(f->rbp);
	platform_exit(EXIT_CODE_FATAL);
}
