/* x86 instruction decoder: finds the length of the instruction at a guest RIP and
 * classifies the instructions a hypervisor intercepts.
 *
 * Why: on AMD-V without NRIPS (QEMU TCG) the VMCB's next_rip is 0, so after an
 * intercepted instruction nestbed must size it to advance the guest RIP; the same
 * decoder lets nestbed offer NRIPS to an L1 on a CPU without it.
 *
 * Pure and vendor-neutral: no libc, no globals; compiles freestanding for nestbed
 * and on the host for the unit tests (tests/unit/test_insn_decode.c).
 *
 * Coverage. Sized exactly: the one-byte map, the 0F map, the 0F38 and 0F3A maps,
 * 3DNow! (0F 0F), VEX (C4/C5, maps 0F/0F38/0F3A), EVEX (62, maps 0F/0F38/0F3A/5/6)
 * and AMD XOP (8F, maps 8/9/A). Refused with INSN_ERR_UNSUPPORTED: VEX maps other
 * than 1-3, EVEX maps 0/4/7 (APX, newer AVX10), XOP maps other than 8-A.
 * Refused with INSN_ERR_INVALID: opcodes that exist in no map, opcodes invalid in
 * the given mode (SDM vol.2 Table A-2 "i64"), VEX/EVEX/XOP after 66/F2/F3/F0/REX,
 * VEX/EVEX/XOP in real mode, POP Ev (8F) with ModRM.reg != 0.
 * Not checked (the CPU raises #UD; the length returned is the one the opcode
 * map gives): LOCK on a non-lockable instruction, undefined ModRM.reg values
 * inside a group, memory-only forms used with mod=3, vendor-only instructions
 * (3DNow!, XOP, SSE4a on Intel; VMX on AMD; SVM on Intel).
 */
#ifndef NESTBED_INSN_DECODE_H
#define NESTBED_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The architectural maximum, SDM vol.2 2.3.11 / APM vol.3 1.1: a longer
 * instruction raises #GP. */
#define INSN_MAX_LENGTH 15

/* Default operand and address size of the code being decoded. */
enum insn_mode {
	INSN_MODE_REAL16,	/* CR0.PE=0 or RFLAGS.VM=1: 16-bit, no VEX/EVEX/XOP */
	INSN_MODE_PROT16,	/* protected/compatibility mode, CS.D=0 */
	INSN_MODE_PROT32,	/* protected/compatibility mode, CS.D=1 */
	INSN_MODE_LONG64,	/* EFER.LMA=1 and CS.L=1 */
};

/* The one length difference between the vendors: in 64-bit mode AMD honours a
 * 66h prefix on near CALL/JMP/Jcc rel (rel16), Intel ignores it (rel32)
 * (SDM vol.1 3.6.1 / vol.2 "JMP": operand size fixed at 64; APM vol.3 "CALL"). */
enum insn_vendor {
	INSN_VENDOR_INTEL,
	INSN_VENDOR_AMD,
};

enum insn_encoding {
	INSN_ENC_LEGACY,	/* optional legacy prefixes and REX, then the opcode */
	INSN_ENC_VEX,		/* C4/C5 */
	INSN_ENC_EVEX,		/* 62 */
	INSN_ENC_XOP,		/* 8F with map_select >= 8 (AMD) */
};

/* Opcode map of insn.opcode (SDM vol.2 Appendix A.3). */
enum insn_map {
	INSN_MAP_ONE_BYTE = 1,
	INSN_MAP_0F = 2,	/* includes 3DNow! as opcode 0F, its suffix in immediate */
	INSN_MAP_0F38 = 3,
	INSN_MAP_0F3A = 4,
	INSN_MAP_EVEX5 = 5,	/* EVEX map 5 (AVX512-FP16) */
	INSN_MAP_EVEX6 = 6,	/* EVEX map 6 */
	INSN_MAP_XOP8 = 8,
	INSN_MAP_XOP9 = 9,
	INSN_MAP_XOPA = 10,
};

/* The instructions a hypervisor intercepts; everything else that sizes is OTHER.
 * Prefixes that make an encoding a different instruction are honoured (F3 90 is
 * PAUSE, F3 0F C7 /6 is VMXON); the 0F 01 mod=3 forms are classified only
 * without an F2/F3 prefix, because prefixed forms there are other instructions
 * (F3 0F 01 FA is MCOMMIT, not MONITORX). */
enum insn_kind {
	INSN_KIND_OTHER = 0,
	INSN_KIND_CPUID,
	INSN_KIND_RDTSC,
	INSN_KIND_RDTSCP,
	INSN_KIND_RDPMC,
	INSN_KIND_RDMSR,
	INSN_KIND_WRMSR,
	INSN_KIND_HLT,
	INSN_KIND_PAUSE,
	INSN_KIND_IN,		/* E4 E5 EC ED */
	INSN_KIND_OUT,		/* E6 E7 EE EF */
	INSN_KIND_INS,		/* 6C 6D, see insn.rep */
	INSN_KIND_OUTS,		/* 6E 6F */
	INSN_KIND_INVLPG,
	INSN_KIND_INVLPGA,
	INSN_KIND_INVD,
	INSN_KIND_WBINVD,
	INSN_KIND_WBNOINVD,
	INSN_KIND_MONITOR,
	INSN_KIND_MWAIT,
	INSN_KIND_MONITORX,
	INSN_KIND_MWAITX,
	INSN_KIND_XGETBV,
	INSN_KIND_XSETBV,
	INSN_KIND_VMRUN,
	INSN_KIND_VMMCALL,
	INSN_KIND_VMLOAD,
	INSN_KIND_VMSAVE,
	INSN_KIND_STGI,
	INSN_KIND_CLGI,
	INSN_KIND_SKINIT,
	INSN_KIND_VMCALL,
	INSN_KIND_VMLAUNCH,
	INSN_KIND_VMRESUME,
	INSN_KIND_VMXOFF,
	INSN_KIND_VMXON,
	INSN_KIND_VMCLEAR,
	INSN_KIND_VMPTRLD,
	INSN_KIND_VMPTRST,
	INSN_KIND_VMREAD,
	INSN_KIND_VMWRITE,
	INSN_KIND_INVEPT,
	INSN_KIND_INVVPID,
	INSN_KIND_VMFUNC,
	INSN_KIND_INVPCID,
	INSN_KIND_MOV_TO_CR,	/* CR number in insn.reg (on AMD, LOCK MOV CR0 gives 8:
				 * APM vol.3 "MOV CRn"), GPR in insn.rm */
	INSN_KIND_MOV_FROM_CR,
	INSN_KIND_MOV_TO_DR,
	INSN_KIND_MOV_FROM_DR,
	INSN_KIND_LMSW,
	INSN_KIND_CLTS,
	INSN_KIND_SMSW,
	INSN_KIND_LGDT,
	INSN_KIND_SGDT,
	INSN_KIND_LIDT,
	INSN_KIND_SIDT,
	INSN_KIND_LLDT,
	INSN_KIND_SLDT,
	INSN_KIND_LTR,
	INSN_KIND_STR,
	INSN_KIND_INT_N,	/* vector in insn.immediate */
	INSN_KIND_INT3,
	INSN_KIND_INTO,
	INSN_KIND_INT1,		/* F1, ICEBP */
	INSN_KIND_IRET,
	INSN_KIND_POPF,
	INSN_KIND_PUSHF,
	INSN_KIND_RSM,
	INSN_KIND_UD2,
	INSN_KIND_SYSCALL,
	INSN_KIND_SYSRET,
	INSN_KIND_SYSENTER,
	INSN_KIND_SYSEXIT,
	INSN_KIND_GETSEC,
	INSN_KIND_RDRAND,
	INSN_KIND_RDSEED,
	INSN_KIND_XSAVES,
	INSN_KIND_XRSTORS,
	INSN_KIND_RDPRU,
	INSN_KIND_INVLPGB,
	INSN_KIND_TLBSYNC,
	INSN_KIND_COUNT
};

/* insn_decode results: 0 or one of these. */
enum insn_error {
	INSN_ERR_TRUNCATED = -1,	/* needs more than `avail` bytes: fetch more, retry */
	INSN_ERR_TOO_LONG = -2,		/* would exceed INSN_MAX_LENGTH (#GP) */
	INSN_ERR_INVALID = -3,		/* no such instruction in this mode (#UD) */
	INSN_ERR_UNSUPPORTED = -4,	/* exists (or may), but this decoder cannot size it */
};

struct insn {
	uint8_t length;			/* bytes, 1..INSN_MAX_LENGTH */
	enum insn_kind kind;
	enum insn_encoding encoding;
	uint8_t opcode_map;		/* enum insn_map */
	uint8_t opcode;			/* the opcode byte within opcode_map */

	/* Legacy prefixes as they appeared. Where a group repeats, the last wins. */
	uint8_t prefix_count;		/* legacy and REX prefix bytes before the opcode
					 * (or before the VEX/EVEX/XOP escape) */
	bool operand_size_prefix;	/* 66 */
	bool address_size_prefix;	/* 67 */
	bool lock;			/* F0 */
	bool rep;			/* F3 was the last of F2/F3 */
	bool repne;			/* F2 was the last of F2/F3 */
	uint8_t segment;		/* 26 2E 36 3E 64 65, or 0 */
	/* 0, 66, F2 or F3: the prefix that selects among SSE-style forms (the last
	 * F2/F3, else 66); for VEX/EVEX/XOP the one implied by the pp field. */
	uint8_t mandatory_prefix;

	/* REX (64-bit mode, directly before the opcode), or the same bits taken from
	 * a VEX/EVEX/XOP payload. rex is the raw byte, 0 when absent. */
	uint8_t rex;
	bool rex_w, rex_r, rex_x, rex_b;

	/* Effective operand size in bytes, 2, 4 or 8, with the 64-bit defaults of
	 * stack operations and near branches. Byte-sized opcodes (IN AL, MOVSB) do not
	 * lower it: an I/O access is 1 byte for an even opcode, else operand_size
	 * (at most 4 for port I/O). */
	uint8_t operand_size;
	uint8_t address_size;		/* effective, in bytes: 2, 4 or 8 */

	bool has_modrm;
	uint8_t modrm;
	uint8_t mod;			/* modrm bits 7:6 (3 for MOV CR/DR whatever the byte says) */
	uint8_t reg;			/* modrm bits 5:3 plus REX.R as bit 3 */
	uint8_t rm;			/* modrm bits 2:0 plus REX.B as bit 3 */
	bool has_sib;
	uint8_t sib;
	bool rip_relative;		/* 64-bit mode, mod=0 rm=5 */

	uint8_t displacement_size;	/* 0, 1, 2, 4 (ModRM) or 2, 4, 8 (A0-A3 moffs) */
	int64_t displacement;		/* sign-extended; moffs zero-extended */

	/* Immediates, zero-extended. The second one exists for ENTER (imm8 level),
	 * far CALL/JMP ptr16:16/32 (selector), EXTRQ/INSERTQ (index). */
	uint8_t immediate_size;		/* 0, 1, 2, 4 or 8 */
	uint64_t immediate;
	uint8_t immediate2_size;	/* 0, 1 or 2 */
	uint16_t immediate2;
};

/* Decodes the instruction at bytes[0..avail). Returns 0 and fills *out, or a
 * negative enum insn_error (then *out holds what was decoded so far). Reads at
 * most min(avail, INSN_MAX_LENGTH) bytes. */
int insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode,
		enum insn_vendor vendor, struct insn *out);

/* The length of the few instructions that exit most often, when bytes[0..avail) starts
 * with one of them without prefixes: CPUID, RDMSR, WRMSR, RDTSC, RDPMC, INVD, WBINVD,
 * UD2, HLT, IN/OUT (imm8 and DX), and 0F 01 with a register ModRM (the SVM and VMX
 * instructions, RDTSCP, XSETBV, ...). Their length is the same in every mode. 0 for
 * anything else: then insn_decode decides.
 * Inlined: it runs at every such exit on a CPU without NRIPS. */
/* 0F xx below 40h that insn_length_quick answers: INVD 08, WBINVD 09, UD2 0B, WRMSR 30,
 * RDTSC 31, RDMSR 32, RDPMC 33 (one bit per second byte) */
#define INSN_QUICK_0F_LOW ((1ull << 0x08) | (1ull << 0x09) | (1ull << 0x0b) | (1ull << 0x30) | \
			   (1ull << 0x31) | (1ull << 0x32) | (1ull << 0x33))
static inline unsigned insn_length_quick(const uint8_t *bytes, size_t avail)
{
	if (avail < 1)
		return 0;
	unsigned b0 = bytes[0];
	if (b0 == 0x0f) { /* the two-byte map first: CPUID and RDMSR exit most */
		if (avail < 2)
			return 0;
		unsigned b1 = bytes[1];
		if (b1 == 0xa2)        /* CPUID */
			return 2;
		if (b1 == 0x01)        /* group 7: with mod = 11b no SIB, displacement or immediate */
			return avail >= 3 && (bytes[2] & 0xc0) == 0xc0 ? 3 : 0;
		return b1 < 64 && ((INSN_QUICK_0F_LOW >> b1) & 1) ? 2 : 0;
	}
	switch (b0) {
	case 0xf4:             /* HLT */
	case 0xec: case 0xed:  /* IN AL/eAX, DX */
	case 0xee: case 0xef:  /* OUT DX, AL/eAX */
		return 1;
	case 0xe4: case 0xe5:  /* IN AL/eAX, imm8 */
	case 0xe6: case 0xe7:  /* OUT imm8, AL/eAX */
		return avail >= 2 ? 2 : 0;
	default:
		return 0;
	}
}

/* The mode from the guest's state (SDM vol.3 2.2 / APM vol.2 1.2). A real-mode
 * CS whose cached D bit is 1 is not modelled: real mode is always 16-bit here. */
enum insn_mode insn_mode_of(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l,
			    bool cs_d);

/* For traces: "CPUID", "MOV_TO_CR", ...; "?" outside the enum. */
const char *insn_kind_name(enum insn_kind kind);
/* "ok", "truncated", "too long", "invalid", "unsupported"; "?" otherwise. */
const char *insn_error_name(int result);

/* ModRM and SIB encodings (SDM vol.2A 2.1.5 tables 2-1 to 2-3) */
#define MODRM_RM_SIB 4        /* rm = 100b: a SIB byte follows (32/64-bit addressing) */
#define MODRM_RM_DISP32 5     /* mod = 0, rm = 101b: disp32, RIP-relative in 64-bit mode */
#define MODRM16_RM_DISP16 6   /* 16-bit addressing, mod = 0, rm = 110b: [disp16] only */
#define SIB_BASE_NONE 5       /* base = 101b with mod = 0: no base, disp32 */

#endif
