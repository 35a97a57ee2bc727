/* isolation/bios-shadow: SeaBIOS's SMI handler runs from the BIOS shadow in the F segment
 * (the code at SMBASE + 8000h jumps there), outside SMRAM; the host bridge's PAM
 * registers (i440FX 59h-5Fh, Q35 90h-96h: 82441FX datasheet 3.2.18) decide whether the
 * guest can write that RAM. A guest that set PAM0's F-segment field to read/write
 * (bits 5:4 = 11b) could write the code SMM then runs. Under nestbed: PAM0 reads back
 * unchanged after such a write, and a byte written at FFFF5h (the BIOS date) does not
 * stick, before or after. SKIP on another host bridge and without nestbed (bare, the
 * write would open the shadow). */
#include "probes/isolation/l0_doors.h"
#include "lib/probe.h"

#define PAM_F_SEGMENT_RW 0x30u
#define BIOS_DATE 0xffff5ull

static bool shadow_byte_sticks(void)
{
	volatile uint8_t *p = (volatile uint8_t *)BIOS_DATE;
	uint8_t before = *p;
	*p = (uint8_t)~before;
	bool stuck = *p != before;
	*p = before;
	return stuck;
}

static enum probe_status bios_shadow(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	enum probe_status s = l0_canary_get(run, &canary);
	if (s != PROBE_PASS)
		return s;
	uint32_t id = host_bridge_id();
	uint8_t pam0;
	if (id == 0x12378086u)
		pam0 = 0x59; /* i440FX */
	else if (id == 0x29c08086u)
		pam0 = 0x90; /* Q35 MCH */
	else
		return probe_skip(run, "host bridge %04x:%04x is neither an i440FX nor a Q35 MCH",
				  id & 0xffff, id >> 16);
	uint8_t before = host_bridge_read8(pam0);
	diag("PAM0 (00:00.0 %#x) reads %#04x", pam0, before);
	if (shadow_byte_sticks())
		return probe_fail(run, "a byte written at %#llx stuck before any PAM write: the BIOS shadow "
				  "is writable (PAM0 %#04x)", (unsigned long long)BIOS_DATE, before);
	host_bridge_write8(pam0, (uint8_t)(before | PAM_F_SEGMENT_RW));
	uint8_t after = host_bridge_read8(pam0);
	bool stuck = shadow_byte_sticks();
	host_bridge_write8(pam0, before);
	EXPECT_EQ(run, "PAM0 after a write making the F segment read/write", before, after);
	if (stuck)
		return probe_fail(run, "a byte written at %#llx stuck after the PAM write: the BIOS shadow "
				  "became writable", (unsigned long long)BIOS_DATE);
	return l0_canary_same(run, &canary, "after the PAM writes");
}
PROBE("isolation/bios-shadow", bios_shadow);
