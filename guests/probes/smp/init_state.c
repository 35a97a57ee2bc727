#include "probes/smp/smp_probe.h"

extern const uint8_t smp_trampoline_start[], smp_trampoline_entry_ip[];

/* CR0 after INIT: ET (bit 4) set, everything else clear but CD and NW (bits 30, 29),
 * which INIT leaves as they were (SDM vol.3A Table 10-1 [9-1 in older editions] and its
 * note; APM vol.2 Table 14-1 gives 60000010h): compared without CD and NW. */
#define CR0_ET       0x10u
#define CR0_CD_NW    0x60000000u
#define EFLAGS_INIT  0x2u          /* bit 1 is always 1 */
#define DR6_INIT     0xffff0ff0u   /* SDM Table 10-1; APM Table 14-1 */
#define DR7_INIT     0x400u
#define TABLE_LIMIT_INIT 0xffffu   /* GDTR and IDTR: base 0, limit FFFFh */

enum probe_status smp_expect_init_state(struct probe_run *run, const struct smp_entry_state *e,
					uint8_t vector)
{
	diag("entry state at vector %#x: cs %#x ip %#x eflags %#x cr0 %#x dr6 %#x dr7 %#x "
	     "edx %#x efer %#llx entries %u", vector, e->cs, e->ip, e->eflags, e->cr0, e->dr6,
	     e->dr7, e->edx, (unsigned long long)e->efer, e->entries);
	EXPECT_EQ(run, "times the trampoline was entered (the second SIPI is ignored)", 1,
		  e->entries);
	EXPECT_EQ(run, "CS selector (vector << 8)", (uint32_t)vector << 8, e->cs);
	EXPECT_EQ(run, "IP after the trampoline's first CALL (it began at IP 0)",
		  smp_trampoline_entry_ip - smp_trampoline_start, e->ip);
	EXPECT_EQ(run, "EFLAGS", EFLAGS_INIT, e->eflags);
	EXPECT_EQ(run, "CR0 without CD and NW", CR0_ET, e->cr0 & ~CR0_CD_NW);
	EXPECT_EQ(run, "CR2", 0, e->cr2);
	EXPECT_EQ(run, "CR3", 0, e->cr3);
	EXPECT_EQ(run, "CR4", 0, e->cr4);
	EXPECT_EQ(run, "DR6", DR6_INIT, e->dr6);
	EXPECT_EQ(run, "DR7", DR7_INIT, e->dr7);
	EXPECT_EQ(run, "EFER", 0, e->efer);
	EXPECT_EQ(run, "EAX", 0, e->eax);
	EXPECT_EQ(run, "EBX", 0, e->ebx);
	EXPECT_EQ(run, "ECX", 0, e->ecx);
	EXPECT_EQ(run, "ESI", 0, e->esi);
	EXPECT_EQ(run, "EDI", 0, e->edi);
	EXPECT_EQ(run, "EBP", 0, e->ebp);
	EXPECT_EQ(run, "ESP", 0, e->esp);
	EXPECT_EQ(run, "DS", 0, e->ds);
	EXPECT_EQ(run, "ES", 0, e->es);
	EXPECT_EQ(run, "SS", 0, e->ss);
	EXPECT_EQ(run, "FS", 0, e->fs);
	EXPECT_EQ(run, "GS", 0, e->gs);
	EXPECT_EQ(run, "GDTR base", 0, e->gdtr.base);
	EXPECT_EQ(run, "GDTR limit", TABLE_LIMIT_INIT, e->gdtr.limit);
	EXPECT_EQ(run, "IDTR base", 0, e->idtr.base);
	EXPECT_EQ(run, "IDTR limit", TABLE_LIMIT_INIT, e->idtr.limit);
	return PROBE_PASS;
}

enum probe_status smp_expect_init_edx(struct probe_run *run, const struct smp_entry_state *e,
				      uint32_t signature)
{
	EXPECT_EQ(run, "EDX after INIT (processor signature, CPUID.1:EAX)", signature, e->edx);
	return PROBE_PASS;
}
