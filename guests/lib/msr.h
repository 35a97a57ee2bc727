/* Model-specific registers the runtime and probes read. */
#ifndef GUEST_MSR_H
#define GUEST_MSR_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_FEATURE_CONTROL 0x0000003au /* SDM vol.3C 24.7, vol.4 Table 2-2 */
#define FEATURE_CONTROL_LOCK                (1ull << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX      (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX     (1ull << 2)

#define MSR_IA32_VMX_BASIC       0x00000480u /* SDM vol.3D A.1 */
#define VMX_BASIC_REVISION_MASK  0x7fffffffull  /* bits 30:0 */
#define VMX_BASIC_BIT31          (1ull << 31)   /* always 0 */
#define VMX_BASIC_VMCS_SIZE_SHIFT 32            /* bits 44:32, bytes, at most 4096 */
#define VMX_BASIC_VMCS_SIZE_MASK 0x1fffull
#define VMX_BASIC_ADDR_32BIT     (1ull << 48)
#define VMX_BASIC_MEMTYPE_SHIFT  50             /* bits 53:50 */
#define VMX_BASIC_MEMTYPE_MASK   0xfull
#define VMX_BASIC_INS_OUTS_INFO  (1ull << 54)
#define VMX_BASIC_TRUE_CONTROLS  (1ull << 55)

#define MSR_EFER                 0xc0000080u /* APM vol.2 3.1.7 */
#define EFER_SVME                (1ull << 12)

/* RDMSR that survives a #GP (an MSR the platform does not implement): returns false
 * and leaves *value untouched in that case. */
bool rdmsr_safe(uint32_t msr, uint64_t *value);

#endif
