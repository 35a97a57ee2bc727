/* The contract between the mini-hypervisor's neutral part (mhv.c) and its two vendor
 * halves (mhv_svm.c, mhv_vmx.c). Not for probes. */
#ifndef GUEST_MHV_BACKEND_H
#define GUEST_MHV_BACKEND_H

#include "lib/mhv.h"
#include "lib/tdp.h"

struct mhv_backend {
	enum mhv_vendor vendor;
	/* Once per boot: turn the virtualization extensions on (on the boot CPU). */
	enum probe_status (*enable)(struct probe_run *run);
	/* On another CPU, after enable(): the same with that CPU's own 4 KiB region
	 * (VMXON region, host-save area). */
	enum probe_status (*enable_cpu)(struct probe_run *run, uint8_t *region);
	/* Leaves them on the calling CPU (VMCLEAR, VMXOFF, CR4.VMXE; EFER.SVME). */
	void (*disable_cpu)(struct mhv_vm *vm);
	/* On the boot CPU: makes its current VMCS (if any) loadable by another CPU. */
	void (*release)(void);
	bool (*has)(enum mhv_feature feature);
	/* A fresh VM in vm (vendor, mode, options set) using the shared state below. */
	enum probe_status (*vm_init)(struct probe_run *run, struct mhv_vm *vm);
	void (*run)(struct mhv_vm *vm, struct mhv_exit *exit);
	uint64_t (*get)(struct mhv_vm *vm, enum mhv_reg reg);
	void (*set)(struct mhv_vm *vm, enum mhv_reg reg, uint64_t value);
	/* 0, or a reason the vendor cannot do it. */
	const char *(*intercept)(struct mhv_vm *vm, enum mhv_intercept what, bool on);
	void (*intercept_exception)(struct mhv_vm *vm, unsigned vector, bool on);
	void (*intercept_io)(struct mhv_vm *vm, uint16_t port, bool on);
	bool (*intercept_msr)(struct mhv_vm *vm, uint32_t msr, bool read, bool write);
	void (*inject)(struct mhv_vm *vm, enum mhv_event_type type, uint8_t vector,
		       bool has_error, uint32_t error_code, unsigned insn_len);
	/* L2 continues at this linear address (real mode: CS base + IP). */
	void (*enter_at)(struct mhv_vm *vm, uint64_t linear);
	void (*tsc_offset)(struct mhv_vm *vm, uint64_t offset);
	/* Optional (NULL: the vendor has none): 0, or why the CPU cannot. */
	const char *(*preemption_timer)(struct mhv_vm *vm, bool on, uint32_t value, bool save,
					unsigned *rate_shift);
	uint32_t (*preemption_timer_value)(struct mhv_vm *vm);
};

extern const struct mhv_backend mhv_svm_backend;
extern const struct mhv_backend mhv_vmx_backend;

/* Shared by both halves: L2's stack, IDT and nested page tables. */
#define MHV_L2_STACK_SIZE 16384
extern uint8_t mhv_l2_stack[MHV_L2_STACK_SIZE];
extern struct mhv_idt_gate { uint64_t low, high; } mhv_l2_idt[256];
extern struct tdp mhv_tdp;
/* mhv_switch.asm: which hypercall L2's stubs use (VMMCALL when true). */
extern bool mhv_l2_svm;

/* mhv_switch.asm */
int mhv_vmx_enter(struct mhv_gprs *gprs, int resume); /* 0 exit, 1/2 VMfail */
void mhv_svm_enter(struct mhv_gprs *gprs, uint64_t vmcb_pa);
extern const uint64_t mhv_l2_stub_table[256];
void mhv_l2_return(void);

/* Fills the neutral kind-dependent fields from the native ones (mhv_decode.c). */
void mhv_decode_svm(struct mhv_exit *e);
void mhv_decode_vmx(struct mhv_exit *e);
/* Native codes for a neutral kind (for expectations); -1 when the kind has none. */
int64_t mhv_svm_exitcode_of(enum mhv_exit_kind kind);
int64_t mhv_vmx_reason_of(enum mhv_exit_kind kind);

#endif
