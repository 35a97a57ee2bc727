/* smp/ipi: a fixed IPI from the boot CPU to an AP, and one from the AP to the boot CPU,
 * each delivered once with its vector (SDM vol.3A 11.6.1; APM vol.2 16.5). The boot CPU
 * masks the 8259s while it takes interrupts (no stray IRQ lands on an exception vector). */
#include "lib/cpu.h"
#include "lib/delay.h"
#include "lib/exception.h"
#include "lib/lapic.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

#define VECTOR_TO_AP  0x40
#define VECTOR_TO_BSP 0x41
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define DELIVERY_TIMEOUT_US 1000000
#define DUPLICATE_WINDOW_US 10000

/* On the AP: take interrupts until the boot CPU says stop; how many came. */
static uint64_t ap_take_interrupts(void *arg)
{
	struct smp_cpu *self = arg;
	__asm__ volatile("sti" ::: "memory");
	while (!self->stop)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	return self->interrupts;
}

static uint64_t ap_send_to_bsp(void *arg)
{
	(void)arg;
	return lapic_send_ipi(smp_cpu(0)->apic_id, ICR_FIXED | VECTOR_TO_BSP);
}

static bool got_interrupt(void *arg)
{
	return ((struct smp_cpu *)arg)->interrupts != 0;
}

static enum probe_status to_ap(struct probe_run *run, struct smp_cpu *ap)
{
	if (!smp_post(ap->index, ap_take_interrupts, ap))
		return probe_fail(run, "AP %u is not online", ap->index);
	if (!lapic_send_ipi(ap->apic_id, ICR_FIXED | VECTOR_TO_AP))
		return probe_fail(run, "the IPI to the AP stayed pending");
	bool arrived = delay_poll(got_interrupt, ap, DELIVERY_TIMEOUT_US, 1000);
	delay_us(DUPLICATE_WINDOW_US);
	ap->stop = 1;
	uint64_t count;
	if (!smp_wait_result(ap->index, &count, DELIVERY_TIMEOUT_US))
		return probe_fail(run, "AP %u did not return", ap->index);
	if (!arrived)
		return probe_fail(run, "the IPI (vector %#x) from the boot CPU never reached AP %u",
				  VECTOR_TO_AP, ap->index);
	EXPECT_EQ(run, "interrupts the AP took (boot CPU to AP)", 1, count);
	EXPECT_EQ(run, "vector the AP took", VECTOR_TO_AP, ap->last_vector);
	return PROBE_PASS;
}

static enum probe_status to_bsp(struct probe_run *run, struct smp_cpu *ap)
{
	struct smp_cpu *bsp = smp_cpu(0);
	bsp->interrupts = 0;
	bsp->last_vector = 0;
	__asm__ volatile("sti" ::: "memory");
	uint64_t sent = 0;
	bool returned = smp_call(ap->index, ap_send_to_bsp, NULL, &sent, DELIVERY_TIMEOUT_US);
	bool arrived = delay_poll(got_interrupt, bsp, DELIVERY_TIMEOUT_US, 1000);
	delay_us(DUPLICATE_WINDOW_US);
	__asm__ volatile("cli" ::: "memory");
	if (!returned || !sent)
		return probe_fail(run, "AP %u could not send the IPI (%s)", ap->index,
				  returned ? "stayed pending" : "no return within 1 s");
	if (!arrived)
		return probe_fail(run, "the IPI (vector %#x) from AP %u never reached the boot CPU",
				  VECTOR_TO_BSP, ap->index);
	EXPECT_EQ(run, "interrupts the boot CPU took (AP to boot CPU)", 1, bsp->interrupts);
	EXPECT_EQ(run, "vector the boot CPU took", VECTOR_TO_BSP, bsp->last_vector);
	return PROBE_PASS;
}

static enum probe_status ipi(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	uint8_t pic1 = inb(PIC1_DATA), pic2 = inb(PIC2_DATA);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	lapic_enable();
	exception_set_interrupt_hook(smp_interrupt_hook);
	struct smp_cpu *ap = smp_cpu(1);
	status = to_ap(run, ap);
	if (status == PROBE_PASS)
		status = to_bsp(run, ap);
	exception_set_interrupt_hook(NULL);
	outb(PIC1_DATA, pic1);
	outb(PIC2_DATA, pic2);
	return status;
}
PROBE("smp/ipi", ipi);
