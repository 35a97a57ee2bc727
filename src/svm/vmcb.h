/* The VMCB (APM vol.2 appendix B, "Layout of VMCB"): a 4 KiB page, control area at
 * offset 0, state save area at 0x400. */
#ifndef NESTBED_SVM_VMCB_H
#define NESTBED_SVM_VMCB_H

#include <stdint.h>

struct vmcb_segment {
	uint16_t selector;
	uint16_t attrib; /* type[3:0] S[4] DPL[6:5] P[7] AVL[8] L[9] D/B[10] G[11] */
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

struct vmcb_control {
	uint32_t intercept_cr;        /* 0x000: reads [15:0], writes [31:16] */
	uint32_t intercept_dr;        /* 0x004 */
	uint32_t intercept_exceptions;/* 0x008 */
	uint32_t intercept_misc1;     /* 0x00c */
	uint32_t intercept_misc2;     /* 0x010 */
	uint32_t intercept_misc3;     /* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold; /* 0x03c */
	uint16_t pause_filter_count;  /* 0x03e */
	uint64_t iopm_base_pa;        /* 0x040 */
	uint64_t msrpm_base_pa;       /* 0x048 */
	uint64_t tsc_offset;          /* 0x050 */
	uint32_t guest_asid;          /* 0x058 */
	uint8_t tlb_control;          /* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t vintr;               /* 0x060: V_TPR, V_IRQ, VGIF, V_INTR_MASKING, ... */
	uint64_t interrupt_shadow;    /* 0x068: bit 0 shadow, bit 1 guest IF (APM B-1) */
	uint64_t exitcode;            /* 0x070 */
	uint64_t exitinfo1;           /* 0x078 */
	uint64_t exitinfo2;           /* 0x080 */
	uint64_t exitintinfo;         /* 0x088 */
	uint64_t np_control;          /* 0x090: bit 0 NP_ENABLE */
	uint64_t avic_apic_bar;       /* 0x098 */
	uint64_t ghcb_pa;             /* 0x0a0 */
	uint64_t eventinj;            /* 0x0a8 */
	uint64_t n_cr3;               /* 0x0b0 */
	uint64_t virt_ext;            /* 0x0b8: LBR virtualization, VMSAVE/VMLOAD virtualization */
	uint32_t clean_bits;          /* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t next_rip;            /* 0x0c8 */
	uint8_t insn_bytes_fetched;   /* 0x0d0 */
	uint8_t insn_bytes[15];       /* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49f */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;                  /* 0x4cb */
	uint32_t reserved_4cc;
	uint64_t efer;                /* 0x4d0 */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4;                 /* 0x548 */
	uint64_t cr3;                 /* 0x550 */
	uint64_t cr0;                 /* 0x558 */
	uint64_t dr7;                 /* 0x560 */
	uint64_t dr6;                 /* 0x568 */
	uint64_t rflags;              /* 0x570 */
	uint64_t rip;                 /* 0x578 */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;                 /* 0x5d8 */
	uint8_t reserved_5e0[0x5f8 - 0x5e0];
	uint64_t rax;                 /* 0x5f8 */
	uint64_t star;                /* 0x600 */
	uint64_t lstar;               /* 0x608 */
	uint64_t cstar;               /* 0x610 */
	uint64_t sfmask;              /* 0x618 */
	uint64_t kernel_gs_base;      /* 0x620 */
	uint64_t sysenter_cs;         /* 0x628 */
	uint64_t sysenter_esp;        /* 0x630 */
	uint64_t sysenter_eip;        /* 0x638 */
	uint64_t cr2;                 /* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;               /* 0x668 */
	uint64_t dbgctl;              /* 0x670 */
	uint64_t br_from;             /* 0x678 */
	uint64_t br_to;               /* 0x680 */
	uint64_t last_excp_from;      /* 0x688 */
	uint64_t last_excp_to;        /* 0x690 */
	uint8_t reserved_698[0x1000 - 0x698];
} __attribute__((packed));

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __attribute__((packed));

_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
_Static_assert(sizeof(struct vmcb) == 0x1000, "a VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "RAX at 0x5f8");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "G_PAT at 0x668");
_Static_assert(__builtin_offsetof(struct vmcb, control.next_rip) == 0xc8, "nRIP at 0xc8");

/* CR intercepts (vector 0, offset 0x00): reads in bits 15:0, writes in 31:16. */
#define SVM_INTERCEPT_CR0_WRITE (1u << 16)

/* Intercept vector 3 (misc1), APM vol.2 table B-1 offset 0x0c. */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPGA (1u << 26)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* Intercept vector 4 (misc2), offset 0x10. */
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)

#define SVM_TLB_CONTROL_FLUSH_ALL 1
#define SVM_NP_ENABLE 1ull
#define SVM_INTERRUPT_SHADOW 1ull
#define SVM_DEFAULT_PAT 0x0007040600070406ull /* the power-on PAT, APM vol.2 7.8.1 */

/* EVENTINJ / EXITINTINFO, APM vol.2 15.20 */
#define SVM_EVENT_VALID (1ull << 31)
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_TYPE_SHIFT 8

/* Exit codes, APM vol.2 appendix C. */
#define SVM_EXIT_CR0_WRITE 0x10
#define SVM_EXIT_CR0_SEL_WRITE 0x65
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu /* compare the low 32 bits: QEMU and Bochs differ above */

/* IOIO EXITINFO1, APM vol.2 15.10.2 */
#define SVM_IOIO_IN (1u << 0)
#define SVM_IOIO_STRING (1u << 2)
#define SVM_IOIO_REP (1u << 3)
#define SVM_IOIO_SIZE_SHIFT 4 /* bits 6:4: SZ8, SZ16, SZ32 one-hot */
#define SVM_IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (a #PF error code plus bits 32/33), APM vol.2 15.25.6 */
#define SVM_NPF_PRESENT (1ull << 0)
#define SVM_NPF_WRITE (1ull << 1)
#define SVM_NPF_FETCH (1ull << 4)

/* The permission maps (APM vol.2 15.10.1, 15.11) */
#define SVM_IOPM_PAGES 3            /* 12 KiB */
#define SVM_MSRPM_PAGES 2           /* 8 KiB */
#define IOPM_BYTES (SVM_IOPM_PAGES * 4096ull)
#define MSRPM_BYTES (SVM_MSRPM_PAGES * 4096ull)
/* A segment's attrib: L (64-bit code), APM vol.2 4.8.1 and table B-2 */
#define SEG_ATTR_L (1u << 9)

#endif
