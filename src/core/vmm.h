/* The one table through which the vendor-neutral core reaches a backend (VMX or SVM),
 * chosen at boot from CPUID. */
#ifndef NESTBED_VMM_H
#define NESTBED_VMM_H

#include <stdint.h>

#include "core/exit.h"
#include "core/vcpu.h"

struct machine;
struct pcpu;

/* Where and how the guest starts: filled by the guest loader, applied by the backend. */
enum guest_start_mode {
	GUEST_START_PROTECTED32, /* Multiboot: flat 32-bit segments, paging off */
	GUEST_START_LONG64,      /* Linux 64-bit boot protocol: identity paging given */
	GUEST_START_WAIT_FOR_SIPI, /* an AP: the INIT state, waiting for a startup IPI */
};

struct guest_start {
	enum guest_start_mode mode;
	uint64_t rip, rsp, cr3;
	struct gprs gpr;
};

enum event_type {
	EVENT_EXTERNAL = 0,
	EVENT_NMI = 2,
	EVENT_EXCEPTION = 3,
	EVENT_SOFTWARE_INT = 4,
};

struct event {
	enum event_type type;
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
};

struct vmm_ops {
	const char *name;   /* "svm" or "vmx" */
	bool (*supported)(const struct machine *m);
	/* Enables VT-x/AMD-V on the calling CPU (c is it). */
	int (*cpu_init)(struct machine *m, struct pcpu *c);
	int (*vcpu_create)(struct machine *m, struct vcpu *v, const struct guest_start *start);
	/* Enters the guest with v->state, returns when it exits, with v->state updated and the
	 * exit decoded. Returns 0, or -1 when the entry itself failed (reported already). */
	int (*vcpu_run)(struct vcpu *v, struct exit *e);
	void (*inject)(struct vcpu *v, const struct event *ev);
	/* Native intercept control the neutral handlers need. */
	void (*set_hlt_intercept)(struct vcpu *v, bool on);
	/* The manual's name of a native exit code (APM / SDM appendix C), NULL if it has
	 * none: the trace's `reason`. */
	const char *(*exit_name)(uint64_t native_code);
	/* Prints the backend's view of the guest (VMCB/VMCS state) on a failure. */
	void (*dump)(struct vcpu *v);
	/* Optional (NULL: the backend never reports EXIT_CR_ACCESS). Emulates the
	 * control-register access the exit describes (VMX: the CR0/CR4 bits it forces sit
	 * behind read shadows). 0: done, the core moves RIP past the instruction; -1: the
	 * guest gets #GP(0) instead. */
	int (*cr_access)(struct vcpu *v, const struct exit *e);
	/* INIT (SDM vol.3 9.1, table 9-1; APM vol.2 14.1.3): the vCPU takes the INIT state
	 * and waits for a startup IPI (sets v->wait_for_sipi). */
	void (*init_signal)(struct vcpu *v);
	/* A startup IPI for a vCPU waiting for one: real mode at CS = vector << 8, IP 0
	 * (SDM vol.3 9.4.4.2; APM vol.2 14.1.5). */
	void (*startup)(struct vcpu *v, uint8_t vector);
	/* The CPU itself waits for SIPI in guest mode and reports it as EXIT_SIPI (VMX's
	 * wait-for-SIPI activity state); false: nestbed holds the vCPU and emulates the
	 * guest's INIT and startup IPIs (SVM, which has no such state). */
	bool cpu_waits_for_sipi;
	/* Optional (with !cpu_waits_for_sipi): sleep until an NMI comes, taken in nestbed and
	 * noted in pcpu.wake_nmi_seen (exception_wake_site). Without it nestbed spins. */
	void (*idle)(struct vcpu *v);
	/* Optional: the guest wrote IA32_APIC_BASE (accepted by guest_msr.c). */
	void (*apic_base_changed)(struct vcpu *v);
	/* Optional: the backend's own L0 self-test (`nestbed.elf selftest`): exactly one
	 * result, selftest/vm-entry-refused, reported through `result`. */
	void (*selftest)(struct machine *m, void (*result)(bool ok, const char *why));
};

/* A backend registers its ops at link time; the core picks the first whose
 * `supported` accepts the CPU, so it never names a backend. */
#define VMM_BACKEND_REGISTER(ops)                                                    \
	static const struct vmm_ops *const ops##_registration                         \
		__attribute__((used, section("nestbed_backends"))) = &(ops)

const struct vmm_ops *vmm_select(const struct machine *m);

/* The flat segments a Multiboot kernel starts with (spec 0.6.96 3.2: CS a 32-bit
 * read/execute segment, the others read/write, offset 0, limit FFFFFFFFh): their
 * selectors in the guest's state. */
#define MULTIBOOT_CODE_SELECTOR 0x08
#define MULTIBOOT_DATA_SELECTOR 0x10

#endif
