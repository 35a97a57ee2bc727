/* The MSRs that place or lock SMM, kept from the guest (policy in smm_msr.c). */
#ifndef NESTBED_SMM_MSR_H
#define NESTBED_SMM_MSR_H

#include <stdint.h>

#include "core/x86.h"

#define MSR_IA32_SMBASE 0x9eu          /* SDM vol.3C 34.15.6.4: readable in SMM only */
#define MSR_AMD_HWCR 0xC0010015u       /* APM vol.2 appendix A, HWCR */
#define HWCR_SMMLOCK (1ull << 0)       /* APM vol.2 10.7 */
#define MSR_AMD_SMM_BASE 0xC0010111u   /* APM vol.2 10.2.5 */
#define MSR_AMD_SMM_ADDR 0xC0010112u   /* APM vol.2 10.2.5, 10.4 (ASeg/TSeg) */
#define MSR_AMD_SMM_MASK 0xC0010113u
#define MSR_AMD_SMM_CTL 0xC0010116u    /* APM vol.2 10.2.3 */

/* 1: not an SMM MSR; 0: handled (*value set / write done); -1: #GP(0) for the guest. */
int smm_msr_read(uint32_t msr, uint64_t *value);
int smm_msr_write(uint32_t msr, uint64_t value);

/* The AMD MSRs the SVM backend intercepts (both directions), and their count. */
extern const uint32_t smm_msrs_amd[];
extern const unsigned smm_msrs_amd_count;
/* The Intel MSRs the VMX backend intercepts. */
extern const uint32_t smm_msrs_intel[];
extern const unsigned smm_msrs_intel_count;

#endif
