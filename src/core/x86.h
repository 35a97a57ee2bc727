/* x86 architectural constants, the same on Intel and AMD, shared by all of src/: control
 * registers, EFER, RFLAGS, exception vectors, page-table entries, the MSRs more than one
 * floor names. Each constant is defined once, here, with its place in the manuals (Intel
 * SDM, AMD APM); vendor headers (svm/, vmx/) keep only what is vendor-specific.
 * tests/harness/test_defines.py fails when a macro is defined twice in src/. Only
 * #defines: C, nestbed and host tests alike. */
#ifndef NESTBED_X86_H
#define NESTBED_X86_H

/* ---- CR0: SDM vol.3A 2.5; APM vol.2 3.1.1 ---- */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

/* ---- CR3 with PAE paging: bits 31:5 locate the 4-entry PDPT (SDM vol.3A 4.4.1) ---- */
#define CR3_PAE_PDPT_MASK 0xffffffe0ull
#define PDPTE_COUNT 4

/* ---- CR4: SDM vol.3A 2.5; APM vol.2 3.1.3 ---- */
#define CR4_VME (1ull << 0)
#define CR4_PVI (1ull << 1)
#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)       /* 57-bit linear addresses where supported */
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_KL (1ull << 19)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)
#define CR4_CET (1ull << 23)
#define CR4_PKS (1ull << 24)
#define CR4_UINTR (1ull << 25)
#define CR4_LAM_SUP (1ull << 28)

/* ---- EFER: SDM vol.4 table 2-2, vol.3A 2.2.1; APM vol.2 3.1.7 ---- */
#define MSR_EFER 0xC0000080u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)      /* APM vol.2 15.4 */

/* ---- RFLAGS: SDM vol.1 3.4.3; APM vol.2 3.1.6 ---- */
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_FIXED (1ull << 1)    /* reads as 1 */
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* ---- exception and interrupt vectors: SDM vol.3A 6.3.1 table 6-1; APM vol.2 8.2 ---- */
#define VECTOR_DB 1
#define VECTOR_NMI 2
#define VECTOR_BP 3
#define VECTOR_OF 4
#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_PF 14

/* ---- state at reset/INIT: SDM vol.3A 9.1.1 table 9-1; APM vol.2 14.1.3 ---- */
#define DR7_INIT 0x400ull
#define IDT_REAL_MODE_LIMIT 0x3ff   /* the 256 four-byte real-mode vectors (SDM 20.1.4) */
#define LOW_1M 0x100000ull          /* the real-mode address space (SDM vol.3A 20.1.1) */
/* A startup IPI's vector VV starts the AP at 000VV000h (SDM vol.3A 8.4.4.1, 10.6.1) */
#define SIPI_VECTOR_SHIFT 12

/* ---- opcodes nestbed emulates on MMIO it traps (SDM vol.2B MOV, STOS) ---- */
#define OPCODE_MOV_RM_R 0x89   /* MOV r/m, r */
#define OPCODE_MOV_R_RM 0x8b   /* MOV r, r/m */
#define OPCODE_MOV_RM_IMM 0xc7 /* MOV r/m, imm32 (/0) */
#define OPCODE_STOSB 0xaa      /* STOS m8 */
#define OPCODE_STOS 0xab       /* STOS m16/32/64 */

/* ---- segment selectors: RPL bits 1:0 and TI bit 2 (SDM vol.3A 3.4.2) ---- */
#define SELECTOR_RPL_TI 7u

/* ---- paging-structure entries: SDM vol.3A 4.5 tables 4-15 to 4-20; APM vol.2 5.3 ---- */
#define PAGE_SIZE 4096ull
#define PAGE_MASK 0xfffull
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)

/* ---- MSRs named in more than one floor (SDM vol.4 table 2-2; APM vol.2 appendix A) ---- */
#define MSR_IA32_SMM_MONITOR_CTL 0x9bu /* SDM vol.3C 34.15.5 */
#define MSR_VM_CR 0xC0010114u          /* APM vol.2 15.30.1 */
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xC0010117u    /* APM vol.2 15.30.4 */

#endif
