/* DecodeAssists for L1 (CPUID 8000_000Ah EDX bit 7, APM vol.2 15.33): the EXITINFO1
 * values and the instruction-bytes rule a CPU with the feature gives, computed from the
 * L2 instruction nestbed decoded itself, so that nestbed can offer the feature on a
 * CPU without it (QEMU TCG, Bochs), as it does for NRIPS.
 *
 * Pure: no globals, no guest memory; compiles for the host for the unit tests
 * (tests/unit/test_nsvm_decode_assists.c). */
#ifndef NESTBED_NSVM_DECODE_ASSISTS_H
#define NESTBED_NSVM_DECODE_ASSISTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/insn_decode.h"

/* MOV CRx/DRx (and the selective CR0 write) EXITINFO1, APM vol.2 15.33.1 (tables 15-2,
 * 15-3): bits 3:0 the general-purpose register; bit 63 set for a MOV to or from a CR,
 * clear for LMSW, CLTS and SMSW (no register then) and for every MOV DR. */
#define DA_CR_MOV (1ull << 63)
#define DA_CR_DR_GPR_MASK 0xfull
/* IOIO EXITINFO1 bits 12:10, the effective segment of a string instruction (APM vol.2
 * 15.10.2 figure 15-2, 15.10.3). */
#define DA_IOIO_SEG_SHIFT 10
#define DA_IOIO_SEG_MASK (7ull << DA_IOIO_SEG_SHIFT)
/* Segment numbers as SVM reports them (the ModRM sreg order, APM vol.3 1.4.1). */
enum da_segment { DA_SEG_ES, DA_SEG_CS, DA_SEG_SS, DA_SEG_DS, DA_SEG_FS, DA_SEG_GS, DA_SEG_COUNT };

/* What an address computation needs of the vCPU that ran the instruction. */
struct da_cpu {
	uint64_t gpr[16];                  /* by encoding number: RAX RCX RDX RBX RSP RBP RSI RDI R8.. */
	uint64_t rip;                      /* of the instruction */
	uint64_t seg_base[DA_SEG_COUNT];
	bool long64;                       /* 64-bit mode: only FS and GS have a base */
};

/* EXITINFO1 for a MOV CRx/DRx intercept or a selective CR0 write: DA_CR_MOV | GPR for
 * MOV to/from CR, the GPR alone for MOV to/from DR, 0 for anything else (CLTS, LMSW,
 * SMSW). */
uint64_t da_cr_dr_info1(const struct insn *insn);

/* The segment a memory operand uses: the override prefix, else SS for a BP/SP-based
 * address, else DS (APM vol.3 1.2.4 / SDM vol.1 3.7.4). */
enum da_segment da_operand_segment(const struct insn *insn);

/* The linear address of the instruction's ModRM memory operand (INVLPG's EXITINFO1,
 * APM vol.2 15.33.3; INVLPGA's is not given: its address is in rAX): segment base + effective address, the effective address cut to
 * the address size, the sum to 32 bits outside 64-bit mode. -1 for a register operand
 * or an instruction without ModRM. */
int da_modrm_linear(const struct insn *insn, const struct da_cpu *cpu, uint64_t *linear);

/* INTn's EXITINFO1 (APM vol.2 15.33.2): the vector, the instruction's imm8. */
uint64_t da_intn_info1(const struct insn *insn);

/* IOIO EXITINFO1 bits 12:10 for the instruction: OUTS reads DS:rSI (or an override),
 * INS writes ES:rDI (no override possible); 0 for IN and OUT (APM vol.3 "INS", "OUTS"). */
uint64_t da_ioio_seg_bits(const struct insn *insn);

/* Does this #VMEXIT carry instruction bytes (APM vol.2 15.33.4)? Only a #PF intercept
 * or a nested page fault, and only for a data access: a fault on an instruction fetch
 * (EXITINFO1 bit 4, the I/D bit of the error code) provides none. The bytes are 15
 * from CS:RIP, fewer only where fetching them faults. */
#define DA_EXIT_PF 0x4eu  /* exception intercept 40h + 14 */
#define DA_EXIT_NPF 0x400u
#define DA_FAULT_FETCH (1ull << 4)
bool da_exit_has_insn_bytes(uint32_t exitcode, uint64_t info1);

/* Does DecodeAssists give this exit anything (15.33): an EXITINFO1 (CR and DR accesses
 * 00h-3Fh, the selective CR0 write 65h, INTn 75h, INVLPG 79h, IOIO 7Bh) or instruction
 * bytes (#PF 4Eh, NPF 400h)? Every other exit keeps EXITINFO1 as it is and has a byte
 * count of 0: one bit test, no decode. */
#define DA_EXIT_LAST_DR 0x3fu
#define DA_EXIT_MASK_BASE 0x40u
#define DA_EXIT_MASK ((1ull << (0x4e - 0x40)) | (1ull << (0x65 - 0x40)) | (1ull << (0x75 - 0x40)) | \
		      (1ull << (0x79 - 0x40)) | (1ull << (0x7b - 0x40)))
static inline bool da_exit_may_assist(uint32_t exitcode)
{
	if (exitcode <= DA_EXIT_LAST_DR)
		return true;
	if (exitcode - DA_EXIT_MASK_BASE < 64)
		return (DA_EXIT_MASK >> (exitcode - DA_EXIT_MASK_BASE)) & 1;
	return exitcode == DA_EXIT_NPF;
}

/* How many of the 15 bytes lie within CS: all in 64-bit mode, else those up to the CS
 * limit from EIP ("exceeding the CS limit" ends the fetch, 15.33.4). */
unsigned da_insn_bytes_within_cs(bool long64, uint32_t cs_limit, uint64_t rip);

#endif
