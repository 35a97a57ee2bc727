/* The VMX basic exit reasons by the names of Intel SDM vol.3 appendix C as KVM's
 * vmx_exit_reasons spells them, for the trace (`nestbed-trace ... reason EPT_VIOLATION`).
 * Pure, host-tested. */
#ifndef NESTBED_VMX_EXIT_NAMES_H
#define NESTBED_VMX_EXIT_NAMES_H

#include <stdint.h>

/* The name of the basic reason (bits 15:0 of the exit reason): "CPUID", "IO_INSTRUCTION",
 * ...; NULL for a reason the SDM does not define. Bit 31 (VM-entry failure) is the
 * caller's to show. */
const char *vmx_exit_name(uint64_t exit_reason);

#endif
