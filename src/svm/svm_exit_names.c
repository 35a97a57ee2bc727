/* SVM intercept exit codes, AMD APM vol.2 appendix C table C-1, named as the APM names
 * them without the VMEXIT_ prefix. (KVM's svm_exit_reasons spells most in lower case,
 * "io" for IOIO, "hypercall" for VMMCALL, "PF_excp" for EXCP14: README.md maps them.) */
#include "svm/svm_exit_names.h"
#include "core/array_size.h"

#include <stddef.h>

#define SIXTEEN(p, s)                                                                     \
	p "0" s, p "1" s, p "2" s, p "3" s, p "4" s, p "5" s, p "6" s, p "7" s, p "8" s,  \
	p "9" s, p "10" s, p "11" s, p "12" s, p "13" s, p "14" s, p "15" s

/* 0x00..0xa6, consecutive in the APM */
static const char *const low_codes[] = {
	SIXTEEN("CR", "_READ"),   /* 0x00 */
	SIXTEEN("CR", "_WRITE"),  /* 0x10 */
	SIXTEEN("DR", "_READ"),   /* 0x20 */
	SIXTEEN("DR", "_WRITE"),  /* 0x30 */
	SIXTEEN("EXCP", ""),      /* 0x40: exception vector 0..15 */
	"EXCP16", "EXCP17", "EXCP18", "EXCP19", "EXCP20", "EXCP21", "EXCP22", "EXCP23",
	"EXCP24", "EXCP25", "EXCP26", "EXCP27", "EXCP28", "EXCP29", "EXCP30", "EXCP31",
	"INTR",                   /* 0x60 */
	"NMI", "SMI", "INIT", "VINTR", "CR0_SEL_WRITE", "IDTR_READ", "GDTR_READ",
	"LDTR_READ", "TR_READ", "IDTR_WRITE", "GDTR_WRITE", "LDTR_WRITE", "TR_WRITE",
	"RDTSC", "RDPMC",
	"PUSHF",                  /* 0x70 */
	"POPF", "CPUID", "RSM", "IRET", "SWINT", "INVD", "PAUSE", "HLT", "INVLPG",
	"INVLPGA", "IOIO", "MSR", "TASK_SWITCH", "FERR_FREEZE", "SHUTDOWN",
	"VMRUN",                  /* 0x80 */
	"VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "RDTSCP", "ICEBP",
	"WBINVD", "MONITOR", "MWAIT", "MWAIT_CONDITIONAL", "XSETBV", "RDPRU",
	"EFER_WRITE_TRAP",
	SIXTEEN("CR", "_WRITE_TRAP"), /* 0x90 */
	"INVLPGB",                /* 0xa0 */
	"INVLPGB_ILLEGAL", "INVPCID", "MCOMMIT", "TLBSYNC", "BUSLOCK", "IDLE_HLT",
};

/* 0x400.. */
static const char *const high_codes[] = {
	"NPF", "AVIC_INCOMPLETE_IPI", "AVIC_NOACCEL", "VMGEXIT",
};

/* -1, -2, -3, -4 (low 32 bits) */
static const char *const negative_codes[] = {
	"INVALID", "BUSY", "IDLE_REQUIRED", "INVALID_PMC",
};

_Static_assert(ARRAY_SIZE(low_codes) == 0xa7, "APM table C-1: 0x00..0xa6");

#define SVM_NAMES_HIGH_BASE 0x400u /* APM vol.2 appendix C: VMEXIT_NPF, the first above 0xff */

const char *svm_exit_name(uint64_t exitcode)
{
	uint32_t code = (uint32_t)exitcode;
	if (code < ARRAY_SIZE(low_codes))
		return low_codes[code];
	if (code >= SVM_NAMES_HIGH_BASE && code - SVM_NAMES_HIGH_BASE < ARRAY_SIZE(high_codes))
		return high_codes[code - SVM_NAMES_HIGH_BASE];
	uint32_t minus = ~code; /* -1 -> 0 */
	if (minus < ARRAY_SIZE(negative_codes))
		return negative_codes[minus];
	return NULL;
}
