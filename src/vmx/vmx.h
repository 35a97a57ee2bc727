/* The VT-x backend's internals (SDM vol.3 chapters 23-30). */
#ifndef NESTBED_VMX_H
#define NESTBED_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/machine.h"
#include "core/pcpu.h"
#include "core/vcpu.h"
#include "core/vmm.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_ept.h"
#include "vmx/vmx_insn.h"

/* MSRs the backend reads for the host state, SDM vol.4 table 2-2. */
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_PAT 0x277u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u

#define VMX_PRIMARY_VPID 1         /* 0 is the host's (24.6.12: VPID 0 is not allowed) */
#define VMX_PAT_POWER_ON 0x0007040600070406ull /* SDM vol.3 11.12.4 */

/* Per physical CPU (struct pcpu's backend): VMX operation. */
struct vmx_cpu {
	bool on;
	uint64_t vmxon_pa;
	uint32_t revision;
};

/* Per vCPU: its VMCS and everything the VMCS points at. */
struct vmx_vcpu {
	uint64_t vmcs_pa;
	struct ept ept;              /* nestbed's EPT for this vCPU's guest (L1) */
	uint64_t apic_page;          /* the page its EPT maps read-only (0: none) */
	uint64_t msr_bitmap_pa, io_bitmap_a_pa, io_bitmap_b_pa;
	uint64_t eptp;
	/* The controls as adjusted and written (the entry controls without IA-32e mode
	 * guest, which follows the guest's EFER.LMA at each entry). */
	uint32_t pin, proc, proc2, exit_ctls, entry_ctls;
	uint32_t entry_ctls_written;
	struct vmx_cr_fixed fixed;
	uint64_t cr0_mask, cr4_mask; /* the guest/host masks: the forced bits */
	uint16_t vpid;               /* 0: VPID off */
	bool launched;
	bool load_pat;
	bool invvpid_single, invvpid_all;
	uint8_t last_insn_len;       /* of the last instruction exit: INT n re-injection */
	bool vmcs_dumped;            /* the failure report printed the VMCS already */
	bool smi_blocking_dropped;   /* see drop_smi_blocking (vmx_backend.c) */
	/* the guest's hypervisor single-steps it (its monitor trap flag, nested): an
	 * instruction nestbed completes in its place still gets its MTF VM exit */
	bool mtf_after_skip;
	/* External interrupts polled for while the guest runs with RFLAGS.IF = 0 (set for
	 * VMCS02 by the nested layer): a CPU that departs from SDM vol.3C 25.2 (Bochs 2.7)
	 * enters such a guest with interrupts blocked despite external-interrupt exiting,
	 * and an L2 spinning with IF = 0 would keep the CPU from its L1 for ever. The
	 * VMX-preemption timer (not L1's: only when L1 does not use it) makes it exit
	 * every intr_poll_ticks; an interrupt found then becomes the external-interrupt
	 * exit the CPU owed (vmx_backend.c take_polled_interrupt). */
	bool intr_poll;
	bool intr_poll_armed;        /* the timer is on in the pin-based controls */
	uint32_t intr_poll_ticks;
	bool polled_exit;            /* the last exit is such an interrupt ... */
	uint32_t polled_intr_info;   /* ... with this exit interruption information */
	bool intr_poll_reported;
};


/* vmx_run.asm */
int vmx_enter(struct gprs *gprs, uint64_t launched);
void vmx_exit_stub(void);

/* VMREAD/VMWRITE of the current VMCS; a failure is printed (field and error) and
 * counted in this CPU's struct pcpu (vmcs_access_errors), never silent. */
uint64_t vmcs_read(uint32_t field);
void vmcs_write(uint32_t field, uint64_t value);

/* One line for a failed VMX instruction: VMfailInvalid, or VMfailValid with the
 * VM-instruction error number and its name (30.4). Returns the error number (0 for
 * VMfailInvalid). */
uint32_t vmx_report_failure(const char *what, enum vmx_result r);
/* The key fields of the current VMCS: exit information (after_exit: the fields describe
 * an exit, not a failed VMLAUNCH/VMRESUME), controls, guest and host state. */
void vmx_dump_vmcs(bool after_exit);

/* `count` zeroed frames for a VMX region or a structure the VMCS points at: below 4 GiB
 * when IA32_VMX_BASIC[48] limits their addresses to 32 bits (A.1). A page is enough for
 * the VMXON region and a VMCS (A.1: at most 4 KiB). 0 with a reason printed. */
uint64_t vmx_alloc_frames(const struct machine *m, uint64_t count, const char *what);

/* Enters VMX operation on this CPU (idempotent): CPUID, IA32_FEATURE_CONTROL, CR0/CR4
 * fixed bits, CR4.VMXE, VMXON. 0 or -1 with a one-line reason printed. */
int vmx_cpu_init(struct machine *m, struct pcpu *c);

/* The INIT state's real mode in the current VMCS (see vmx_vmcs.c). */
void vmx_write_real_mode_state(struct vmx_vcpu *vv, struct vcpu_state *st, uint16_t cs,
			       uint64_t cs_base, uint64_t rip, uint32_t activity);

/* Allocates and fills a VMCS for a guest starting at `start`, makes it current, and
 * fills st with the guest's initial view. 0 or -1 with a reason printed. */
int vmx_vmcs_create(struct machine *m, struct vmx_vcpu *vv, const struct guest_start *start,
		    struct vcpu_state *st);

/* Writes vv's pin-based, processor-based (primary and secondary), VM-exit and VM-entry
 * controls into the current VMCS. */
void vmx_write_vm_controls(struct vmx_vcpu *vv);

/* Enters the guest with the current VMCS (VMLAUNCH or VMRESUME). VMX_OK after a VM exit;
 * otherwise the failure is reported: the instruction error and the VMCS dump. */
enum vmx_result vmx_enter_guest(struct vmx_vcpu *vv, struct gprs *gprs);

void vmx_selftest(struct machine *m, void (*result)(bool ok, const char *why));

#endif
