/* isolation/smi-raise: a write to the APM control port (B2h, the chipset's software SMI:
 * PIIX4 APMC with APMC_EN, ICH9 likewise) raises an SMI; the firmware's own SMI handler,
 * in locked SMRAM, runs and returns to the guest with RSM. Asserted: the OUT returns to
 * the next instruction, the SMRAM control still reads locked, and nestbed's canary is
 * unchanged. Whether an SMI was delivered is not visible to the guest; on qemu-svm
 * QEMU's `-d int` log shows "SMM: enter" and "SMM: after RSM" with the guest's 64-bit
 * state around this probe (SeaBIOS enables APMC; so does the Bochs BIOS). SKIP without
 * nestbed. */
#include "probes/isolation/l0_doors.h"
#include "lib/probe.h"

#define APM_CNT 0xb2
#define APM_STS 0xb3
#define D_LCK 0x10u

static enum probe_status smi_raise(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	enum probe_status s = l0_canary_get(run, &canary);
	if (s != PROBE_PASS)
		return s;
	uint8_t status = io_inb(APM_STS);
	/* a command no firmware handler acts on (SeaBIOS: 0xc0-0xc1 and ACPI's 0xf0/0xf1) */
	io_outb(APM_CNT, 0x00);
	io_outb(APM_STS, status);
	uint32_t id = host_bridge_id();
	uint8_t reg = id == 0x12378086u ? 0x72 : id == 0x29c08086u ? 0x9d : 0;
	if (reg) {
		uint8_t smram = host_bridge_read8(reg);
		if (!(smram & D_LCK))
			return probe_fail(run, "SMRAM control after the SMI: expected D_LCK set, observed %#04x", smram);
	}
	return l0_canary_same(run, &canary, "after the SMI");
}
PROBE("isolation/smi-raise", smi_raise);
