/* isolation/smram-open: a guest that opens SMRAM (the host bridge's D_OPEN) can write its
 * own SMI handler there and run it in SMM, beside nestbed. Under nestbed the SMRAM control
 * (i440FX 00:00.0 72h, Q35 9Dh: 82441FX datasheet 3.2.23, 3 Series MCH 5.1.20) reads back
 * with D_LCK set and D_OPEN clear; a byte write and a dword write that set D_OPEN and
 * clear D_LCK leave it as it was, a write setting D_CLS too (the datasheets leave it to
 * the SMI handler; nestbed keeps it from the guest), and the bytes at A8000h (the
 * SMI handler's place with SMBASE A0000h, VGA memory while SMRAM is closed) read the same
 * before and after. SKIP on another host bridge and without nestbed (bare, the firmware
 * leaves SMRAM unlocked and the probe would open it). */
#include "core/string.h"
#include "probes/isolation/l0_doors.h"
#include "lib/probe.h"

#define D_OPEN 0x40u
#define D_LCK 0x10u
#define D_CLS 0x20u
#define SMM_HANDLER_AREA 0xa8000ull
#define SNAPSHOT 64

static enum probe_status smram_open(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	enum probe_status s = l0_canary_get(run, &canary);
	if (s != PROBE_PASS)
		return s;
	uint32_t id = host_bridge_id();
	uint8_t reg;
	if (id == 0x12378086u)
		reg = 0x72; /* i440FX */
	else if (id == 0x29c08086u)
		reg = 0x9d; /* Q35 MCH */
	else
		return probe_skip(run, "host bridge %04x:%04x is neither an i440FX nor a Q35 MCH",
				  id & 0xffff, id >> 16);
	uint8_t before = host_bridge_read8(reg);
	diag("SMRAM control (00:00.0 %#x) reads %#04x", reg, before);
	if (!(before & D_LCK) || (before & D_OPEN))
		return probe_fail(run, "SMRAM control: expected D_LCK set and D_OPEN clear, observed %#04x", before);

	uint8_t area[SNAPSHOT];
	memcpy(area, (const void *)SMM_HANDLER_AREA, SNAPSHOT);

	/* a byte write opening and unlocking */
	host_bridge_write8(reg, (uint8_t)((before | D_OPEN) & ~D_LCK));
	uint8_t after_byte = host_bridge_read8(reg);
	int changed_byte = memcmp(area, (const void *)SMM_HANDLER_AREA, SNAPSHOT);
	/* a dword write carrying the same byte, the other three as they are */
	io_outl(PCI_CFG_ADDRESS, 0x80000000u | (reg & 0xfcu));
	uint32_t dword = io_inl(PCI_CFG_DATA);
	unsigned shift = 8 * (reg & 3);
	uint32_t open = (dword & ~(0xffu << shift)) | ((uint32_t)((before | D_OPEN) & ~D_LCK) << shift);
	io_outl(PCI_CFG_DATA, open);
	uint8_t after_dword = host_bridge_read8(reg);
	int changed_dword = memcmp(area, (const void *)SMM_HANDLER_AREA, SNAPSHOT);
	/* D_CLS: SMM data accesses to ASEG would go to VGA memory, which the guest writes */
	host_bridge_write8(reg, (uint8_t)(before | D_CLS));
	uint8_t after_cls = host_bridge_read8(reg);
	host_bridge_write8(reg, before);

	EXPECT_EQ(run, "SMRAM control after a byte write setting D_CLS", before, after_cls);
	EXPECT_EQ(run, "SMRAM control after a byte write of D_OPEN=1 D_LCK=0", before, after_byte);
	EXPECT_EQ(run, "SMRAM control after a dword write of D_OPEN=1 D_LCK=0", before, after_dword);
	if (changed_byte || changed_dword)
		return probe_fail(run, "memory at %#llx changed after the writes: SMRAM became visible",
				  (unsigned long long)SMM_HANDLER_AREA);
	return l0_canary_same(run, &canary, "after the SMRAM writes");
}
PROBE("isolation/smram-open", smram_open);
