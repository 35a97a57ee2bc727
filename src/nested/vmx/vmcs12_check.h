/* The checks VMLAUNCH/VMRESUME make on the VMCS12 L1 gave them, in the order and with the
 * outcome of the Intel SDM vol.3:
 *   26.2.1 VM-execution, VM-exit and VM-entry control fields  -> VMfailValid, error 7
 *   26.2.2-26.2.4 host-state area                            -> VMfailValid, error 8
 *   26.3.1 guest-state area (and 26.3.1.6 PDPTEs)             -> VM-entry failure, exit
 *          reason 33 with the exit qualification of 26.8 (0, 2 PDPTEs, 3 NMI under STI
 *          blocking, 4 VMCS link pointer)
 * A failure names the rule it breaks, with its section, so nestbed can tell L1's author.
 * Pure: the VMCS12 is read through callbacks, so it also compiles for host tests.
 *
 * Not checked, because what they depend on is not in nvmx_caps: tertiary controls; the
 * reserved bits of IA32_PERF_GLOBAL_CTRL (the PMU's counter count) and IA32_RTIT_CTL
 * (Intel PT). Enclave interruption and pending-debug RTM need SGX and RTM in L1's CPUID
 * (nvmx_caps.sgx, .rtm). L1 never
 * runs in SMM under nestbed, so "entry to SMM", "deactivate dual-monitor treatment" and
 * blocking by SMI always fail. An NMI injected under blocking by STI fails with
 * qualification 3 (the SDM lets a processor do so; nestbed always does). */
#ifndef NESTBED_NVMX_VMCS12_CHECK_H
#define NESTBED_NVMX_VMCS12_CHECK_H

#include <stdbool.h>
#include <stdint.h>

struct vmcs12_view {
	uint64_t (*read)(const void *ctx, uint32_t encoding);           /* a VMCS12 field by SDM encoding (appendix B) */
	int (*read_phys)(const void *ctx, uint64_t pa, uint64_t *value); /* 8 bytes of L1-physical memory: 0 or -1 */
	const void *ctx;
};

struct nvmx_caps { /* the capability MSRs as nestbed offers them to L1 (appendix A) */
	uint64_t basic, pinbased, procbased, procbased2, exit, entry; /* the TRUE_* values where A.3-A.5 define them (allowed-0 settings in bits 31:0, allowed-1 in 63:32) */
	uint64_t misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, ept_vpid_cap, vmfunc;
	unsigned maxphyaddr;
	/* CPUID.(EAX=07H,ECX=0) as L1 sees it: EBX SGX (bit 2) allows interruptibility bit 4
	 * (enclave interruption), EBX RTM (bit 11) pending-debug bit 16 (26.3.1.5), ECX
	 * bus-lock detection (bit 24) IA32_DEBUGCTL bit 2 (26.3.1.1) */
	bool sgx, rtm, bus_lock_detect;
};

struct vmcs12_check_result {
	uint32_t insn_error;    /* VMfailValid number: 7 (26.2.1 controls) or 8 (26.2.2-26.2.4 host state); 0 otherwise */
	uint32_t exit_reason;   /* 33 (VM-entry failure due to invalid guest state, 26.3) when a guest-state check fails; 0 otherwise */
	uint64_t qualification; /* for exit 33: 0 (default), 2 (PDPTE loading), 3 (NMI injection under STI blocking), 4 (VMCS link pointer), 26.8 */
	const char *rule;       /* the rule that failed, with its section, e.g. "26.2.1.1: pin-based VM-execution controls: a bit not allowed to be 1 is set" */
};

/* Each returns 0 when the VMCS12 passes that group of checks, else -1 with *r filled
 * (r is cleared on success). Call them in this order, as the processor does: a guest-state
 * failure counts only once the controls and the host state have passed. */
int vmcs12_check_controls(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r);   /* 26.2.1 */
int vmcs12_check_host_state(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r); /* 26.2.2-26.2.4 */
int vmcs12_check_guest_state(const struct vmcs12_view *v, const struct nvmx_caps *c, struct vmcs12_check_result *r); /* 26.3.1 */

/* The first two rules of 26.2.4 depend on L1's own mode, which the VMCS12 does not hold:
 * outside IA-32e mode "IA-32e mode guest" and "host address-space size" must be 0; in
 * IA-32e mode "host address-space size" must be 1 (VMfailValid 8). */
int vmcs12_check_l1_mode(const struct vmcs12_view *v, bool l1_in_ia32e_mode, struct vmcs12_check_result *r);

/* The one 26.3.1.5 rule that needs the current-VMCS pointer, which the VMCS12 does not
 * hold: the VMCS link pointer must not be it (exit reason 33, qualification 4). Call it
 * after vmcs12_check_guest_state. */
int vmcs12_check_link_pointer_not_current(const struct vmcs12_view *v, uint64_t current_vmcs_pa,
					  struct vmcs12_check_result *r);

/* All of the above but the current-VMCS rule, in SDM order: controls, host state, L1 mode
 * (26.2.4), guest state. */
int vmcs12_check_entry(const struct vmcs12_view *v, const struct nvmx_caps *c, bool l1_in_ia32e_mode,
		       struct vmcs12_check_result *r);

#endif
