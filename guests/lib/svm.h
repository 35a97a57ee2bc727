/* AMD-V as the mini-hypervisor's SVM half and the probes see it: the VMCB layout,
 * intercept bits, exit codes and the SVM instructions. AMD64 Architecture
 * Programmer's Manual (APM) vol.2, chapter 15 and appendices B (VMCB layout) and C
 * (exit codes). */
#ifndef GUEST_SVM_H
#define GUEST_SVM_H

#include <stdint.h>

struct svm_segment {
	uint16_t selector;
	uint16_t attrib; /* descriptor bits 47:40 in [7:0], bits 55:52 in [11:8] */
	uint32_t limit;
	uint64_t base;
};

/* APM vol.2 Table B-1 (control area) and Table B-2 (state save area). */
struct svm_vmcb {
	uint32_t intercept_cr;          /* 0x000: reads [15:0], writes [31:16] */
	uint32_t intercept_dr;          /* 0x004: reads [15:0], writes [31:16] */
	uint32_t intercept_exceptions;  /* 0x008: one bit per vector */
	uint32_t intercept_misc1;       /* 0x00c */
	uint32_t intercept_misc2;       /* 0x010 */
	uint32_t intercept_misc3;       /* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold;/* 0x03c */
	uint16_t pause_filter_count;    /* 0x03e */
	uint64_t iopm_base_pa;          /* 0x040 */
	uint64_t msrpm_base_pa;         /* 0x048 */
	uint64_t tsc_offset;            /* 0x050 */
	uint32_t guest_asid;            /* 0x058 */
	uint8_t tlb_control;            /* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t vintr;                 /* 0x060: V_TPR, V_IRQ, V_INTR_PRIO, V_INTR_MASKING, vector */
	uint64_t interrupt_shadow;      /* 0x068 */
	uint64_t exitcode;              /* 0x070 */
	uint64_t exitinfo1;             /* 0x078 */
	uint64_t exitinfo2;             /* 0x080 */
	uint64_t exitintinfo;           /* 0x088 */
	uint64_t np_control;            /* 0x090: bit 0 NP_ENABLE */
	uint64_t avic_apic_bar;         /* 0x098 */
	uint64_t ghcb_pa;               /* 0x0a0 */
	uint64_t eventinj;              /* 0x0a8 */
	uint64_t n_cr3;                 /* 0x0b0 */
	uint64_t virt_ext;              /* 0x0b8: LBR virtualization, virtual VMLOAD/VMSAVE */
	uint32_t clean_bits;            /* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t next_rip;              /* 0x0c8: nRIP (NRIPS) */
	uint8_t insn_bytes_fetched;     /* 0x0d0 */
	uint8_t insn_bytes[15];         /* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0];
	/* state save area */
	struct svm_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49f */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;                    /* 0x4cb */
	uint32_t reserved_4cc;
	uint64_t efer;                  /* 0x4d0 */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4;                   /* 0x548 */
	uint64_t cr3;                   /* 0x550 */
	uint64_t cr0;                   /* 0x558 */
	uint64_t dr7;                   /* 0x560 */
	uint64_t dr6;                   /* 0x568 */
	uint64_t rflags;                /* 0x570 */
	uint64_t rip;                   /* 0x578 */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;                   /* 0x5d8 */
	uint8_t reserved_5e0[0x5f8 - 0x5e0];
	uint64_t rax;                   /* 0x5f8 */
	uint64_t star;                  /* 0x600 */
	uint64_t lstar;                 /* 0x608 */
	uint64_t cstar;                 /* 0x610 */
	uint64_t sfmask;                /* 0x618 */
	uint64_t kernel_gs_base;        /* 0x620 */
	uint64_t sysenter_cs;           /* 0x628 */
	uint64_t sysenter_esp;          /* 0x630 */
	uint64_t sysenter_eip;          /* 0x638 */
	uint64_t cr2;                   /* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;                 /* 0x668 */
	uint64_t dbgctl;                /* 0x670 */
	uint64_t br_from;               /* 0x678 */
	uint64_t br_to;                 /* 0x680 */
	uint64_t last_excp_from;        /* 0x688 */
	uint64_t last_excp_to;          /* 0x690 */
	uint8_t reserved_698[0x1000 - 0x698];
};

/* Natural alignment gives the manual's offsets: no packing needed (checked here). */
_Static_assert(sizeof(struct svm_segment) == 16, "VMCB segment is 16 bytes");
_Static_assert(__builtin_offsetof(struct svm_vmcb, pause_filter_count) == 0x3e, "0x3e");
_Static_assert(__builtin_offsetof(struct svm_vmcb, vintr) == 0x60, "V_INTR at 0x60");
_Static_assert(__builtin_offsetof(struct svm_vmcb, exitcode) == 0x70, "EXITCODE at 0x70");
_Static_assert(__builtin_offsetof(struct svm_vmcb, eventinj) == 0xa8, "EVENTINJ at 0xa8");
_Static_assert(__builtin_offsetof(struct svm_vmcb, next_rip) == 0xc8, "nRIP at 0xc8");
_Static_assert(__builtin_offsetof(struct svm_vmcb, cpl) == 0x4cb, "CPL at 0x4cb");
_Static_assert(__builtin_offsetof(struct svm_vmcb, efer) == 0x4d0, "EFER at 0x4d0");
_Static_assert(__builtin_offsetof(struct svm_vmcb, cr4) == 0x548, "CR4 at 0x548");
_Static_assert(__builtin_offsetof(struct svm_vmcb, rsp) == 0x5d8, "RSP at 0x5d8");
_Static_assert(sizeof(struct svm_vmcb) == 0x1000, "a VMCB is one page");
_Static_assert(__builtin_offsetof(struct svm_vmcb, es) == 0x400, "state save area at 0x400");
_Static_assert(__builtin_offsetof(struct svm_vmcb, rax) == 0x5f8, "RAX at 0x5f8");
_Static_assert(__builtin_offsetof(struct svm_vmcb, cr2) == 0x640, "CR2 at 0x640");
_Static_assert(__builtin_offsetof(struct svm_vmcb, g_pat) == 0x668, "G_PAT at 0x668");

/* MSRs, APM vol.2 15.30. */
#define MSR_VM_CR          0xc0010114u
#define VM_CR_SVMDIS       (1ull << 4)
#define MSR_VM_HSAVE_PA    0xc0010117u

/* CPUID Fn8000_000A_EDX feature bits, APM vol.3 E.4.9. */
#define SVM_FEATURE_NP            (1u << 0)
#define SVM_FEATURE_NRIPS         (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN    (1u << 5)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)
#define SVM_FEATURE_DECODE_ASSISTS (1u << 7)
#define SVM_FEATURE_PAUSE_FILTER  (1u << 10)
#define SVM_FEATURE_VGIF          (1u << 16)

/* Intercept vector 3 (offset 0x0c), APM vol.2 Table B-1. */
#define SVM_INTERCEPT_INTR     (1u << 0)
#define SVM_INTERCEPT_NMI      (1u << 1)
#define SVM_INTERCEPT_SMI      (1u << 2)
#define SVM_INTERCEPT_INIT     (1u << 3)
#define SVM_INTERCEPT_VINTR    (1u << 4)
#define SVM_INTERCEPT_CR0_SEL  (1u << 5)
#define SVM_INTERCEPT_IDTR_READ (1u << 6)
#define SVM_INTERCEPT_GDTR_READ (1u << 7)
#define SVM_INTERCEPT_LDTR_READ (1u << 8)
#define SVM_INTERCEPT_TR_READ  (1u << 9)
#define SVM_INTERCEPT_IDTR_WRITE (1u << 10)
#define SVM_INTERCEPT_GDTR_WRITE (1u << 11)
#define SVM_INTERCEPT_LDTR_WRITE (1u << 12)
#define SVM_INTERCEPT_TR_WRITE (1u << 13)
#define SVM_INTERCEPT_RDTSC    (1u << 14)
#define SVM_INTERCEPT_RDPMC    (1u << 15)
#define SVM_INTERCEPT_PUSHF    (1u << 16)
#define SVM_INTERCEPT_POPF     (1u << 17)
#define SVM_INTERCEPT_CPUID    (1u << 18)
#define SVM_INTERCEPT_RSM      (1u << 19)
#define SVM_INTERCEPT_IRET     (1u << 20)
#define SVM_INTERCEPT_INTN     (1u << 21)
#define SVM_INTERCEPT_INVD     (1u << 22)
#define SVM_INTERCEPT_PAUSE    (1u << 23)
#define SVM_INTERCEPT_HLT      (1u << 24)
#define SVM_INTERCEPT_INVLPG   (1u << 25)
#define SVM_INTERCEPT_INVLPGA  (1u << 26)
#define SVM_INTERCEPT_IOIO     (1u << 27)
#define SVM_INTERCEPT_MSR      (1u << 28)
#define SVM_INTERCEPT_TASK_SWITCH (1u << 29)
#define SVM_INTERCEPT_FERR_FREEZE (1u << 30)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* Intercept vector 4 (offset 0x10). */
#define SVM_INTERCEPT_VMRUN    (1u << 0)
#define SVM_INTERCEPT_VMMCALL  (1u << 1)
#define SVM_INTERCEPT_VMLOAD   (1u << 2)
#define SVM_INTERCEPT_VMSAVE   (1u << 3)
#define SVM_INTERCEPT_STGI     (1u << 4)
#define SVM_INTERCEPT_CLGI     (1u << 5)
#define SVM_INTERCEPT_SKINIT   (1u << 6)
#define SVM_INTERCEPT_RDTSCP   (1u << 7)
#define SVM_INTERCEPT_ICEBP    (1u << 8)
#define SVM_INTERCEPT_WBINVD   (1u << 9)
#define SVM_INTERCEPT_MONITOR  (1u << 10)
#define SVM_INTERCEPT_MWAIT    (1u << 11)
#define SVM_INTERCEPT_MWAIT_ARMED (1u << 12)
#define SVM_INTERCEPT_XSETBV   (1u << 13)

/* Offset 0x60 (V_INTR fields), APM vol.2 15.21. */
#define SVM_VINTR_TPR_MASK     0xffull
#define SVM_VINTR_IRQ          (1ull << 8)
#define SVM_VINTR_PRIO_SHIFT   16
#define SVM_VINTR_IGN_TPR      (1ull << 20)
#define SVM_VINTR_MASKING      (1ull << 24)
#define SVM_VINTR_VECTOR_SHIFT 32

#define SVM_TLB_CONTROL_FLUSH_ALL 1
#define SVM_NP_ENABLE             1ull
#define SVM_DEFAULT_PAT           0x0007040600070406ull /* power-on PAT, APM vol.2 7.8.1 */

/* EVENTINJ and EXITINTINFO, APM vol.2 15.20 Figure 15-3. */
#define SVM_EVENT_VECTOR_MASK 0xffull
#define SVM_EVENT_TYPE_SHIFT  8
#define SVM_EVENT_TYPE_MASK   (7ull << 8)
#define SVM_EVENT_TYPE_INTR   0
#define SVM_EVENT_TYPE_NMI    2
#define SVM_EVENT_TYPE_EXCEPTION 3
#define SVM_EVENT_TYPE_SOFT_INT 4
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_VALID       (1ull << 31)
#define SVM_EVENT_ERROR_SHIFT 32

/* Exit codes, APM vol.2 appendix C, Table C-1. */
#define SVM_EXIT_CR_READ_BASE   0x00
#define SVM_EXIT_CR_WRITE_BASE  0x10
#define SVM_EXIT_DR_READ_BASE   0x20
#define SVM_EXIT_DR_WRITE_BASE  0x30
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR           0x60
#define SVM_EXIT_NMI            0x61
#define SVM_EXIT_SMI            0x62
#define SVM_EXIT_INIT           0x63
#define SVM_EXIT_VINTR          0x64
#define SVM_EXIT_CR0_SEL_WRITE  0x65
#define SVM_EXIT_IDTR_READ      0x66
#define SVM_EXIT_GDTR_READ      0x67
#define SVM_EXIT_LDTR_READ      0x68
#define SVM_EXIT_TR_READ        0x69
#define SVM_EXIT_IDTR_WRITE     0x6a
#define SVM_EXIT_GDTR_WRITE     0x6b
#define SVM_EXIT_LDTR_WRITE     0x6c
#define SVM_EXIT_TR_WRITE       0x6d
#define SVM_EXIT_RDTSC          0x6e
#define SVM_EXIT_RDPMC          0x6f
#define SVM_EXIT_PUSHF          0x70
#define SVM_EXIT_POPF           0x71
#define SVM_EXIT_CPUID          0x72
#define SVM_EXIT_RSM            0x73
#define SVM_EXIT_IRET           0x74
#define SVM_EXIT_SWINT          0x75
#define SVM_EXIT_INVD           0x76
#define SVM_EXIT_PAUSE          0x77
#define SVM_EXIT_HLT            0x78
#define SVM_EXIT_INVLPG         0x79
#define SVM_EXIT_INVLPGA        0x7a
#define SVM_EXIT_IOIO           0x7b
#define SVM_EXIT_MSR            0x7c
#define SVM_EXIT_TASK_SWITCH    0x7d
#define SVM_EXIT_FERR_FREEZE    0x7e
#define SVM_EXIT_SHUTDOWN       0x7f
#define SVM_EXIT_VMRUN          0x80
#define SVM_EXIT_VMMCALL        0x81
#define SVM_EXIT_VMLOAD         0x82
#define SVM_EXIT_VMSAVE         0x83
#define SVM_EXIT_STGI           0x84
#define SVM_EXIT_CLGI           0x85
#define SVM_EXIT_SKINIT         0x86
#define SVM_EXIT_RDTSCP         0x87
#define SVM_EXIT_ICEBP          0x88
#define SVM_EXIT_WBINVD         0x89
#define SVM_EXIT_MONITOR        0x8a
#define SVM_EXIT_MWAIT          0x8b
#define SVM_EXIT_MWAIT_CONDITIONAL 0x8c
#define SVM_EXIT_XSETBV         0x8d
#define SVM_EXIT_NPF            0x400
/* VMEXIT_INVALID is -1. QEMU writes it as 0x00000000ffffffff, Bochs as a 64-bit -1:
 * probes compare the low 32 bits. */
#define SVM_EXIT_INVALID        0xffffffffull

/* IOIO EXITINFO1, APM vol.2 15.10.2 Figure 15-2. */
#define SVM_IOIO_IN          (1ull << 0)
#define SVM_IOIO_STRING      (1ull << 2)
#define SVM_IOIO_REP         (1ull << 3)
#define SVM_IOIO_SZ8         (1ull << 4)
#define SVM_IOIO_SZ16        (1ull << 5)
#define SVM_IOIO_SZ32        (1ull << 6)
#define SVM_IOIO_A16         (1ull << 7)
#define SVM_IOIO_A32         (1ull << 8)
#define SVM_IOIO_A64         (1ull << 9)
#define SVM_IOIO_SEG_SHIFT   10 /* bits 12:10, the effective segment (DecodeAssists) */
#define SVM_IOIO_SEG_MASK    (7ull << 10)
#define SVM_IOIO_PORT_SHIFT  16

/* NPF EXITINFO1: a #PF error code plus where the fault hit, APM vol.2 15.25.6. */
#define SVM_NPF_PRESENT      (1ull << 0)
#define SVM_NPF_WRITE        (1ull << 1)
#define SVM_NPF_USER         (1ull << 2)
#define SVM_NPF_RSVD         (1ull << 3)
#define SVM_NPF_FETCH        (1ull << 4)
#define SVM_NPF_FINAL_GPA    (1ull << 32) /* the fault was on the final guest-physical address */
#define SVM_NPF_TABLE_WALK   (1ull << 33) /* ... on a guest page-table access */

/* MOV CRx/DRx EXITINFO1 with DecodeAssists, APM vol.2 15.8.1. */
#define SVM_CR_INFO_VALID    (1ull << 63)
#define SVM_CR_INFO_GPR_MASK 0xfull

/* Segment attributes (VMCB compressed format). */
#define SVM_ATTRIB_CODE64    0x0a9b /* P, DPL 0, S, type 0xB; L, G */
#define SVM_ATTRIB_CODE32    0x0c9b /* D/B, G */
#define SVM_ATTRIB_CODE16    0x009b
#define SVM_ATTRIB_DATA32    0x0c93 /* P, S, type 0x3 (read/write, accessed); D/B, G */
#define SVM_ATTRIB_DATA16    0x0093
#define SVM_ATTRIB_TSS64_BUSY 0x008b
#define SVM_ATTRIB_LDT       0x0082

static inline void svm_vmload(uint64_t vmcb_pa)
{
	__asm__ volatile("vmload %%rax" ::"a"(vmcb_pa) : "memory");
}

static inline void svm_vmsave(uint64_t vmcb_pa)
{
	__asm__ volatile("vmsave %%rax" ::"a"(vmcb_pa) : "memory");
}

static inline void svm_clgi(void)
{
	__asm__ volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	__asm__ volatile("stgi" ::: "memory");
}

#endif
