/* event/gif-...: the guest hypervisor's own GIF (APM vol.2 15.17, table 15-10). With
 * GIF 0, INTR and NMI are held pending, whatever RFLAGS.IF is, and taken once STGI sets
 * GIF again. Under nestbed this is L1's GIF, which nestbed emulates (CLGI/STGI
 * intercepted) or gives to the CPU's virtual GIF (APM vol.2 15.33: V_GIF gates only
 * virtual interrupts, so nestbed must still hold physical ones). A hypervisor relies on
 * it between CLGI and VMRUN (KVM: CLGI; STI; VMRUN) and after #VMEXIT until its STGI.
 * SKIP on VMX. */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/svm.h"

#define GIF_TEST_VECTOR 0x43
#define VECTOR_NMI 2
#define SPIN_LOOPS 20000 /* long enough for a self-IPI to arrive (it is at once in QEMU) */

static volatile uint64_t gif_vector, gif_count;

static void record(uint64_t vector)
{
	gif_vector = vector;
	gif_count++;
	if (vector >= 32)
		lapic_eoi();
}

static void spin_with_interrupts_on(void)
{
	__asm__ volatile("sti" ::: "memory");
	for (volatile unsigned i = 0; i < SPIN_LOOPS; i++)
		;
	__asm__ volatile("cli" ::: "memory");
}

static enum probe_status gif_start(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "the GIF (CLGI/STGI)"));
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	lapic_enable();
	return PROBE_PASS;
}

/* CLGI, a self-IPI, then IF = 1 for a while: nothing taken; STGI: taken at once. */
static enum probe_status gif_holds_interrupt(struct probe_run *run)
{
	enum probe_status st = gif_start(run);
	if (st != PROBE_PASS)
		return st;
	gif_count = 0;
	gif_vector = 0;
	exception_set_interrupt_hook(record);
	svm_clgi();
	lapic_self_ipi(GIF_TEST_VECTOR);
	spin_with_interrupts_on();
	uint64_t while_gif0 = gif_count;
	__asm__ volatile("stgi; sti; nop; nop; cli" ::: "memory");
	uint64_t after = gif_count;
	spin_with_interrupts_on(); /* a late one is still counted below, not lost */
	exception_set_interrupt_hook(NULL);
	EXPECT_EQ(run, "interrupts taken while GIF was 0 (RFLAGS.IF = 1)", 0, while_gif0);
	EXPECT_EQ(run, "interrupts taken right after STGI; STI", 1, after);
	EXPECT_EQ(run, "vector taken", GIF_TEST_VECTOR, gif_vector);
	EXPECT_EQ(run, "interrupts taken in all", 1, gif_count);
	return PROBE_PASS;
}
PROBE("event/gif-holds-interrupt", gif_holds_interrupt);

/* CLGI, an NMI to itself: held until STGI (NMIs ignore IF, not GIF). */
static enum probe_status gif_holds_nmi(struct probe_run *run)
{
	enum probe_status st = gif_start(run);
	if (st != PROBE_PASS)
		return st;
	gif_count = 0;
	gif_vector = 0;
	exception_set_interrupt_hook(record);
	svm_clgi();
	bool sent = lapic_send_ipi(lapic_id(), ICR_NMI | ICR_LEVEL_ASSERT);
	spin_with_interrupts_on();
	uint64_t while_gif0 = gif_count;
	__asm__ volatile("stgi; nop; nop" ::: "memory");
	uint64_t after = gif_count;
	for (volatile unsigned i = 0; i < SPIN_LOOPS; i++)
		;
	exception_set_interrupt_hook(NULL);
	if (!sent)
		return probe_fail(run, "the APIC still says the NMI IPI is pending");
	EXPECT_EQ(run, "NMIs taken while GIF was 0", 0, while_gif0);
	EXPECT_EQ(run, "NMIs taken right after STGI", 1, after);
	EXPECT_EQ(run, "vector taken", VECTOR_NMI, gif_vector);
	EXPECT_EQ(run, "NMIs taken in all", 1, gif_count);
	return PROBE_PASS;
}
PROBE("event/gif-holds-nmi", gif_holds_nmi);
