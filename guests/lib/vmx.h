/* Intel VT-x as the mini-hypervisor's VMX half and the probes see it: VMCS field
 * encodings, controls, exit reasons and the VMX instructions with their outcome.
 * Intel SDM vol.3C chapters 24-28 and vol.3D appendices A-C. */
#ifndef GUEST_VMX_H
#define GUEST_VMX_H

#include <stdbool.h>
#include <stdint.h>

/* Capability MSRs, SDM vol.3D appendix A. */
#define MSR_IA32_VMX_PINBASED_CTLS      0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS     0x482u
#define MSR_IA32_VMX_EXIT_CTLS          0x483u
#define MSR_IA32_VMX_ENTRY_CTLS         0x484u
#define MSR_IA32_VMX_MISC               0x485u
#define MSR_IA32_VMX_CR0_FIXED0         0x486u
#define MSR_IA32_VMX_CR0_FIXED1         0x487u
#define MSR_IA32_VMX_CR4_FIXED0         0x488u
#define MSR_IA32_VMX_CR4_FIXED1         0x489u
#define MSR_IA32_VMX_VMCS_ENUM          0x48au
#define MSR_IA32_VMX_PROCBASED_CTLS2    0x48bu
#define MSR_IA32_VMX_EPT_VPID_CAP       0x48cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS     0x48fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS    0x490u

#define VMX_MISC_VMWRITE_ANY            (1ull << 29) /* VMWRITE to exit-information fields */
#define EPT_CAP_WALK4                   (1ull << 6)
#define EPT_CAP_WB                      (1ull << 14)
#define EPT_CAP_2M                      (1ull << 16)
#define EPT_CAP_INVEPT                  (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE           (1ull << 25)
#define EPT_CAP_INVEPT_ALL              (1ull << 26)

#define CR4_VMXE (1ull << 13)

/* Pin-based controls, SDM vol.3C 25.6.1. */
#define PIN_EXTINT_EXITING   (1u << 0)
#define PIN_NMI_EXITING      (1u << 3)
#define PIN_VIRTUAL_NMIS     (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
/* Primary processor-based controls, 25.6.2 Table 25-6. */
#define PROC_INTR_WINDOW     (1u << 2)
#define PROC_TSC_OFFSETTING  (1u << 3)
#define PROC_HLT_EXITING     (1u << 7)
#define PROC_INVLPG_EXITING  (1u << 9)
#define PROC_MWAIT_EXITING   (1u << 10)
#define PROC_RDPMC_EXITING   (1u << 11)
#define PROC_RDTSC_EXITING   (1u << 12)
#define PROC_CR3_LOAD_EXITING  (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_CR8_LOAD_EXITING  (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_TPR_SHADOW      (1u << 21)
#define PROC_NMI_WINDOW      (1u << 22)
#define PROC_MOV_DR_EXITING  (1u << 23)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_IO_BITMAPS  (1u << 25)
#define PROC_MTF             (1u << 27)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_PAUSE_EXITING   (1u << 30)
#define PROC_SECONDARY       (1u << 31)
/* Secondary processor-based controls, Table 25-7. */
#define PROC2_EPT            (1u << 1)
#define PROC2_DESC_EXITING   (1u << 2)
#define PROC2_RDTSCP         (1u << 3)
#define PROC2_VPID           (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED   (1u << 7)
#define PROC2_INVPCID        (1u << 12)
#define PROC2_XSAVES         (1u << 20)
/* VM-exit controls, 25.7.1. */
#define EXIT_SAVE_DEBUG      (1u << 2)
#define EXIT_HOST_LONG_MODE  (1u << 9)
#define EXIT_ACK_INTR        (1u << 15)
#define EXIT_SAVE_PAT        (1u << 18)
#define EXIT_LOAD_PAT        (1u << 19)
#define EXIT_SAVE_EFER       (1u << 20)
#define EXIT_LOAD_EFER       (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
/* VM-entry controls, 25.8.1. */
#define ENTRY_LOAD_DEBUG     (1u << 2)
#define ENTRY_IA32E_GUEST    (1u << 9)
#define ENTRY_LOAD_PAT       (1u << 14)
#define ENTRY_LOAD_EFER      (1u << 15)

/* VMCS field encodings, SDM vol.3D appendix B. */
enum vmcs_field {
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SEL = 0x0800, VMCS_GUEST_CS_SEL = 0x0802, VMCS_GUEST_SS_SEL = 0x0804,
	VMCS_GUEST_DS_SEL = 0x0806, VMCS_GUEST_FS_SEL = 0x0808, VMCS_GUEST_GS_SEL = 0x080a,
	VMCS_GUEST_LDTR_SEL = 0x080c, VMCS_GUEST_TR_SEL = 0x080e,
	VMCS_HOST_ES_SEL = 0x0c00, VMCS_HOST_CS_SEL = 0x0c02, VMCS_HOST_SS_SEL = 0x0c04,
	VMCS_HOST_DS_SEL = 0x0c06, VMCS_HOST_FS_SEL = 0x0c08, VMCS_HOST_GS_SEL = 0x0c0a,
	VMCS_HOST_TR_SEL = 0x0c0c,
	VMCS_IO_BITMAP_A = 0x2000, VMCS_IO_BITMAP_B = 0x2002, VMCS_MSR_BITMAP = 0x2004,
	VMCS_EXIT_MSR_STORE_ADDR = 0x2006, VMCS_EXIT_MSR_LOAD_ADDR = 0x2008,
	VMCS_ENTRY_MSR_LOAD_ADDR = 0x200a, VMCS_TSC_OFFSET = 0x2010,
	VMCS_VIRTUAL_APIC_ADDR = 0x2012, VMCS_EPTP = 0x201a,
	VMCS_GUEST_PHYSICAL_ADDR = 0x2400,
	VMCS_LINK_POINTER = 0x2800, VMCS_GUEST_DEBUGCTL = 0x2802, VMCS_GUEST_PAT = 0x2804,
	VMCS_GUEST_EFER = 0x2806,
	VMCS_HOST_PAT = 0x2c00, VMCS_HOST_EFER = 0x2c02,
	VMCS_PIN_CONTROLS = 0x4000, VMCS_PROC_CONTROLS = 0x4002, VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_PF_ERROR_MASK = 0x4006, VMCS_PF_ERROR_MATCH = 0x4008, VMCS_CR3_TARGET_COUNT = 0x400a,
	VMCS_EXIT_CONTROLS = 0x400c, VMCS_EXIT_MSR_STORE_COUNT = 0x400e,
	VMCS_EXIT_MSR_LOAD_COUNT = 0x4010, VMCS_ENTRY_CONTROLS = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014, VMCS_ENTRY_INTR_INFO = 0x4016,
	VMCS_ENTRY_EXCEPTION_ERROR = 0x4018, VMCS_ENTRY_INSN_LEN = 0x401a,
	VMCS_TPR_THRESHOLD = 0x401c, VMCS_PROC2_CONTROLS = 0x401e,
	VMCS_VM_INSN_ERROR = 0x4400, VMCS_EXIT_REASON = 0x4402, VMCS_EXIT_INTR_INFO = 0x4404,
	VMCS_EXIT_INTR_ERROR = 0x4406, VMCS_IDT_VECTORING_INFO = 0x4408,
	VMCS_IDT_VECTORING_ERROR = 0x440a, VMCS_EXIT_INSN_LEN = 0x440c,
	VMCS_EXIT_INSN_INFO = 0x440e,
	VMCS_GUEST_ES_LIMIT = 0x4800, VMCS_GUEST_CS_LIMIT = 0x4802, VMCS_GUEST_SS_LIMIT = 0x4804,
	VMCS_GUEST_DS_LIMIT = 0x4806, VMCS_GUEST_FS_LIMIT = 0x4808, VMCS_GUEST_GS_LIMIT = 0x480a,
	VMCS_GUEST_LDTR_LIMIT = 0x480c, VMCS_GUEST_TR_LIMIT = 0x480e,
	VMCS_GUEST_GDTR_LIMIT = 0x4810, VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814, VMCS_GUEST_CS_AR = 0x4816, VMCS_GUEST_SS_AR = 0x4818,
	VMCS_GUEST_DS_AR = 0x481a, VMCS_GUEST_FS_AR = 0x481c, VMCS_GUEST_GS_AR = 0x481e,
	VMCS_GUEST_LDTR_AR = 0x4820, VMCS_GUEST_TR_AR = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824, VMCS_GUEST_ACTIVITY = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482a, VMCS_PREEMPTION_TIMER = 0x482e,
	VMCS_HOST_SYSENTER_CS = 0x4c00,
	VMCS_CR0_MASK = 0x6000, VMCS_CR4_MASK = 0x6002, VMCS_CR0_SHADOW = 0x6004,
	VMCS_CR4_SHADOW = 0x6006,
	VMCS_EXIT_QUALIFICATION = 0x6400, VMCS_IO_RCX = 0x6402, VMCS_IO_RSI = 0x6404,
	VMCS_IO_RDI = 0x6406, VMCS_IO_RIP = 0x6408, VMCS_GUEST_LINEAR_ADDR = 0x640a,
	VMCS_GUEST_CR0 = 0x6800, VMCS_GUEST_CR3 = 0x6802, VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806, VMCS_GUEST_CS_BASE = 0x6808, VMCS_GUEST_SS_BASE = 0x680a,
	VMCS_GUEST_DS_BASE = 0x680c, VMCS_GUEST_FS_BASE = 0x680e, VMCS_GUEST_GS_BASE = 0x6810,
	VMCS_GUEST_LDTR_BASE = 0x6812, VMCS_GUEST_TR_BASE = 0x6814,
	VMCS_GUEST_GDTR_BASE = 0x6816, VMCS_GUEST_IDTR_BASE = 0x6818, VMCS_GUEST_DR7 = 0x681a,
	VMCS_GUEST_RSP = 0x681c, VMCS_GUEST_RIP = 0x681e, VMCS_GUEST_RFLAGS = 0x6820,
	VMCS_GUEST_PENDING_DEBUG = 0x6822, VMCS_GUEST_SYSENTER_ESP = 0x6824,
	VMCS_GUEST_SYSENTER_EIP = 0x6826,
	VMCS_HOST_CR0 = 0x6c00, VMCS_HOST_CR3 = 0x6c02, VMCS_HOST_CR4 = 0x6c04,
	VMCS_HOST_FS_BASE = 0x6c06, VMCS_HOST_GS_BASE = 0x6c08, VMCS_HOST_TR_BASE = 0x6c0a,
	VMCS_HOST_GDTR_BASE = 0x6c0c, VMCS_HOST_IDTR_BASE = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP = 0x6c10, VMCS_HOST_SYSENTER_EIP = 0x6c12,
	VMCS_HOST_RSP = 0x6c14, VMCS_HOST_RIP = 0x6c16,
};

/* Basic exit reasons, SDM vol.3D appendix C. */
#define VMX_EXIT_EXCEPTION_NMI   0
#define VMX_EXIT_EXTINT          1
#define VMX_EXIT_TRIPLE_FAULT    2
#define VMX_EXIT_INIT            3
#define VMX_EXIT_SIPI            4
#define VMX_EXIT_INTR_WINDOW     7
#define VMX_EXIT_NMI_WINDOW      8
#define VMX_EXIT_TASK_SWITCH     9
#define VMX_EXIT_CPUID           10
#define VMX_EXIT_GETSEC          11
#define VMX_EXIT_HLT             12
#define VMX_EXIT_INVD            13
#define VMX_EXIT_INVLPG          14
#define VMX_EXIT_RDPMC           15
#define VMX_EXIT_RDTSC           16
#define VMX_EXIT_RSM             17
#define VMX_EXIT_VMCALL          18
#define VMX_EXIT_VMCLEAR         19
#define VMX_EXIT_VMLAUNCH        20
#define VMX_EXIT_VMPTRLD         21
#define VMX_EXIT_VMPTRST         22
#define VMX_EXIT_VMREAD          23
#define VMX_EXIT_VMRESUME        24
#define VMX_EXIT_VMWRITE         25
#define VMX_EXIT_VMXOFF          26
#define VMX_EXIT_VMXON           27
#define VMX_EXIT_CR_ACCESS       28
#define VMX_EXIT_DR_ACCESS       29
#define VMX_EXIT_IO              30
#define VMX_EXIT_RDMSR           31
#define VMX_EXIT_WRMSR           32
#define VMX_EXIT_INVALID_GUEST   33
#define VMX_EXIT_MSR_LOADING     34
#define VMX_EXIT_MWAIT           36
#define VMX_EXIT_MTF             37
#define VMX_EXIT_MONITOR         39
#define VMX_EXIT_PAUSE           40
#define VMX_EXIT_MACHINE_CHECK   41
#define VMX_EXIT_TPR_BELOW       43
#define VMX_EXIT_APIC_ACCESS     44
#define VMX_EXIT_GDTR_IDTR       46
#define VMX_EXIT_LDTR_TR         47
#define VMX_EXIT_EPT_VIOLATION   48
#define VMX_EXIT_EPT_MISCONFIG   49
#define VMX_EXIT_INVEPT          50
#define VMX_EXIT_RDTSCP          51
#define VMX_EXIT_PREEMPTION_TIMER 52
#define VMX_EXIT_INVVPID         53
#define VMX_EXIT_WBINVD          54
#define VMX_EXIT_XSETBV          55
#define VMX_EXIT_RDRAND          57
#define VMX_EXIT_INVPCID         58
#define VMX_EXIT_ENTRY_FAILURE   (1u << 31) /* bit 31 of the exit reason */
#define VMX_EXIT_BASIC_MASK      0xffffu    /* bits 15:0: the basic exit reason (25.9.1) */

/* VM-instruction error numbers, SDM vol.3C 31.4 Table 31-1. */
#define VMXERR_VMCLEAR_INVALID_ADDR  2
#define VMXERR_VMCLEAR_VMXON_PTR     3
#define VMXERR_VMLAUNCH_NONCLEAR     4
#define VMXERR_VMRESUME_NONLAUNCHED  5
#define VMXERR_ENTRY_INVALID_CONTROL 7
#define VMXERR_ENTRY_INVALID_HOST    8
#define VMXERR_VMPTRLD_INVALID_ADDR  9
#define VMXERR_VMPTRLD_VMXON_PTR     10
#define VMXERR_VMPTRLD_BAD_REVISION  11
#define VMXERR_UNSUPPORTED_FIELD     12
#define VMXERR_VMWRITE_READONLY      13
#define VMXERR_VMXON_IN_ROOT         15

/* Exit qualification for control-register accesses, Table 28-3. */
#define VMX_CR_QUAL_CR_MASK     0xfull
#define VMX_CR_QUAL_TYPE_SHIFT  4
#define VMX_CR_TYPE_MOV_TO      0
#define VMX_CR_TYPE_MOV_FROM    1
#define VMX_CR_TYPE_CLTS        2
#define VMX_CR_TYPE_LMSW        3
#define VMX_CR_QUAL_GPR_SHIFT   8
#define VMX_CR_QUAL_LMSW_MEM    (1ull << 6)
#define VMX_CR_QUAL_LMSW_SHIFT  16
/* Exit qualification for I/O instructions, Table 28-5. */
#define VMX_IO_QUAL_SIZE_MASK   0x7ull  /* size - 1 */
#define VMX_IO_QUAL_IN          (1ull << 3)
#define VMX_IO_QUAL_STRING      (1ull << 4)
#define VMX_IO_QUAL_REP         (1ull << 5)
#define VMX_IO_QUAL_IMM         (1ull << 6)
#define VMX_IO_QUAL_PORT_SHIFT  16
/* Exit qualification for EPT violations, Table 28-7. */
#define VMX_EPT_QUAL_READ       (1ull << 0)
#define VMX_EPT_QUAL_WRITE      (1ull << 1)
#define VMX_EPT_QUAL_FETCH      (1ull << 2)
#define VMX_EPT_QUAL_READABLE   (1ull << 3)
#define VMX_EPT_QUAL_WRITABLE   (1ull << 4)
#define VMX_EPT_QUAL_EXECUTABLE (1ull << 5)
#define VMX_EPT_QUAL_LINEAR_VALID (1ull << 7)
#define VMX_EPT_QUAL_FINAL      (1ull << 8) /* the access was to the final translation */
#define VMX_EPT_QUAL_NMI_UNBLOCK (1ull << 12)
/* Instruction information for INS/OUTS, Table 28-8. */
#define VMX_INSN_INFO_ASIZE_SHIFT 7
#define VMX_INSN_INFO_ASIZE_MASK  (7u << 7)
#define VMX_INSN_INFO_SEG_SHIFT   15
#define VMX_INSN_INFO_SEG_MASK    (7u << 15)

/* Interruption information (VM-entry, VM-exit, IDT-vectoring), Tables 25-17 and 25-18. */
#define VMX_INTR_VECTOR_MASK    0xffu
#define VMX_INTR_TYPE_SHIFT     8
#define VMX_INTR_TYPE_MASK      (7u << 8)
#define VMX_INTR_TYPE_EXTINT    0
#define VMX_INTR_TYPE_NMI       2
#define VMX_INTR_TYPE_HW_EXCEPTION 3
#define VMX_INTR_TYPE_SOFT_INT  4
#define VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION 5
#define VMX_INTR_TYPE_SOFT_EXCEPTION 6
#define VMX_INTR_ERROR_VALID    (1u << 11)
#define VMX_INTR_NMI_UNBLOCK    (1u << 12)
#define VMX_INTR_VALID          (1u << 31)

/* Access rights, Table 25-2. */
#define VMX_AR_CODE64     0xa09bu /* P, S, type 0xB; L, G */
#define VMX_AR_CODE32     0xc09bu
#define VMX_AR_CODE16     0x009bu
#define VMX_AR_DATA32     0xc093u
#define VMX_AR_DATA16     0x0093u
#define VMX_AR_TSS64_BUSY 0x008bu
#define VMX_AR_TSS32_BUSY 0x008bu
#define VMX_AR_LDT        0x0082u
#define VMX_AR_UNUSABLE   (1u << 16)

/* EPTP, SDM vol.3C 25.6.11. */
#define EPTP_WB           6ull
#define EPTP_WALK4        (3ull << 3)

/* Outcome of a VMX instruction, SDM vol.3C 31.2: VMsucceed (CF=ZF=0), VMfailInvalid
 * (CF=1), VMfailValid (ZF=1, error number in the current VMCS). */
enum vmx_result {
	VMX_OK = 0,
	VMX_FAIL_INVALID = 1,
	VMX_FAIL_VALID = 2,
};

#define VMX_RESULT_ASM "setc %b0; setz %h0"
static inline enum vmx_result vmx_result_from(uint16_t flags)
{
	if (flags & 0xff)
		return VMX_FAIL_INVALID;
	if (flags >> 8)
		return VMX_FAIL_VALID;
	return VMX_OK;
}

static inline enum vmx_result vmxon(uint64_t pa)
{
	uint16_t flags;
	__asm__ volatile("vmxon %1; " VMX_RESULT_ASM : "=&Q"(flags) : "m"(pa) : "cc", "memory");
	return vmx_result_from(flags);
}

static inline enum vmx_result vmxoff(void)
{
	uint16_t flags;
	__asm__ volatile("vmxoff; " VMX_RESULT_ASM : "=&Q"(flags)::"cc", "memory");
	return vmx_result_from(flags);
}

static inline enum vmx_result vmclear(uint64_t pa)
{
	uint16_t flags;
	__asm__ volatile("vmclear %1; " VMX_RESULT_ASM : "=&Q"(flags) : "m"(pa) : "cc", "memory");
	return vmx_result_from(flags);
}

static inline enum vmx_result vmptrld(uint64_t pa)
{
	uint16_t flags;
	__asm__ volatile("vmptrld %1; " VMX_RESULT_ASM : "=&Q"(flags) : "m"(pa) : "cc", "memory");
	return vmx_result_from(flags);
}

static inline enum vmx_result vmptrst(uint64_t *pa)
{
	uint16_t flags;
	__asm__ volatile("vmptrst %1; " VMX_RESULT_ASM : "=&Q"(flags), "=m"(*pa)::"cc", "memory");
	return vmx_result_from(flags);
}

static inline enum vmx_result vmread_checked(uint64_t field, uint64_t *value)
{
	uint16_t flags;
	uint64_t v = 0;
	__asm__ volatile("vmread %2, %1; " VMX_RESULT_ASM
			 : "=&Q"(flags), "+r"(v)
			 : "r"(field)
			 : "cc", "memory");
	*value = v;
	return vmx_result_from(flags);
}

static inline enum vmx_result vmwrite_checked(uint64_t field, uint64_t value)
{
	uint16_t flags;
	__asm__ volatile("vmwrite %2, %1; " VMX_RESULT_ASM
			 : "=&Q"(flags)
			 : "r"(field), "rm"(value)
			 : "cc", "memory");
	return vmx_result_from(flags);
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t value;
	vmread_checked(field, &value);
	return value;
}

static inline void vmwrite(uint64_t field, uint64_t value)
{
	vmwrite_checked(field, value);
}

/* INVEPT types, SDM vol.3C 30.3. */
#define INVEPT_SINGLE 1ull
#define INVEPT_ALL    2ull

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} descriptor = { eptp, 0 };
	uint16_t flags;
	__asm__ volatile("invept %1, %2; " VMX_RESULT_ASM
			 : "=&Q"(flags)
			 : "m"(descriptor), "r"(type)
			 : "cc", "memory");
	return vmx_result_from(flags);
}

/* From the mini-hypervisor's VMX half (after mhv_start succeeded on VMX): the VMCS
 * revision identifier (IA32_VMX_BASIC[30:0]) and the VMXON region in use. */
uint32_t mhv_vmx_revision(void);
uint64_t mhv_vmx_vmxon_pa(void);

#endif
