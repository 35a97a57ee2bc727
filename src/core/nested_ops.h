/* The nested layer's vendor interface (after Xen's nhvm_* hooks): a short list the
 * vendor-neutral core calls; each vendor half (src/nested/svm, src/nested/vmx)
 * registers one table, so the core never includes the nested layer. */
#ifndef NESTBED_NESTED_OPS_H
#define NESTBED_NESTED_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpuid_policy.h"
#include "core/exit.h"
#include "core/vcpu.h"

struct machine;

/* What the nested layer made of an INIT (nested_ops.init_signal). */
enum nested_init {
	NESTED_INIT_TAKE,   /* the vCPU resets now; the nested state is back at L1's */
	NESTED_INIT_HELD,   /* it stays pending (SVM: L1's GIF is 0, or it went to L1 as
			       #VMEXIT 63h and L1 runs with GIF 0 until its STGI) */
	NESTED_INIT_EXITED, /* it was L2's: VMX exit 3 to L1, which consumes it (25.2) */
};

struct nested_ops {
	const char *name;         /* "nested-svm", "nested-vmx" */
	const char *backend;      /* the vmm_ops it rides on: "svm" or "vmx" */
	int (*vcpu_init)(struct machine *m, struct vcpu *v);
	/* What L1 sees of CPUID about the virtualization nestbed offers it. */
	void (*cpuid_policy)(const struct machine *m, struct cpuid_policy *p);
	/* L1 executed a virtualization instruction (VMRUN, VMLOAD, ..., VMLAUNCH, ...). */
	void (*emulate_vm_insn)(struct vcpu *v, struct exit *e);
	/* L2 executed one that L1 does not intercept and nestbed does (optional; without it
	 * L2 gets #UD). */
	void (*l2_vm_insn)(struct vcpu *v, struct exit *e);
	/* An exit while L2 ran: when L1 intercepts it, emulate the exit into L1 and return
	 * true; otherwise L0 handles it for L2. */
	bool (*reflect_if_wanted)(struct vcpu *v, struct exit *e);
	/* A nested page fault (either level): a write to an L1 page nestbed tracks, or,
	 * while L2 ran, one that L1's tables explain (fill the shadow table, or reflect);
	 * false when it is nestbed's own business. */
	bool (*tdp_fault)(struct vcpu *v, struct exit *e);
	/* A nested page fault while L2 ran on a page L1 virtualizes as its APIC-access page
	 * (VMX, SDM vol.3C 30.4): reflect the APIC-access exit L1 asked for and return true,
	 * before nestbed would act on the access itself (its xAPIC page). May be NULL. */
	bool (*apic_access)(struct vcpu *v, struct exit *e);
	/* MSRs that describe or control the virtual VT-x/AMD-V: 0 if handled (value set or
	 * written), 1 if not the nested layer's MSR, -1 for #GP. */
	int (*msr_read)(struct vcpu *v, uint32_t msr, uint64_t *value);
	int (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t value);
	/* Where an L2 guest-physical address lives for nestbed (through L1's nested page
	 * tables when it uses them): 0 and the address and the end of its page, or -1. */
	int (*l2_gpa_to_hpa)(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end);
	/* Optional: an NMI the vCPU sent itself, which nestbed delivers (VMX: in VMX root
	 * operation the physical one would be nestbed's): while L2 runs, an NMI exit to L1
	 * when L1 exits on NMIs, else injected into L2. */
	void (*self_nmi)(struct vcpu *v);
	/* Optional: an INTR or NMI exit while L1 ran (not L2): true when the nested layer
	 * took it (SVM: held while L1's GIF is 0, APM vol.2 15.17); false: the core delivers
	 * it as for any guest. */
	bool (*l1_interrupt)(struct vcpu *v, const struct exit *e);
	/* Optional: an INIT posted for this vCPU is due (apic_emulation.c). */
	enum nested_init (*init_signal)(struct vcpu *v);
	/* Optional: called before every entry into the guest (either level): state other
	 * CPUs asked this vCPU to pick up (stale permission maps, a TLB flush). */
	void (*before_entry)(struct vcpu *v);
	/* EFER bits the virtual CPU accepts besides the core's (EFER.SVME). */
	uint64_t efer_extra_bits;
};

#define NESTED_REGISTER(ops)                                                         \
	static const struct nested_ops *const ops##_registration                      \
		__attribute__((used, section("nestbed_nested"))) = &(ops)

/* The nested layer for a backend, or NULL (run.c). */
const struct nested_ops *nested_select(const char *backend);

#endif
