/* Several CPUs for probes. The CPUs come from the ACPI MADT (processor local APIC and
 * x2APIC entries; core/acpi_madt.c), the boot CPU first: smp_cpu(0) is the BSP, 1.. are
 * the APs in MADT order. smp_start() starts an AP with INIT, 10 ms, SIPI, 200 us, SIPI
 * (SDM vol.3A 9.4.4.1, MP spec B.4) at a real-mode trampoline (smp_trampoline.asm) in
 * the guest's own low memory; the AP records the state it started in, goes to long
 * mode with the boot CPU's page tables and IDT, its own GDT copy and TSS, stack and
 * per-CPU area, and waits for work: smp_call() runs a function there and waits for its
 * result with a bounded timeout. Timing is by the PIT (delay.h), on the boot CPU.
 *
 * Only the boot CPU calls this API. A function run on an AP may use exc_try (and what
 * is built on it: rdmsr_safe, nestbed_hypercall, the mini-hypervisor) only while the
 * boot CPU waits for it without using exc_try itself: the catcher chain is one for the
 * machine (exception.c), and the AP's catchers nest on top of the boot CPU's. */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/probe.h"
#include "lib/tss.h"

#define SMP_MAX_CPUS   8
#define SMP_STACK_SIZE 16384
#define SMP_GDT_ENTRIES 6        /* boot_gdt's: null, code32, data, code64, TSS (2) */

/* Trampoline pages (vector << 12): usable low memory on every platform here. */
#define SMP_TRAMPOLINE_VECTOR     0x10
#define SMP_TRAMPOLINE_VECTOR_ALT 0x11

/* What the AP recorded on entering the trampoline, before changing anything. */
struct smp_entry_state {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp;
	uint32_t eflags;
	uint16_t ip;                 /* of smp_trampoline_entry_ip, from a CALL */
	uint16_t pad0;
	uint32_t cr0, cr2, cr3, cr4, dr6, dr7;
	uint64_t efer;
	uint16_t cs, ds, es, ss, fs, gs;
	uint32_t pad1;
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr;
	uint16_t pad2;
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr;
	uint16_t pad3;
	uint32_t entries;            /* times the trampoline was entered since installed */
};
_Static_assert(offsetof(struct smp_entry_state, eflags) == 0x20, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, cr0) == 0x28, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, efer) == 0x40, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, cs) == 0x48, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, gdtr) == 0x58, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, idtr) == 0x60, "smp_trampoline.asm");
_Static_assert(offsetof(struct smp_entry_state, entries) == 0x68, "smp_trampoline.asm");

typedef uint64_t (*smp_fn)(void *arg);

/* One CPU's area. The AP reaches its own through the pointer smp_ap_main receives. */
struct smp_cpu {
	unsigned index;
	uint32_t apic_id;            /* from the MADT */
	bool x2apic_entry;           /* listed by a MADT x2APIC entry */
	volatile uint32_t online;    /* the AP reached its C entry (this start) */
	volatile uint32_t in_long_mode_apic_id; /* lapic_id() read by the AP at its entry */
	/* the mailbox: the boot CPU writes fn and arg, then request++; the AP runs
	 * fn(arg), stores result, then done = request */
	smp_fn volatile fn;
	void *volatile arg;
	volatile uint64_t result;
	volatile uint32_t request, done;
	volatile uint32_t stop;      /* asks a waiting function to give up */
	volatile uint32_t interrupts; /* counted by smp_interrupt_hook */
	volatile uint32_t self_init;  /* enum smp_self_init: smp_ap_init_self's progress */
	volatile uint32_t last_vector;
	uint64_t gdt[SMP_GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss_cpu tss;
	uint8_t stack[SMP_STACK_SIZE] __attribute__((aligned(16)));
};

/* Finds the CPUs (once). 0, or -1 with the reason (no RSDP in the BIOS area, no MADT,
 * the boot CPU not in it, ...). */
int smp_init(char *reason, size_t size);
unsigned smp_count(void);
struct smp_cpu *smp_cpu(unsigned index);
/* The area of the CPU running this (by its APIC ID); NULL if unknown. */
struct smp_cpu *smp_this_cpu(void);

/* For a probe's first lines: SKIP unless the machine has at least n CPUs (and the
 * census and trampoline can work here); PROBE_PASS to go on. */
enum probe_status smp_require(struct probe_run *run, unsigned n);

/* Copies the trampoline to vector << 12 and fills its inputs for cpu. */
void smp_trampoline_install(uint8_t vector, struct smp_cpu *cpu);
/* The entry state the trampoline at vector << 12 recorded. */
void smp_trampoline_entry_state(uint8_t vector, struct smp_entry_state *out);

/* INIT, 10 ms, SIPI, 200 us, SIPI (vector) to AP index, and waits up to 1 s for it to
 * reach its C entry. *entry (may be NULL) gets the recorded entry state. 0, or -1 with
 * the reason. */
int smp_start(unsigned index, uint8_t vector, struct smp_entry_state *entry, char *reason,
	      size_t size);
/* Startup IPI only (for an AP already in wait-for-SIPI), then the same wait. */
int smp_sipi(unsigned index, uint8_t vector, struct smp_entry_state *entry, char *reason,
	     size_t size);
/* Waits (bounded) until AP index reports online. */
bool smp_wait_online(unsigned index, uint64_t timeout_us);

/* An AP's INIT to itself, by its own APIC ID (the "self" shorthand is not allowed with
 * INIT: SDM vol.3A 11.6.1, APM vol.2 16.5), then the boot CPU's startup IPIs.
 * smp_ap_init_self runs on the AP (smp_post(index, smp_ap_init_self, smp_cpu(index))):
 * it says SMP_SELF_INIT_SENT right before its ICR write and never returns while the INIT
 * works; should the INIT leave it running it returns once told to stop, saying
 * SMP_SELF_INIT_WENT_ON. smp_restart_after_self_init, on the boot CPU, waits (bounded)
 * for SMP_SELF_INIT_SENT, then the SDM's 10 ms (9.4.4.1), then sends startup IPIs with
 * vector as the MP sequence does (SIPI, 200 us, SIPI) until the AP starts, again every
 * 200 ms for up to 1 s: the AP's INIT has no completion another CPU can see, and on an
 * emulator the AP's host thread may stall between its announcement and its INIT for
 * longer than any fixed wait; a SIPI that comes before the INIT is ignored (9.4.4), one
 * that finds the AP running too, so a late repeat starts nothing twice (the trampoline
 * counts its entries). *sipis (may be NULL) gets the startup IPIs sent. 0, or -1 with
 * the reason: the AP never announced its INIT, went on running after it, or did not
 * start. */
enum smp_self_init { SMP_SELF_INIT_NONE, SMP_SELF_INIT_SENT, SMP_SELF_INIT_WENT_ON };
uint64_t smp_ap_init_self(void *self);
int smp_restart_after_self_init(unsigned index, uint8_t vector, struct smp_entry_state *entry,
				unsigned *sipis, char *reason, size_t size);

/* Runs fn(arg) on AP index without waiting; false if the AP is not online. */
bool smp_post(unsigned index, smp_fn fn, void *arg);
/* Waits up to timeout_us for the posted function to return; true and *result then. */
bool smp_wait_result(unsigned index, uint64_t *result, uint64_t timeout_us);
/* Both. */
bool smp_call(unsigned index, smp_fn fn, void *arg, uint64_t *result, uint64_t timeout_us);

/* An interrupt hook (exception_set_interrupt_hook) that counts each interrupt in the
 * area of the CPU that took it and sends the EOI. */
void smp_interrupt_hook(uint64_t vector);

/* The AP's C entry, called by the trampoline. */
void smp_ap_main(struct smp_cpu *cpu) __attribute__((noreturn));

#endif
