/* smp/logical-init: an INIT with a logical destination, then the startup IPIs by the
 * "all excluding self" shorthand (SDM vol.3A 11.6.2.2, 11.6.1; APM vol.2 16.6.1), as the
 * SDM's universal startup algorithm sends them. xAPIC: the AP and the boot CPU take
 * logical IDs in the flat model (DFR all ones, LDR bits 31:24); the INIT to the AP's
 * logical ID puts it in wait-for-SIPI and resets its LDR to 0 and its DFR to all ones
 * (11.4.7.3: as after RESET but for the APIC ID), so no logical ID names it then (the
 * emulators disagree on whether the logical broadcast FFH reaches an LDR of 0: not used);
 * the first SIPI starts it at CS = vector << 8, IP = 0, in the INIT state, the second
 * finds it running and is ignored, and it reads LDR 0 and DFR all ones. x2APIC: the
 * logical ID follows from the x2APIC ID (cluster << 16 | 1 << (ID & 15), 11.12.10.2) and
 * survives INIT: INIT, SIPI, SIPI all go to it. Other APs are started first, so that
 * the shorthand finds them running. */
#include "lib/cpu.h"
#include "lib/delay.h"
#include "lib/lapic.h"
#include "lib/smp.h"
#include "probes/smp/smp_probe.h"

#define LAPIC_LDR 0x0d0
#define LAPIC_DFR 0x0e0
#define DFR_FLAT 0xffffffffu       /* model 1111b in bits 31:28, the rest reserved 1s */
#define LDR_SHIFT 24
#define BSP_LOGICAL_ID 0x01u
#define AP_LOGICAL_ID 0x02u
#define ICR_LOGICAL 0x00800u       /* destination mode (ICR bit 11) */
#define ICR_ALL_EXCLUDING_SELF 0xc0000u /* destination shorthand 11b (bits 19:18) */
#define INIT_TO_SIPI_US 10000
#define SIPI_TO_SIPI_US 200
#define ONLINE_WAIT_US 1000000

static uint64_t ap_take_logical_id(void *arg)
{
	(void)arg;
	lapic_write(LAPIC_DFR, DFR_FLAT);
	lapic_write(LAPIC_LDR, AP_LOGICAL_ID << LDR_SHIFT);
	return lapic_read(LAPIC_LDR);
}

static uint64_t ap_read_ldr_dfr(void *arg)
{
	(void)arg;
	return (uint64_t)lapic_read(LAPIC_DFR) << 32 | lapic_read(LAPIC_LDR);
}

static uint32_t x2apic_logical_id(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* Sends one IPI with a logical destination (xAPIC MDA in ICR bits 63:56, x2APIC in
 * bits 63:32; lapic_send_ipi puts its destination there). */
static bool send_logical(uint32_t destination, uint32_t command)
{
	return lapic_send_ipi(destination, command | ICR_LOGICAL);
}

static enum probe_status logical_init(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	for (unsigned k = 2; k < smp_count(); k++)
		if (smp_start(k, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
			return probe_fail(run, "%s", why);
	struct smp_cpu *ap = smp_cpu(1);
	bool x2apic = lapic_x2apic();
	uint32_t init_dest;
	if (x2apic) {
		init_dest = x2apic_logical_id(ap->apic_id);
		diag("x2APIC: the AP's logical ID %#x", init_dest);
	} else {
		uint64_t ldr;
		if (!smp_call(1, ap_take_logical_id, NULL, &ldr, ONLINE_WAIT_US))
			return probe_fail(run, "AP 1 did not take its logical ID within 1 s");
		EXPECT_EQ(run, "the AP's LDR after its write", AP_LOGICAL_ID << LDR_SHIFT, ldr);
		lapic_write(LAPIC_DFR, DFR_FLAT);
		lapic_write(LAPIC_LDR, BSP_LOGICAL_ID << LDR_SHIFT);
		init_dest = AP_LOGICAL_ID;
	}
	/* the AP leaves its loop for the INIT; its mailbox is left as it is (request ==
	 * done: idle), so that the restarted AP runs nothing until the next smp_call */
	smp_trampoline_install(SMP_TRAMPOLINE_VECTOR_ALT, ap);
	ap->online = 0;
	struct smp_entry_state before;
	smp_trampoline_entry_state(SMP_TRAMPOLINE_VECTOR_ALT, &before);
	if (!send_logical(init_dest, ICR_INIT | ICR_LEVEL_ASSERT))
		return probe_fail(run, "the logical INIT stayed pending");
	delay_us(INIT_TO_SIPI_US);
	uint32_t sipi = ICR_STARTUP | ICR_LEVEL_ASSERT | SMP_TRAMPOLINE_VECTOR_ALT;
	bool sent = x2apic ? send_logical(init_dest, sipi) : lapic_send_ipi(0, sipi | ICR_ALL_EXCLUDING_SELF);
	if (!sent)
		return probe_fail(run, "the startup IPI stayed pending");
	delay_us(SIPI_TO_SIPI_US);
	sent = x2apic ? send_logical(init_dest, sipi) : lapic_send_ipi(0, sipi | ICR_ALL_EXCLUDING_SELF);
	if (!sent)
		return probe_fail(run, "the second startup IPI stayed pending");
	if (!smp_wait_online(1, ONLINE_WAIT_US))
		return probe_fail(run, "AP 1 did not start after INIT to logical ID %#x and SIPI, SIPI (%s)",
				  init_dest, x2apic ? "the same logical ID" : "all excluding self");
	struct smp_entry_state e;
	smp_trampoline_entry_state(SMP_TRAMPOLINE_VECTOR_ALT, &e);
	EXPECT_EQ(run, "entries into the trampoline (the second SIPI finds the AP running)",
		  before.entries + 1, e.entries);
	status = smp_expect_init_state(run, &e, SMP_TRAMPOLINE_VECTOR_ALT);
	if (status != PROBE_PASS)
		return status;
	EXPECT_EQ(run, "the AP's local APIC ID after the restart", ap->apic_id, ap->in_long_mode_apic_id);
	if (!x2apic) {
		uint64_t regs;
		if (!smp_call(1, ap_read_ldr_dfr, NULL, &regs, ONLINE_WAIT_US))
			return probe_fail(run, "AP 1 did not read its LDR and DFR within 1 s");
		EXPECT_EQ(run, "the AP's LDR after INIT (11.4.7.3)", 0, (uint32_t)regs);
		EXPECT_EQ(run, "the AP's DFR after INIT (11.4.7.3)", DFR_FLAT, (uint32_t)(regs >> 32));
	}
	return PROBE_PASS;
}
PROBE("smp/logical-init", logical_init);
