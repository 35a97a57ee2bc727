/* Measurement marks (option `marks`): a guest brackets the part of its run it wants
 * measured with a CPUID of NESTBED_MARK_LEAF, from any CPL, and nestbed prints its exit
 * counters at each one, so the harness counts the L0 exits of a window (KVM's L2 loops:
 * guests/linux/kvm_l2_runner.c) rather than of the whole run. The CPUID itself is
 * answered as any other (the leaf is in no range a CPU defines: the policy's answer for
 * an unknown leaf), so the guest sees no difference; without the option a mark is just a
 * CPUID. README.md "Measurement marks" has the line's fields. */
#ifndef NESTBED_MARKS_H
#define NESTBED_MARKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"

/* Outside the basic (0..), hypervisor (0x4000_00xx), extended (0x8000_00xx) and Centaur
 * (0xc000_00xx) ranges (SDM vol.2A CPUID, APM vol.3 appendix E): "NB" in the top half. */
#define NESTBED_MARK_LEAF 0x4e420000u

/* Native exit codes kept apart per level: SVM 0x00-0xff (APM vol.2 appendix C: CR, DR,
 * exceptions, INTR ... XSETBV) and 0x400-0x40f (NPF, AVIC, VMGEXIT), VMX basic reasons
 * 0-0x4f (SDM vol.3D appendix C); anything else counts as "other". */
#define MARKS_CODES_LOW 0x100u
#define MARKS_CODES_HIGH_BASE 0x400u
#define MARKS_CODES_HIGH 0x10u
#define MARKS_CODE_SLOTS (MARKS_CODES_LOW + MARKS_CODES_HIGH + 1u)
#define MARKS_APIC_REGS 64u /* xAPIC registers: 16-byte aligned in a 4 KiB page (SDM 11.4.1) */

/* Per vCPU, counted only with the option. */
struct marks {
	uint64_t guest_ticks;     /* TSC ticks the vCPU spent in guest mode (world switches) */
	uint64_t own_ticks;       /* ticks spent printing marks: left out of the next ones */
	uint64_t exit_tsc;        /* the last world switch ended then (0: none yet) */
	unsigned exit_level, exit_slot; /* ... with this exit (marks_count) */
	uint32_t codes[3][MARKS_CODE_SLOTS];  /* [level][native code slot] */
	/* nestbed's ticks from the end of a world switch to the start of the next, by the
	 * exit that began them (printing marks left out) */
	uint64_t code_ticks[3][MARKS_CODE_SLOTS];
	uint32_t apic_writes[MARKS_APIC_REGS]; /* L1 writes to its xAPIC page, by register */
};

struct vcpu;

/* The counting that needs the option, after an exit's trace_exit (run.c). */
void marks_count(struct vcpu *v, const struct exit *e);

/* An L1 CPUID exit: prints the mark when it is one and the option is on (the caller
 * answers the CPUID as usual). */
void marks_cpuid(struct vcpu *v, uint32_t leaf, uint32_t tag);

static inline uint64_t marks_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Around the world switch (backends, only with the option): guest time, and nestbed's
 * time since the last switch for the exit that caused it. */
static inline uint64_t marks_switch_begin(struct marks *m)
{
	uint64_t now = marks_rdtsc();
	if (m->exit_tsc)
		m->code_ticks[m->exit_level][m->exit_slot] += now - m->exit_tsc;
	return now;
}

static inline void marks_switch_end(struct marks *m, uint64_t began)
{
	m->exit_tsc = marks_rdtsc();
	m->guest_ticks += m->exit_tsc - began;
}

/* The slot of a native code in struct marks.codes, and back (pure; host-tested). */
unsigned marks_code_slot(uint64_t native_code);
uint64_t marks_slot_code(unsigned slot);

#endif
