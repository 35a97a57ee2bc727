/* event/sti-hlt-pending-interrupt: "STI; HLT" with an interrupt already pending. STI
 * holds interrupts off for one more instruction (SDM vol.2B STI; APM vol.3 STI), so the
 * HLT halts and the pending interrupt wakes it at once: the interrupt is taken after the
 * HLT, which returns. Every idle loop relies on it (Xen's: a timer interrupt taken before
 * its HLT leaves it asleep with the wakeup spent). A hypervisor that intercepts HLT and
 * resumes the guest at it must carry the shadow over its VM entry (APM vol.2 15.21.5:
 * VMRUN loads INTERRUPT_SHADOW from the VMCB; QEMU 7.2 does not, which nestbed works
 * around in src/svm/svm_backend.c). A self-IPI made pending with interrupts off, then
 * STI; HLT: the HLT must return with the IPI taken and the safety-net timer (~1 s on
 * QEMU) not yet fired; otherwise the IPI came before the HLT, which slept until the
 * timer. */
#include "lib/lapic.h"
#include "lib/probe.h"
#include "lib/cpu.h"
#include "lib/exception.h"

#define IPI_VECTOR 0x41
#define TIMER_VECTOR 0x42
#define LAPIC_LVT_TIMER 0x320   /* SDM vol.3A 11.5.1; bits 18:17 = 0: one-shot */
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LAPIC_LVT_LINT0 0x350   /* the 8259's ExtINT in virtual-wire mode: masked meanwhile */
#define LAPIC_LVT_MASKED (1u << 16)
#define PIC1_DATA 0x21          /* the 8259s' interrupt masks (OCW1): all masked meanwhile */
#define PIC2_DATA 0xa1
#define LAPIC_DIVIDE_BY_128 0xa
#define SAFETY_COUNT 0x800000u  /* * 128 bus clocks: ~1 s at QEMU's 1 GHz APIC clock */

static volatile uint64_t ipi_count, timer_count;

/* The other interrupt sources, masked while a probe counts its own: LINT0 (the 8259 in
 * virtual-wire mode: the PIT) and the 8259s themselves (Bochs wires them to INTR past
 * LINT0). */
struct other_sources {
	uint32_t lint0;
	uint8_t pic1, pic2;
};

static struct other_sources other_sources_mask(void)
{
	struct other_sources o = { lapic_read(LAPIC_LVT_LINT0), inb(PIC1_DATA), inb(PIC2_DATA) };
	lapic_write(LAPIC_LVT_LINT0, o.lint0 | LAPIC_LVT_MASKED);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	return o;
}

static void other_sources_restore(const struct other_sources *o)
{
	outb(PIC2_DATA, o->pic2);
	outb(PIC1_DATA, o->pic1);
	lapic_write(LAPIC_LVT_LINT0, o->lint0);
}

static void count_interrupt(uint64_t vector)
{
	if (vector == IPI_VECTOR)
		ipi_count++;
	else if (vector == TIMER_VECTOR)
		timer_count++;
	if (vector >= 32)
		lapic_eoi();
}

static enum probe_status sti_hlt_pending(struct probe_run *run)
{
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	lapic_enable();
	ipi_count = timer_count = 0;
	exception_set_interrupt_hook(count_interrupt);
	__asm__ volatile("cli" ::: "memory");
	struct other_sources others = other_sources_mask();
	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_BY_128);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INITIAL, SAFETY_COUNT);
	lapic_self_ipi(IPI_VECTOR); /* pending: IF = 0 */
	__asm__ volatile("sti\n\thlt" ::: "memory");
	uint64_t ipis = ipi_count, timers = timer_count;
	__asm__ volatile("cli" ::: "memory");
	lapic_write(LAPIC_TIMER_INITIAL, 0); /* the safety net off */
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LAPIC_LVT_MASKED);
	__asm__ volatile("sti\n\tnop\n\tcli" ::: "memory"); /* a timer interrupt already pending */
	exception_set_interrupt_hook(NULL);
	other_sources_restore(&others);
	EXPECT_EQ(run, "pending IPIs taken when the HLT after STI returned", 1, ipis);
	EXPECT_EQ(run, "safety-net timer interrupts before that HLT returned (1: the IPI came "
		  "before the HLT, which slept)", 0, timers);
	return PROBE_PASS;
}
PROBE("event/sti-hlt-pending-interrupt", sti_hlt_pending);

/* event/sti-hlt-interrupt-race: the same shadow, with the interrupt arriving around the
 * HLT instead of already pending. A one-shot LAPIC timer is armed with IF = 0, then
 * STI; HLT: whenever it expires, its interrupt must be taken after the HLT (the frame's
 * RIP past it), never at the HLT itself (SDM vol.2B STI; APM vol.3 STI). The delays sweep
 * the time a hypervisor spends on the HLT's exit, so that some expire during it: then
 * the interrupt is pending at the VM entry that resumes the guest at the shadowed HLT,
 * which must honour the shadow (APM vol.2 15.21.5) or hold the interrupt. A broken shadow
 * would leave the HLT asleep with its wakeup spent: the handler then returns past it, so
 * the probe goes on and counts. */
#define RACE_TIMER_VECTOR 0x43
#define RACE_ROUNDS 256u
#define RACE_DELAY_STEP 400u   /* timer ticks at divide-by-1 (QEMU: 1 ns each) */
#define LAPIC_DIVIDE_BY_1 0xb  /* SDM vol.3A Figure 11-10 */

/* STI; HLT; RET, with the HLT's address known to the handler. */
__asm__(".pushsection .text\n"
	".globl sti_hlt_race_once\n"
	"sti_hlt_race_once:\n\t"
	"sti\n"
	".globl sti_hlt_race_hlt\n"
	"sti_hlt_race_hlt:\n\t"
	"hlt\n\t"
	"ret\n"
	".popsection");
void sti_hlt_race_once(void);
extern const char sti_hlt_race_hlt[];
#define HLT_LENGTH 1u

static volatile uint64_t race_timers, race_at_hlt, race_other, race_bad_rip;

static void race_interrupt(struct exception_frame *f)
{
	if (f->vector != RACE_TIMER_VECTOR) {
		race_other++;
		if (f->vector >= 32)
			lapic_eoi();
		return;
	}
	race_timers++;
	if (f->rip == (uint64_t)sti_hlt_race_hlt) {
		race_at_hlt++;           /* taken in the shadow: the HLT would sleep for good */
		f->rip += HLT_LENGTH;
	} else if (f->rip != (uint64_t)sti_hlt_race_hlt + HLT_LENGTH) {
		race_bad_rip++;          /* IF was 0 everywhere else */
	}
	lapic_eoi();
}

static enum probe_status sti_hlt_race(struct probe_run *run)
{
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	lapic_enable();
	race_timers = race_at_hlt = race_other = race_bad_rip = 0;
	__asm__ volatile("cli" ::: "memory");
	exception_set_interrupt_frame_hook(race_interrupt);
	struct other_sources others = other_sources_mask();
	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_BY_1);
	lapic_write(LAPIC_LVT_TIMER, RACE_TIMER_VECTOR);
	unsigned rounds = 0, unwoken = 0;
	for (unsigned i = 1; i <= RACE_ROUNDS; i++) {
		uint64_t before = race_timers;
		lapic_write(LAPIC_TIMER_INITIAL, i * RACE_DELAY_STEP);
		sti_hlt_race_once();
		__asm__ volatile("cli" ::: "memory");
		rounds++;
		if (race_timers == before)
			unwoken++;       /* something else woke the HLT */
	}
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	lapic_write(LAPIC_LVT_TIMER, RACE_TIMER_VECTOR | LAPIC_LVT_MASKED);
	__asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
	exception_set_interrupt_frame_hook(NULL);
	other_sources_restore(&others);
	EXPECT_EQ(run, "timer interrupts taken at the HLT after STI (inside its shadow)", 0,
		  race_at_hlt);
	EXPECT_EQ(run, "timer interrupts taken outside STI; HLT", 0, race_bad_rip);
	EXPECT_EQ(run, "other interrupts meanwhile", 0, race_other);
	EXPECT_EQ(run, "timer interrupts, one per round", rounds, race_timers);
	EXPECT_EQ(run, "HLTs that returned without the timer's interrupt", 0, unwoken);
	return PROBE_PASS;
}
PROBE("event/sti-hlt-interrupt-race", sti_hlt_race);
