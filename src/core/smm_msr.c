/* SMM MSRs. The guest never runs in SMM, and the SMM that runs is the firmware's: what
 * the guest sees of the MSRs that place SMRAM and the SMM state save is what a CPU whose
 * firmware locked SMM gives outside SMM.
 *
 * AMD-V (APM vol.2 10.2, 10.7, appendix A): with HWCR.SMMLOCK = 1 the SMM registers are
 * read-only. So: SMM_BASE (where the state save lands: SMBASE + FE00h), SMM_ADDR and
 * SMM_MASK (ASeg/TSeg) and SMM_CTL read as the CPU has them (a #GP from the CPU stays a
 * #GP) and any WRMSR to them raises #GP(0); HWCR reads with SMMLOCK = 1, and a write to
 * HWCR reaches the CPU with SMMLOCK left as the CPU has it (SMMLOCK cannot be cleared
 * once set: the guest's bit 0 is ignored), its other bits as the guest wrote them, as
 * before nestbed intercepted it. Left open, SMM_BASE alone let a guest on qemu-svm move
 * the state save onto nestbed's top-level page table (issue 11).
 *
 * VT-x (SDM vol.3C 34.15.5, 34.15.6.4): IA32_SMBASE is read-only and readable in SMM
 * only: WRMSR #GP(0) always, RDMSR #GP(0) outside SMM, where the guest always is.
 * IA32_SMM_MONITOR_CTL (the dual-monitor treatment's MSEG) "generates #GP(0) if
 * executed outside of SMM" for WRMSR, and reads are allowed: RDMSR returns the CPU's
 * value (or its #GP where there is no dual-monitor treatment). Both are intercepted so
 * that an emulator that lets them through (Bochs 2.7 reads IA32_SMBASE as 0 and takes
 * writes to both outside SMM: isolation/smbase-msr) cannot hand the guest the CPU's SMM
 * state either. */
#include "core/smm_msr.h"

#include "core/msr_safe.h"

const uint32_t smm_msrs_amd[] = { MSR_AMD_HWCR, MSR_AMD_SMM_BASE, MSR_AMD_SMM_ADDR,
				  MSR_AMD_SMM_MASK, MSR_AMD_SMM_CTL };
const unsigned smm_msrs_amd_count = sizeof(smm_msrs_amd) / sizeof(smm_msrs_amd[0]);
const uint32_t smm_msrs_intel[] = { MSR_IA32_SMM_MONITOR_CTL, MSR_IA32_SMBASE };
const unsigned smm_msrs_intel_count = sizeof(smm_msrs_intel) / sizeof(smm_msrs_intel[0]);

int smm_msr_read(uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_IA32_SMBASE:
		return -1;
	case MSR_IA32_SMM_MONITOR_CTL:
	case MSR_AMD_SMM_BASE:
	case MSR_AMD_SMM_ADDR:
	case MSR_AMD_SMM_MASK:
	case MSR_AMD_SMM_CTL:
		return rdmsr_safe(msr, value) ? -1 : 0;
	case MSR_AMD_HWCR:
		if (rdmsr_safe(msr, value))
			*value = 0; /* the emulator has no HWCR: the guest still sees the lock */
		*value |= HWCR_SMMLOCK;
		return 0;
	default:
		return 1;
	}
}

int smm_msr_write(uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_IA32_SMBASE:
	case MSR_IA32_SMM_MONITOR_CTL:
	case MSR_AMD_SMM_BASE:
	case MSR_AMD_SMM_ADDR:
	case MSR_AMD_SMM_MASK:
	case MSR_AMD_SMM_CTL:
		return -1;
	case MSR_AMD_HWCR: {
		uint64_t cpu;
		if (rdmsr_safe(msr, &cpu))
			return -1;
		return wrmsr_safe(msr, (value & ~HWCR_SMMLOCK) | (cpu & HWCR_SMMLOCK)) ? -1 : 0;
	}
	default:
		return 1;
	}
}
