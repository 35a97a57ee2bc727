/* One structure per physical CPU (DESIGN.md "State: per CPU, per vCPU"): its GDT and
 * TSS, its stack, the vendor's per-CPU state (VMXON region, host-save area), the vCPU
 * it runs (one vCPU per CPU, pinned: the guest's APIC IDs are the CPU's), and the
 * mailbox through which other CPUs hand it the INIT and startup IPIs nestbed emulates. */
#ifndef NESTBED_PCPU_H
#define NESTBED_PCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exception.h"
#include "core/gdt.h"
#include "core/sipi_wait.h"

#define NESTBED_MAX_CPUS 64
#define PCPU_STACK_SIZE (32 * 1024ull)

struct vcpu;

struct pcpu {
	unsigned index;        /* 0 is the boot CPU */
	uint32_t apic_id;      /* from the MADT (the BSP's from its own APIC) */
	struct cpu_tables tables;
	uint64_t stack_top;    /* APs: the stack nestbed gave it; the BSP keeps its boot stack */
	void *backend;         /* the vendor's per-CPU state */
	struct vcpu *vcpu;
	volatile uint32_t online; /* the AP runs nestbed's code (set by the AP) */
	/* Emulated INIT and startup IPIs waiting for this CPU's vCPU (SVM: no guest INIT or
	 * SIPI ever reaches a CPU; VMX: the CPU gets them itself, see ap_boot.c). */
	volatile uint32_t pending_init;
	/* The startup IPI posted for the vCPU, and its sleep in nestbed until one comes
	 * (SVM, run.c wait_for_startup): core/sipi_wait.h. */
	struct sipi_wait sipi;
	/* NMIs other CPUs sent to make this one leave guest mode and read its mailbox
	 * (SVM); an NMI beyond them is the guest's and is given back to it. */
	volatile uint32_t kicks_sent;
	uint32_t kicks_seen;
	/* A vCPU waiting for SIPI in nestbed sleeps (vmm_ops.idle) rather than spin, which on
	 * an emulator takes a host thread from the CPUs that work: a SIPI posted while it may
	 * sleep wakes it with one kick (sipi_wait.h). A kick taken in the sleep counts as
	 * seen there (exception_wake_site); one that comes later exits from the guest and
	 * counts as a kick as usual. */
	/* The xAPIC's logical destination and destination format registers as the guest
	 * last wrote them on this CPU (every xAPIC write exits, apic_emulation.c): what its
	 * INIT and startup IPIs with a logical destination are matched against. */
	volatile uint32_t apic_ldr, apic_dfr;
	/* The exception this CPU expects next (exception.c: rdmsr_safe and the like run on
	 * several CPUs at once), and the interrupt it catches for a guest (ack on exit). */
	struct exception_expectation expectation;
	unsigned vmcs_access_errors;   /* VMREAD/VMWRITE failures on this CPU (vmx_report.c) */
};

/* The CPU this code runs on, told apart by its GDT (each CPU loads its own tables);
 * machine.early_cpu for the boot CPU before it runs on its struct pcpu's tables (early
 * boot, or while it keeps the firmware's): never NULL. */
struct pcpu *pcpu_this(void);

/* A spinlock for the few structures CPUs share (console, frame allocator). */
struct spinlock {
	volatile uint32_t locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__asm__ volatile("pause");
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
