/* x86 instruction length decoder and intercept classifier; see insn_decode.h.
 *
 * Sources: Intel SDM vol.2 (2.1 instruction format, 2.2 REX, 2.3 VEX, 2.7 EVEX,
 * Appendix A opcode maps: Table A-2 one-byte, A-3 two-byte, A-4/A-5 three-byte,
 * A-6 group extensions) and AMD APM vol.3 (1.2 prefixes, 1.8 XOP, Appendix A).
 *
 * Shape of an instruction (SDM vol.2 Figure 2-1):
 *   [legacy prefixes][REX] opcode(1-3) [ModRM][SIB][displacement][immediate]
 * or, for VEX/EVEX/XOP, [segment/67 prefixes] escape payload opcode ModRM ... */
#include "core/insn_decode.h"

/* ---- the opcode-map attributes (one entry per opcode byte) ---- */

/* Immediate operand kinds, the letters of SDM vol.2 A.2.2. */
enum imm_kind {
	IMM_NONE,
	IMM_B,		/* Ib/Jb: 1 byte */
	IMM_W,		/* Iw: 2 bytes (RET imm16) */
	IMM_Z,		/* Iz: 2 with a 16-bit operand size, else 4 */
	IMM_V,		/* Iv: the operand size, 8 with REX.W (B8-BF MOV imm64) */
	IMM_WB,		/* ENTER Iw, Ib */
	IMM_FAR,	/* Ap: ptr16:16 or ptr16:32 (9A CALLF, EA JMPF) */
	IMM_MOFFS,	/* Ob/Ov: an offset of the address size (A0-A3) */
	IMM_JZ,		/* Jz: rel16/rel32 by the branch's operand size */
	IMM_GRP3,	/* F6/F7 Group 3: Ib/Iz only for /0 and /1 (TEST) */
	IMM_BB,		/* EXTRQ/INSERTQ imm8, imm8 (AMD APM vol.4) */
	IMM_D,		/* Id: 4 bytes whatever the operand size (XOP map A) */
};

#define OP_IMM_MASK	0x000f	/* enum imm_kind */
#define OP_MODRM	0x0010	/* a ModRM byte follows the opcode */
#define OP_I64		0x0020	/* invalid in 64-bit mode (Table A-2 "i64") */
#define OP_PREFIX	0x0040	/* a legacy prefix, consumed before the map lookup */
#define OP_UNDEF	0x0080	/* no instruction at all */
#define OP_D64		0x0100	/* 64-bit operand size by default in 64-bit mode ("d64") */
#define OP_F64		0x0200	/* near branch: operand size forced to 64 ("f64") */
#define OP_ESCAPE	0x0400	/* needs code: 0F, C4/C5/62/8F, 0F 38/3A, 0F 78/79/B8 */
#define OP_MOD_IGNORED	0x0800	/* MOV CR/DR: ModRM.mod ignored, always a register */

/* Short names so the tables below read like the SDM's grid. */
#define ___	0				/* no ModRM, no immediate */
#define M	OP_MODRM
#define Ib	IMM_B
#define Iw	IMM_W
#define Iz	IMM_Z
#define Iv	IMM_V
#define Ob	IMM_MOFFS
#define Jb	(IMM_B | OP_F64)
#define Jz	(IMM_JZ | OP_F64)
#define Ap	(IMM_FAR | OP_I64)
#define X64	OP_I64
#define PFX	OP_PREFIX
#define UND	OP_UNDEF
#define D64	OP_D64
#define F64	OP_F64
#define ESC	OP_ESCAPE
#define CRDR	(OP_MODRM | OP_MOD_IGNORED)

/* SDM vol.2 Table A-2, the one-byte opcode map (APM vol.3 Table A-1). 40-4F are
 * INC/DEC outside 64-bit mode; in 64-bit mode the prefix loop consumes them as
 * REX before this table is reached. */
static const uint16_t one_byte_map[256] = {
/*        0      1      2      3      4      5      6      7      8      9      a      b      c      d      e      f    */
/* 0 */   M,     M,     M,     M,     Ib,    Iz,    X64,   X64,   M,     M,     M,     M,     Ib,    Iz,    X64,   ESC,
/* 1 */   M,     M,     M,     M,     Ib,    Iz,    X64,   X64,   M,     M,     M,     M,     Ib,    Iz,    X64,   X64,
/* 2 */   M,     M,     M,     M,     Ib,    Iz,    PFX,   X64,   M,     M,     M,     M,     Ib,    Iz,    PFX,   X64,
/* 3 */   M,     M,     M,     M,     Ib,    Iz,    PFX,   X64,   M,     M,     M,     M,     Ib,    Iz,    PFX,   X64,
/* 4 */   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,
/* 5 */   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,   D64,
/* 6 */   X64,   X64,   ESC,   M,     PFX,   PFX,   PFX,   PFX,   Iz|D64,M|Iz, Ib|D64,M|Ib, ___,   ___,   ___,   ___,
/* 7 */   Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,    Jb,
/* 8 */   M|Ib,  M|Iz,  M|Ib|X64,M|Ib,M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     ESC,
/* 9 */   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,   Ap,    ___,   D64,   D64,   ___,   ___,
/* a */   Ob,    Ob,    Ob,    Ob,    ___,   ___,   ___,   ___,   Ib,    Iz,    ___,   ___,   ___,   ___,   ___,   ___,
/* b */   Ib,    Ib,    Ib,    Ib,    Ib,    Ib,    Ib,    Ib,    Iv,    Iv,    Iv,    Iv,    Iv,    Iv,    Iv,    Iv,
/* c */   M|Ib,  M|Ib,  Iw|F64,F64,  ESC,   ESC,   M|Ib,  M|Iz,  IMM_WB|D64,D64,Iw, ___,   ___,   Ib,    X64,   ___,
/* d */   M,     M,     M,     M,     Ib|X64,Ib|X64,X64,  ___,   M,     M,     M,     M,     M,     M,     M,     M,
/* e */   Jb,    Jb,    Jb,    Jb,    Ib,    Ib,    Ib,    Ib,    Jz,    Jz,    Ap,    Jb,    ___,   ___,   ___,   ___,
/* f */   PFX,   ___,   PFX,   PFX,   ___,   ___,   M|IMM_GRP3,M|IMM_GRP3,___,___,___, ___,   ___,   ___,   M,     M,
};

/* SDM vol.2 Table A-3, the two-byte opcode map 0F xx (APM vol.3 Table A-4..A-6).
 *   0F 0D: PREFETCH group (AMD) / NOP Ev, PREFETCHW (Intel)
 *   0F 0F: 3DNow!, ModRM then an imm8 that selects the operation (APM vol.3 A.2)
 *   0F 18-1F: prefetch hints and the reserved-NOP space, all with ModRM
 *   0F 20-23: MOV CR/DR; 0F 24/26 (MOV TR, 386/486 only) are gone
 *   0F 78/79: VMREAD/VMWRITE, or SSE4a EXTRQ/INSERTQ by prefix (decoded in code)
 *   0F B8: POPCNT with F3; JMPE (IA-64 only) otherwise
 *   0F FF: UD0, which takes a ModRM byte (SDM vol.2 "UD") */
static const uint16_t two_byte_map[256] = {
/*        0      1      2      3      4      5      6      7      8      9      a      b      c      d      e      f    */
/* 0 */   M,     M,     M,     M,     UND,   ___,   ___,   ___,   ___,   ___,   UND,   ___,   UND,   M,     ___,   M|Ib,
/* 1 */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* 2 */   CRDR,  CRDR,  CRDR,  CRDR,  UND,   UND,   UND,   UND,   M,     M,     M,     M,     M,     M,     M,     M,
/* 3 */   ___,   ___,   ___,   ___,   ___,   ___,   UND,   ___,   ESC,   UND,   ESC,   UND,   UND,   UND,   UND,   UND,
/* 4 */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* 5 */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* 6 */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* 7 */   M|Ib,  M|Ib,  M|Ib,  M|Ib,  M,     M,     M,     ___,   M|ESC, M|ESC, UND,   UND,   M,     M,     M,     M,
/* 8 */   Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,    Jz,
/* 9 */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* a */   D64,   D64,   ___,   M,     M|Ib,  M,     UND,   UND,   D64,   D64,   ___,   M,     M|Ib,  M,     M,     M,
/* b */   M,     M,     M,     M,     M,     M,     M,     M,     M|ESC, M,     M|Ib,  M,     M,     M,     M,     M,
/* c */   M,     M,     M|Ib,  M,     M|Ib,  M|Ib,  M|Ib,  M,     ___,   ___,   ___,   ___,   ___,   ___,   ___,   ___,
/* d */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* e */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
/* f */   M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,     M,
};

#undef ___
#undef M
#undef Ib
#undef Iw
#undef Iz
#undef Iv
#undef Ob
#undef Jb
#undef Jz
#undef Ap
#undef X64
#undef PFX
#undef UND
#undef D64
#undef F64
#undef ESC
#undef CRDR

/* ---- bytes with a fixed meaning ---- */

#define PREFIX_ES		0x26
#define PREFIX_CS		0x2e
#define PREFIX_SS		0x36
#define PREFIX_DS		0x3e
#define PREFIX_FS		0x64
#define PREFIX_GS		0x65
#define PREFIX_OPERAND_SIZE	0x66
#define PREFIX_ADDRESS_SIZE	0x67
#define PREFIX_LOCK		0xf0
#define PREFIX_REPNE		0xf2
#define PREFIX_REP		0xf3

#define REX_MASK	0xf0	/* 0100WRXB, SDM vol.2 2.2.1 */
#define REX_BASE	0x40
#define REX_W		0x08
#define REX_R		0x04
#define REX_X		0x02
#define REX_B		0x01

#define ESCAPE_0F	0x0f	/* two-byte map */
#define ESCAPE_0F38	0x38	/* after 0F: three-byte map 0F 38 */
#define ESCAPE_0F3A	0x3a	/* after 0F: three-byte map 0F 3A */
#define OPCODE_VEX3	0xc4	/* LES outside 64-bit mode unless ModRM.mod=11 */
#define OPCODE_VEX2	0xc5	/* LDS likewise */
#define OPCODE_EVEX	0x62	/* BOUND likewise (SDM vol.2 2.7.1) */
#define OPCODE_XOP	0x8f	/* POP Ev unless map_select >= 8 (APM vol.3 1.8) */

#define MODRM_MOD_REGISTER	3

#define VEX_MAP_0F	1	/* VEX.mmmmm / EVEX.mmm values, SDM vol.2 2.3.6.1 */
#define VEX_MAP_0F38	2
#define VEX_MAP_0F3A	3
#define EVEX_MAP_5	5	/* AVX512-FP16 */
#define EVEX_MAP_6	6
#define XOP_MAP_8	8	/* APM vol.3 1.8.1: every opcode takes an imm8 */
#define XOP_MAP_9	9	/* no immediate */
#define XOP_MAP_A	10	/* imm32 (BEXTR, LWPINS, LWPVAL) */
#define XOP_MAP_MIN	XOP_MAP_8
#define VEX_MAP_SELECT_MASK	0x1f
#define EVEX_MAP_SELECT_MASK	0x07
#define VEX_OPCODE_VZEROALL	0x77	/* VEX 0F 77 VZEROUPPER/VZEROALL: no ModRM */

/* ---- decoder state ---- */

struct decoder {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;			/* next byte to read */
	enum insn_mode mode;
	enum insn_vendor vendor;
	uint8_t last_rep;		/* F2 or F3, the last one seen, or 0 */
	struct insn *out;
};

/* Can n more bytes be read? Too long wins over truncated: if the instruction
 * cannot fit in 15 bytes, more input would not help. */
static int need(const struct decoder *d, size_t n)
{
	if (d->pos + n > INSN_MAX_LENGTH)
		return INSN_ERR_TOO_LONG;
	if (d->pos + n > d->avail)
		return INSN_ERR_TRUNCATED;
	return 0;
}

static int fetch_byte(struct decoder *d, uint8_t *byte)
{
	int err = need(d, 1);
	if (err)
		return err;
	*byte = d->bytes[d->pos++];
	return 0;
}

/* Little-endian, zero-extended. */
static int fetch_le(struct decoder *d, size_t size, uint64_t *value)
{
	int err = need(d, size);
	if (err)
		return err;
	uint64_t v = 0;
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)d->bytes[d->pos + i] << (8 * i);
	d->pos += size;
	*value = v;
	return 0;
}

/* ---- prefixes and sizes ---- */

/* Consumes legacy prefixes in any order and REX; returns the first opcode byte
 * in *opcode. SDM vol.2 2.1.1, 2.2.1: a REX not directly before the opcode is
 * ignored, so a legacy prefix after a REX cancels it. */
static int decode_prefixes(struct decoder *d, uint8_t *opcode)
{
	struct insn *out = d->out;
	for (;;) {
		uint8_t byte;
		int err = fetch_byte(d, &byte);
		if (err)
			return err;
		switch (byte) {
		case PREFIX_ES: case PREFIX_CS: case PREFIX_SS:
		case PREFIX_DS: case PREFIX_FS: case PREFIX_GS:
			out->segment = byte;
			break;
		case PREFIX_OPERAND_SIZE:
			out->operand_size_prefix = true;
			break;
		case PREFIX_ADDRESS_SIZE:
			out->address_size_prefix = true;
			break;
		case PREFIX_LOCK:
			out->lock = true;
			break;
		case PREFIX_REPNE:
		case PREFIX_REP:
			d->last_rep = byte;
			break;
		default:
			if (d->mode == INSN_MODE_LONG64 && (byte & REX_MASK) == REX_BASE) {
				out->rex = byte;	/* a later REX replaces it */
				out->prefix_count++;
				continue;
			}
			*opcode = byte;
			return 0;
		}
		out->rex = 0;
		out->prefix_count++;
	}
}

static void set_rex_bits(struct insn *out, bool w, bool r, bool x, bool b)
{
	out->rex_w = w;
	out->rex_r = r;
	out->rex_x = x;
	out->rex_b = b;
}

/* Operand and address size from the mode and 66/67/REX.W (SDM vol.1 3.6,
 * vol.2 Table 2-4 / APM vol.3 1.2.2-1.2.3). */
static void compute_sizes(struct decoder *d)
{
	struct insn *out = d->out;
	bool p66 = out->operand_size_prefix, p67 = out->address_size_prefix;
	switch (d->mode) {
	case INSN_MODE_LONG64:
		out->operand_size = out->rex_w ? 8 : p66 ? 2 : 4;
		out->address_size = p67 ? 4 : 8;
		break;
	case INSN_MODE_PROT32:
		out->operand_size = p66 ? 2 : 4;
		out->address_size = p67 ? 2 : 4;
		break;
	case INSN_MODE_REAL16:
	case INSN_MODE_PROT16:
		out->operand_size = p66 ? 4 : 2;
		out->address_size = p67 ? 4 : 2;
		break;
	}
}

/* Stack operations (d64) and near branches (f64) in 64-bit mode. A near branch
 * ignores 66h on Intel and honours it on AMD (see enum insn_vendor). */
static void apply_64bit_default(struct decoder *d, uint16_t attr)
{
	struct insn *out = d->out;
	if (d->mode != INSN_MODE_LONG64)
		return;
	if (attr & OP_D64) {
		if (!out->rex_w && !out->operand_size_prefix)
			out->operand_size = 8;
	} else if (attr & OP_F64) {
		bool honour_66 = d->vendor == INSN_VENDOR_AMD && !out->rex_w &&
				 out->operand_size_prefix;
		out->operand_size = honour_66 ? 2 : 8;
	}
}

/* ---- ModRM, SIB, displacement (SDM vol.2 2.1.5, Tables 2-1..2-3) ---- */

static int decode_modrm(struct decoder *d, uint8_t modrm, bool mod_ignored)
{
	struct insn *out = d->out;
	uint8_t mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;

	out->has_modrm = true;
	out->modrm = modrm;
	out->reg = reg | (out->rex_r ? 8 : 0);
	out->rm = rm | (out->rex_b ? 8 : 0);
	out->mod = mod_ignored ? MODRM_MOD_REGISTER : mod;
	if (out->mod == MODRM_MOD_REGISTER)
		return 0;

	uint8_t disp_size = 0;
	if (out->address_size == 2) {
		/* Table 2-1: no SIB; mod=0 rm=6 is [disp16] */
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2 || rm == MODRM16_RM_DISP16)
			disp_size = 2;
	} else {
		/* Tables 2-2/2-3; REX.B does not change which rm values are special */
		if (rm == MODRM_RM_SIB) {
			int err = fetch_byte(d, &out->sib);
			if (err)
				return err;
			out->has_sib = true;
			if (mod == 0 && (out->sib & 7) == SIB_BASE_NONE)
				disp_size = 4;
		} else if (mod == 0 && rm == MODRM_RM_DISP32) {
			disp_size = 4;
			out->rip_relative = d->mode == INSN_MODE_LONG64;
		}
		if (mod == 1)
			disp_size = 1;
		else if (mod == 2)
			disp_size = 4;
	}
	if (disp_size == 0)
		return 0;

	uint64_t raw;
	int err = fetch_le(d, disp_size, &raw);
	if (err)
		return err;
	uint64_t sign = (uint64_t)1 << (8 * disp_size - 1);
	out->displacement = (int64_t)((raw ^ sign) - sign);
	out->displacement_size = disp_size;
	return 0;
}

/* ---- immediates ---- */

static int fetch_immediate(struct decoder *d, uint8_t size)
{
	d->out->immediate_size = size;
	return size ? fetch_le(d, size, &d->out->immediate) : 0;
}

static int fetch_immediate2(struct decoder *d, uint8_t size)
{
	uint64_t v;
	int err = fetch_le(d, size, &v);
	if (err)
		return err;
	d->out->immediate2 = (uint16_t)v;
	d->out->immediate2_size = size;
	return 0;
}

static int decode_immediates(struct decoder *d, enum imm_kind kind)
{
	struct insn *out = d->out;
	uint8_t z = out->operand_size == 2 ? 2 : 4;	/* Iz, Jz */
	int err;

	switch (kind) {
	case IMM_NONE:
		return 0;
	case IMM_B:
		return fetch_immediate(d, 1);
	case IMM_W:
		return fetch_immediate(d, 2);
	case IMM_Z:
	case IMM_JZ:
		return fetch_immediate(d, z);
	case IMM_V:
		return fetch_immediate(d, out->operand_size);
	case IMM_D:
		return fetch_immediate(d, 4);
	case IMM_WB:
		err = fetch_immediate(d, 2);
		return err ? err : fetch_immediate2(d, 1);
	case IMM_BB:
		err = fetch_immediate(d, 1);
		return err ? err : fetch_immediate2(d, 1);
	case IMM_FAR:
		err = fetch_immediate(d, z);		/* offset, then selector */
		return err ? err : fetch_immediate2(d, 2);
	case IMM_GRP3:
		/* F6/F7 /0 and /1 are TEST with an immediate; /2-/7 have none */
		if (((out->modrm >> 3) & 7) > 1)
			return 0;
		return fetch_immediate(d, (out->opcode & 1) ? z : 1);
	case IMM_MOFFS: {
		uint64_t offset;
		err = fetch_le(d, out->address_size, &offset);
		if (err)
			return err;
		out->displacement = (int64_t)offset;
		out->displacement_size = out->address_size;
		return 0;
	}
	}
	return INSN_ERR_UNSUPPORTED;
}

/* ---- VEX, EVEX, XOP (SDM vol.2 2.3, 2.7; APM vol.3 1.8) ---- */

static uint8_t mandatory_prefix_from_pp(uint8_t pp)
{
	static const uint8_t implied[4] = { 0, PREFIX_OPERAND_SIZE, PREFIX_REP, PREFIX_REPNE };
	return implied[pp & 3];
}

/* VEX/EVEX/XOP #UD after 66, F2, F3, F0 or REX (SDM vol.2 2.3.2), and outside
 * protected mode (2.3.3 / APM vol.3 1.8). */
static bool vector_prefix_allowed(const struct decoder *d)
{
	const struct insn *out = d->out;
	return d->mode != INSN_MODE_REAL16 && !out->operand_size_prefix && !d->last_rep &&
	       !out->lock && !out->rex;
}

/* Which VEX/EVEX map-1 (0F) opcodes take an imm8: the same ones as their legacy
 * SSE forms (PSHUFD, the shift groups 12-14, CMPPS, PINSRW, PEXTRW, SHUFPS). */
static bool vex_map1_has_imm8(uint8_t opcode)
{
	return (opcode >= 0x70 && opcode <= 0x73) || opcode == 0xc2 || opcode == 0xc4 ||
	       opcode == 0xc5 || opcode == 0xc6;
}

/* Payload decoded; now opcode, ModRM and immediate. */
static int decode_vector_body(struct decoder *d, uint8_t map, uint8_t imm_size, bool no_modrm_77)
{
	struct insn *out = d->out;
	int err = fetch_byte(d, &out->opcode);
	if (err)
		return err;
	if (map == VEX_MAP_0F && out->encoding != INSN_ENC_XOP)
		imm_size = vex_map1_has_imm8(out->opcode) ? 1 : 0;
	if (!(no_modrm_77 && out->opcode == VEX_OPCODE_VZEROALL)) {
		uint8_t modrm;
		err = fetch_byte(d, &modrm);
		if (err)
			return err;
		err = decode_modrm(d, modrm, false);
		if (err)
			return err;
	}
	return fetch_immediate(d, imm_size);
}

static uint8_t vex_map_to_insn_map(uint8_t map)
{
	switch (map) {
	case VEX_MAP_0F: return INSN_MAP_0F;
	case VEX_MAP_0F38: return INSN_MAP_0F38;
	case VEX_MAP_0F3A: return INSN_MAP_0F3A;
	case EVEX_MAP_5: return INSN_MAP_EVEX5;
	case EVEX_MAP_6: return INSN_MAP_EVEX6;
	case XOP_MAP_8: return INSN_MAP_XOP8;
	case XOP_MAP_9: return INSN_MAP_XOP9;
	default: return INSN_MAP_XOPA;
	}
}

/* The R/X/B/W bits of a VEX-style payload are stored inverted except W; outside
 * 64-bit mode R, X, B do not exist. */
static void set_vector_rex(struct decoder *d, uint8_t rxb_byte, bool w)
{
	bool in64 = d->mode == INSN_MODE_LONG64;
	set_rex_bits(d->out, w, in64 && !(rxb_byte & 0x80), in64 && !(rxb_byte & 0x40),
		     in64 && !(rxb_byte & 0x20));
}

/* C5 payload: R vvvv L pp. C4 payload: R X B mmmmm, W vvvv L pp. */
static int decode_vex(struct decoder *d, uint8_t escape, uint8_t p0)
{
	struct insn *out = d->out;
	if (!vector_prefix_allowed(d))
		return INSN_ERR_INVALID;
	out->encoding = INSN_ENC_VEX;
	if (escape == OPCODE_VEX2) {
		set_rex_bits(out, false, d->mode == INSN_MODE_LONG64 && !(p0 & 0x80), false, false);
		out->mandatory_prefix = mandatory_prefix_from_pp(p0);
		out->opcode_map = INSN_MAP_0F;
		return decode_vector_body(d, VEX_MAP_0F, 0, true);
	}
	uint8_t p1;
	int err = fetch_byte(d, &p1);
	if (err)
		return err;
	uint8_t map = p0 & VEX_MAP_SELECT_MASK;
	if (map < VEX_MAP_0F || map > VEX_MAP_0F3A)
		return INSN_ERR_UNSUPPORTED;	/* reserved, or newer maps (7: URDMSR) */
	set_vector_rex(d, p0, p1 & 0x80);
	out->mandatory_prefix = mandatory_prefix_from_pp(p1);
	out->opcode_map = vex_map_to_insn_map(map);
	return decode_vector_body(d, map, map == VEX_MAP_0F3A ? 1 : 0, map == VEX_MAP_0F);
}

/* 62 P0 P1 P2: P0 = R X B R' 0 mmm, P1 = W vvvv 1 pp, P2 = z L'L b V' aaa. The
 * fixed bits are not checked: APX reuses them, and they do not change length. */
static int decode_evex(struct decoder *d, uint8_t p0)
{
	struct insn *out = d->out;
	if (!vector_prefix_allowed(d))
		return INSN_ERR_INVALID;
	out->encoding = INSN_ENC_EVEX;
	uint64_t p1p2;
	int err = fetch_le(d, 2, &p1p2);
	if (err)
		return err;
	uint8_t p1 = (uint8_t)p1p2;
	uint8_t map = p0 & EVEX_MAP_SELECT_MASK;
	if (map != VEX_MAP_0F && map != VEX_MAP_0F38 && map != VEX_MAP_0F3A &&
	    map != EVEX_MAP_5 && map != EVEX_MAP_6)
		return INSN_ERR_UNSUPPORTED;	/* 4: APX legacy-promoted, 7: newer */
	set_vector_rex(d, p0, p1 & 0x80);
	out->mandatory_prefix = mandatory_prefix_from_pp(p1);
	out->opcode_map = vex_map_to_insn_map(map);
	return decode_vector_body(d, map, map == VEX_MAP_0F3A ? 1 : 0, false);
}

/* 8F P0 P1: P0 = R X B mmmmm (mmmmm >= 8), P1 = W vvvv L pp. */
static int decode_xop(struct decoder *d, uint8_t p0)
{
	struct insn *out = d->out;
	if (!vector_prefix_allowed(d))
		return INSN_ERR_INVALID;
	out->encoding = INSN_ENC_XOP;
	uint8_t p1;
	int err = fetch_byte(d, &p1);
	if (err)
		return err;
	uint8_t map = p0 & VEX_MAP_SELECT_MASK, imm_size;
	switch (map) {
	case XOP_MAP_8: imm_size = 1; break;
	case XOP_MAP_9: imm_size = 0; break;
	case XOP_MAP_A: imm_size = 4; break;
	default: return INSN_ERR_UNSUPPORTED;
	}
	set_vector_rex(d, p0, p1 & 0x80);
	out->mandatory_prefix = mandatory_prefix_from_pp(p1);
	out->opcode_map = vex_map_to_insn_map(map);
	return decode_vector_body(d, map, imm_size, false);
}

/* ---- intercept classification (after sizing) ---- */

static bool has_f2_or_f3(const struct insn *in)
{
	return in->rep || in->repne;
}

/* 0F 01, Group 7 (SDM vol.2 Table A-6; APM vol.3 Table A-7 for SVM, the
 * 0F 01 /7 mod=3 row for RDTSCP, MONITORX, MWAITX, RDPRU, INVLPGB, TLBSYNC). */
static enum insn_kind classify_group7(const struct insn *in)
{
	uint8_t reg = (in->modrm >> 3) & 7;
	if (reg == 4)
		return INSN_KIND_SMSW;		/* memory and register forms */
	if (reg == 6)
		return INSN_KIND_LMSW;
	if (in->mod != MODRM_MOD_REGISTER) {
		static const enum insn_kind memory_forms[8] = {
			INSN_KIND_SGDT, INSN_KIND_SIDT, INSN_KIND_LGDT, INSN_KIND_LIDT,
			INSN_KIND_SMSW, INSN_KIND_OTHER /* RSTORSSP */, INSN_KIND_LMSW,
			INSN_KIND_INVLPG,
		};
		return memory_forms[reg];
	}
	if (has_f2_or_f3(in))
		return INSN_KIND_OTHER;
	switch (in->modrm) {
	case 0xc1: return INSN_KIND_VMCALL;
	case 0xc2: return INSN_KIND_VMLAUNCH;
	case 0xc3: return INSN_KIND_VMRESUME;
	case 0xc4: return INSN_KIND_VMXOFF;
	case 0xc8: return INSN_KIND_MONITOR;
	case 0xc9: return INSN_KIND_MWAIT;
	case 0xd0: return INSN_KIND_XGETBV;
	case 0xd1: return INSN_KIND_XSETBV;
	case 0xd4: return INSN_KIND_VMFUNC;
	case 0xd8: return INSN_KIND_VMRUN;
	case 0xd9: return INSN_KIND_VMMCALL;
	case 0xda: return INSN_KIND_VMLOAD;
	case 0xdb: return INSN_KIND_VMSAVE;
	case 0xdc: return INSN_KIND_STGI;
	case 0xdd: return INSN_KIND_CLGI;
	case 0xde: return INSN_KIND_SKINIT;
	case 0xdf: return INSN_KIND_INVLPGA;
	case 0xf9: return INSN_KIND_RDTSCP;
	case 0xfa: return INSN_KIND_MONITORX;
	case 0xfb: return INSN_KIND_MWAITX;
	case 0xfd: return INSN_KIND_RDPRU;
	case 0xfe: return INSN_KIND_INVLPGB;
	case 0xff: return INSN_KIND_TLBSYNC;
	default: return INSN_KIND_OTHER;
	}
}

/* 0F C7, Group 9: VMX pointer instructions by mandatory prefix (SDM vol.3 31.3),
 * XRSTORS/XSAVES, RDRAND/RDSEED (register forms). */
static enum insn_kind classify_group9(const struct insn *in)
{
	uint8_t reg = (in->modrm >> 3) & 7, prefix = in->mandatory_prefix;
	if (in->mod == MODRM_MOD_REGISTER) {
		if (has_f2_or_f3(in))
			return INSN_KIND_OTHER;		/* F3 /7 is RDPID, F3 /6 SENDUIPI */
		if (reg == 6)
			return INSN_KIND_RDRAND;
		if (reg == 7)
			return INSN_KIND_RDSEED;
		return INSN_KIND_OTHER;
	}
	switch (reg) {
	case 3: return has_f2_or_f3(in) ? INSN_KIND_OTHER : INSN_KIND_XRSTORS;
	case 5: return has_f2_or_f3(in) ? INSN_KIND_OTHER : INSN_KIND_XSAVES;
	case 6:
		if (prefix == PREFIX_REP)
			return INSN_KIND_VMXON;
		if (prefix == PREFIX_OPERAND_SIZE)
			return INSN_KIND_VMCLEAR;
		return prefix == 0 ? INSN_KIND_VMPTRLD : INSN_KIND_OTHER;
	case 7:
		return prefix == 0 ? INSN_KIND_VMPTRST : INSN_KIND_OTHER;
	default:
		return INSN_KIND_OTHER;
	}
}

static enum insn_kind classify_one_byte(const struct insn *in)
{
	switch (in->opcode) {
	case 0x90: return in->rep && !in->rex_b ? INSN_KIND_PAUSE : INSN_KIND_OTHER;
	case 0x9c: return INSN_KIND_PUSHF;
	case 0x9d: return INSN_KIND_POPF;
	case 0x6c: case 0x6d: return INSN_KIND_INS;
	case 0x6e: case 0x6f: return INSN_KIND_OUTS;
	case 0xcc: return INSN_KIND_INT3;
	case 0xcd: return INSN_KIND_INT_N;
	case 0xce: return INSN_KIND_INTO;
	case 0xcf: return INSN_KIND_IRET;
	case 0xe4: case 0xe5: case 0xec: case 0xed: return INSN_KIND_IN;
	case 0xe6: case 0xe7: case 0xee: case 0xef: return INSN_KIND_OUT;
	case 0xf1: return INSN_KIND_INT1;
	case 0xf4: return INSN_KIND_HLT;
	default: return INSN_KIND_OTHER;
	}
}

static enum insn_kind classify_two_byte(const struct insn *in)
{
	static const enum insn_kind group6[8] = {
		INSN_KIND_SLDT, INSN_KIND_STR, INSN_KIND_LLDT, INSN_KIND_LTR,
		INSN_KIND_OTHER, INSN_KIND_OTHER, INSN_KIND_OTHER, INSN_KIND_OTHER,
	};
	switch (in->opcode) {
	case 0x00: return group6[(in->modrm >> 3) & 7];
	case 0x01: return classify_group7(in);
	case 0x05: return INSN_KIND_SYSCALL;
	case 0x06: return INSN_KIND_CLTS;
	case 0x07: return INSN_KIND_SYSRET;
	case 0x08: return INSN_KIND_INVD;
	case 0x09: return in->rep ? INSN_KIND_WBNOINVD : INSN_KIND_WBINVD;
	case 0x0b: return INSN_KIND_UD2;
	case 0x20: return INSN_KIND_MOV_FROM_CR;
	case 0x21: return INSN_KIND_MOV_FROM_DR;
	case 0x22: return INSN_KIND_MOV_TO_CR;
	case 0x23: return INSN_KIND_MOV_TO_DR;
	case 0x30: return INSN_KIND_WRMSR;
	case 0x31: return INSN_KIND_RDTSC;
	case 0x32: return INSN_KIND_RDMSR;
	case 0x33: return INSN_KIND_RDPMC;
	case 0x34: return INSN_KIND_SYSENTER;
	case 0x35: return INSN_KIND_SYSEXIT;
	case 0x37: return INSN_KIND_GETSEC;
	case 0x78: return in->mandatory_prefix == 0 ? INSN_KIND_VMREAD : INSN_KIND_OTHER;
	case 0x79: return in->mandatory_prefix == 0 ? INSN_KIND_VMWRITE : INSN_KIND_OTHER;
	case 0xa2: return INSN_KIND_CPUID;
	case 0xaa: return INSN_KIND_RSM;
	case 0xc7: return classify_group9(in);
	default: return INSN_KIND_OTHER;
	}
}

/* 66 0F 38 80/81/82 (SDM vol.2 "INVEPT", "INVVPID", "INVPCID"). */
static enum insn_kind classify_0f38(const struct insn *in)
{
	if (in->mandatory_prefix != PREFIX_OPERAND_SIZE)
		return INSN_KIND_OTHER;
	switch (in->opcode) {
	case 0x80: return INSN_KIND_INVEPT;
	case 0x81: return INSN_KIND_INVVPID;
	case 0x82: return INSN_KIND_INVPCID;
	default: return INSN_KIND_OTHER;
	}
}

static enum insn_kind classify(const struct insn *in)
{
	if (in->encoding != INSN_ENC_LEGACY)
		return INSN_KIND_OTHER;
	switch (in->opcode_map) {
	case INSN_MAP_ONE_BYTE: return classify_one_byte(in);
	case INSN_MAP_0F: return classify_two_byte(in);
	case INSN_MAP_0F38: return classify_0f38(in);
	default: return INSN_KIND_OTHER;
	}
}

/* ---- the legacy maps ---- */

/* Reads the byte(s) after 0F and returns the map attributes of the opcode. */
static int decode_0f_escape(struct decoder *d, uint16_t *attr)
{
	struct insn *out = d->out;
	uint8_t byte;
	int err = fetch_byte(d, &byte);
	if (err)
		return err;
	if (byte == ESCAPE_0F38 || byte == ESCAPE_0F3A) {
		/* Tables: every 0F 38 opcode takes ModRM and no immediate,
		 * every 0F 3A opcode ModRM and an imm8. */
		out->opcode_map = byte == ESCAPE_0F38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
		*attr = OP_MODRM | (byte == ESCAPE_0F3A ? IMM_B : IMM_NONE);
		return fetch_byte(d, &out->opcode);
	}
	out->opcode_map = INSN_MAP_0F;
	out->opcode = byte;
	*attr = two_byte_map[byte];
	if (!(*attr & OP_ESCAPE))
		return 0;
	*attr &= (uint16_t)~OP_ESCAPE;
	switch (byte) {
	case 0x78:	/* VMREAD; 66: EXTRQ /0 ib ib; F2: INSERTQ ib ib; F3: none */
	case 0x79:	/* VMWRITE; 66: EXTRQ; F2: INSERTQ; F3: none */
		if (out->mandatory_prefix == PREFIX_REP)
			return INSN_ERR_INVALID;
		if (byte == 0x78 && out->mandatory_prefix != 0)
			*attr |= IMM_BB;
		return 0;
	case 0xb8:	/* POPCNT needs F3; plain 0F B8 is JMPE, IA-64 only */
		return out->mandatory_prefix == PREFIX_REP ? 0 : INSN_ERR_INVALID;
	default:
		return INSN_ERR_UNSUPPORTED;
	}
}

/* C4/C5/62/8F: a VEX/EVEX/XOP escape, or LES/LDS/BOUND/POP with this ModRM. */
static int decode_escape_or_modrm_op(struct decoder *d, uint8_t opcode, uint16_t *attr,
				     bool *modrm_done)
{
	uint8_t next;
	int err = fetch_byte(d, &next);
	if (err)
		return err;
	bool register_form = (next >> 6) == MODRM_MOD_REGISTER;
	bool in64 = d->mode == INSN_MODE_LONG64;

	if (opcode == OPCODE_XOP) {
		if ((next & VEX_MAP_SELECT_MASK) >= XOP_MAP_MIN)
			return decode_xop(d, next);
		if ((next >> 3) & 7)
			return INSN_ERR_INVALID;	/* Group 1A: only /0 POP exists */
		*attr = OP_MODRM | OP_D64;
	} else if (in64 || register_form) {
		/* 64-bit mode has no LES/LDS/BOUND; elsewhere their register forms
		 * do not exist, which is what makes room for VEX/EVEX. */
		return opcode == OPCODE_EVEX ? decode_evex(d, next) : decode_vex(d, opcode, next);
	} else {
		*attr = OP_MODRM;		/* LES/LDS Gz,Mp; BOUND Gv,Ma */
	}
	apply_64bit_default(d, *attr);
	*modrm_done = true;
	return decode_modrm(d, next, false);
}

static int decode(struct decoder *d)
{
	struct insn *out = d->out;
	uint8_t opcode;
	int err = decode_prefixes(d, &opcode);
	if (err)
		return err;

	out->rep = d->last_rep == PREFIX_REP;
	out->repne = d->last_rep == PREFIX_REPNE;
	out->mandatory_prefix = d->last_rep ? d->last_rep :
				out->operand_size_prefix ? PREFIX_OPERAND_SIZE : 0;
	set_rex_bits(out, out->rex & REX_W, out->rex & REX_R, out->rex & REX_X, out->rex & REX_B);
	compute_sizes(d);

	out->encoding = INSN_ENC_LEGACY;
	out->opcode_map = INSN_MAP_ONE_BYTE;
	out->opcode = opcode;
	uint16_t attr = one_byte_map[opcode];
	bool modrm_done = false;

	if (opcode == ESCAPE_0F) {
		err = decode_0f_escape(d, &attr);
	} else if (opcode == OPCODE_VEX3 || opcode == OPCODE_VEX2 || opcode == OPCODE_EVEX ||
		   opcode == OPCODE_XOP) {
		err = decode_escape_or_modrm_op(d, opcode, &attr, &modrm_done);
		if (!err && out->encoding != INSN_ENC_LEGACY)
			return 0;	/* VEX/EVEX/XOP complete */
	}
	if (err)
		return err;
	if (attr & OP_UNDEF)
		return INSN_ERR_INVALID;
	if ((attr & OP_I64) && d->mode == INSN_MODE_LONG64)
		return INSN_ERR_INVALID;

	apply_64bit_default(d, attr);
	if ((attr & OP_MODRM) && !modrm_done) {
		uint8_t modrm;
		err = fetch_byte(d, &modrm);
		if (err)
			return err;
		err = decode_modrm(d, modrm, attr & OP_MOD_IGNORED);
		if (err)
			return err;
	}
	if (attr & OP_MOD_IGNORED) {
		/* MOV CR/DR move 64 bits in 64-bit mode, 32 elsewhere, whatever
		 * 66h says (SDM vol.2 "MOV-Move to/from Control Registers"). */
		out->operand_size = d->mode == INSN_MODE_LONG64 ? 8 : 4;
		/* AMD: LOCK MOV CR0 is MOV CR8 (APM vol.3 "MOV CRn", AltMovCr8) */
		if (out->lock && d->vendor == INSN_VENDOR_AMD &&
		    (out->opcode == 0x20 || out->opcode == 0x22))
			out->reg |= 8;
	}
	if (out->opcode_map == INSN_MAP_ONE_BYTE && opcode == 0xff) {
		uint8_t reg = (out->modrm >> 3) & 7;	/* Group 5 */
		if (reg == 2 || reg == 4)
			apply_64bit_default(d, OP_F64);	/* CALL/JMP near indirect */
		else if (reg == 6)
			apply_64bit_default(d, OP_D64);	/* PUSH */
	}
	return decode_immediates(d, (enum imm_kind)(attr & OP_IMM_MASK));
}

int insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode,
		enum insn_vendor vendor, struct insn *out)
{
	*out = (struct insn){ .kind = INSN_KIND_OTHER };
	struct decoder d = {
		.bytes = bytes, .avail = avail, .pos = 0, .mode = mode, .vendor = vendor,
		.last_rep = 0, .out = out,
	};
	int err = decode(&d);
	out->length = (uint8_t)d.pos;
	if (err)
		return err;
	out->kind = classify(out);
	/* Port I/O is at most 32 bits wide; REX.W changes nothing (SDM vol.2 "IN") */
	if ((out->kind == INSN_KIND_IN || out->kind == INSN_KIND_OUT || out->kind == INSN_KIND_INS ||
	     out->kind == INSN_KIND_OUTS) && out->operand_size == 8)
		out->operand_size = 4;
	return 0;
}

enum insn_mode insn_mode_of(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l, bool cs_d)
{
	if (!cr0_pe || rflags_vm)
		return INSN_MODE_REAL16;
	if (efer_lma && cs_l)
		return INSN_MODE_LONG64;
	return cs_d ? INSN_MODE_PROT32 : INSN_MODE_PROT16;
}

const char *insn_kind_name(enum insn_kind kind)
{
	static const char *const names[INSN_KIND_COUNT] = {
		[INSN_KIND_OTHER] = "OTHER",
		[INSN_KIND_CPUID] = "CPUID",
		[INSN_KIND_RDTSC] = "RDTSC",
		[INSN_KIND_RDTSCP] = "RDTSCP",
		[INSN_KIND_RDPMC] = "RDPMC",
		[INSN_KIND_RDMSR] = "RDMSR",
		[INSN_KIND_WRMSR] = "WRMSR",
		[INSN_KIND_HLT] = "HLT",
		[INSN_KIND_PAUSE] = "PAUSE",
		[INSN_KIND_IN] = "IN",
		[INSN_KIND_OUT] = "OUT",
		[INSN_KIND_INS] = "INS",
		[INSN_KIND_OUTS] = "OUTS",
		[INSN_KIND_INVLPG] = "INVLPG",
		[INSN_KIND_INVLPGA] = "INVLPGA",
		[INSN_KIND_INVD] = "INVD",
		[INSN_KIND_WBINVD] = "WBINVD",
		[INSN_KIND_WBNOINVD] = "WBNOINVD",
		[INSN_KIND_MONITOR] = "MONITOR",
		[INSN_KIND_MWAIT] = "MWAIT",
		[INSN_KIND_MONITORX] = "MONITORX",
		[INSN_KIND_MWAITX] = "MWAITX",
		[INSN_KIND_XGETBV] = "XGETBV",
		[INSN_KIND_XSETBV] = "XSETBV",
		[INSN_KIND_VMRUN] = "VMRUN",
		[INSN_KIND_VMMCALL] = "VMMCALL",
		[INSN_KIND_VMLOAD] = "VMLOAD",
		[INSN_KIND_VMSAVE] = "VMSAVE",
		[INSN_KIND_STGI] = "STGI",
		[INSN_KIND_CLGI] = "CLGI",
		[INSN_KIND_SKINIT] = "SKINIT",
		[INSN_KIND_VMCALL] = "VMCALL",
		[INSN_KIND_VMLAUNCH] = "VMLAUNCH",
		[INSN_KIND_VMRESUME] = "VMRESUME",
		[INSN_KIND_VMXOFF] = "VMXOFF",
		[INSN_KIND_VMXON] = "VMXON",
		[INSN_KIND_VMCLEAR] = "VMCLEAR",
		[INSN_KIND_VMPTRLD] = "VMPTRLD",
		[INSN_KIND_VMPTRST] = "VMPTRST",
		[INSN_KIND_VMREAD] = "VMREAD",
		[INSN_KIND_VMWRITE] = "VMWRITE",
		[INSN_KIND_INVEPT] = "INVEPT",
		[INSN_KIND_INVVPID] = "INVVPID",
		[INSN_KIND_VMFUNC] = "VMFUNC",
		[INSN_KIND_INVPCID] = "INVPCID",
		[INSN_KIND_MOV_TO_CR] = "MOV_TO_CR",
		[INSN_KIND_MOV_FROM_CR] = "MOV_FROM_CR",
		[INSN_KIND_MOV_TO_DR] = "MOV_TO_DR",
		[INSN_KIND_MOV_FROM_DR] = "MOV_FROM_DR",
		[INSN_KIND_LMSW] = "LMSW",
		[INSN_KIND_CLTS] = "CLTS",
		[INSN_KIND_SMSW] = "SMSW",
		[INSN_KIND_LGDT] = "LGDT",
		[INSN_KIND_SGDT] = "SGDT",
		[INSN_KIND_LIDT] = "LIDT",
		[INSN_KIND_SIDT] = "SIDT",
		[INSN_KIND_LLDT] = "LLDT",
		[INSN_KIND_SLDT] = "SLDT",
		[INSN_KIND_LTR] = "LTR",
		[INSN_KIND_STR] = "STR",
		[INSN_KIND_INT_N] = "INT_N",
		[INSN_KIND_INT3] = "INT3",
		[INSN_KIND_INTO] = "INTO",
		[INSN_KIND_INT1] = "INT1",
		[INSN_KIND_IRET] = "IRET",
		[INSN_KIND_POPF] = "POPF",
		[INSN_KIND_PUSHF] = "PUSHF",
		[INSN_KIND_RSM] = "RSM",
		[INSN_KIND_UD2] = "UD2",
		[INSN_KIND_SYSCALL] = "SYSCALL",
		[INSN_KIND_SYSRET] = "SYSRET",
		[INSN_KIND_SYSENTER] = "SYSENTER",
		[INSN_KIND_SYSEXIT] = "SYSEXIT",
		[INSN_KIND_GETSEC] = "GETSEC",
		[INSN_KIND_RDRAND] = "RDRAND",
		[INSN_KIND_RDSEED] = "RDSEED",
		[INSN_KIND_XSAVES] = "XSAVES",
		[INSN_KIND_XRSTORS] = "XRSTORS",
		[INSN_KIND_RDPRU] = "RDPRU",
		[INSN_KIND_INVLPGB] = "INVLPGB",
		[INSN_KIND_TLBSYNC] = "TLBSYNC",
	};
	if ((unsigned)kind >= INSN_KIND_COUNT || !names[kind])
		return "?";
	return names[kind];
}

const char *insn_error_name(int result)
{
	switch (result) {
	case 0: return "ok";
	case INSN_ERR_TRUNCATED: return "truncated";
	case INSN_ERR_TOO_LONG: return "too long";
	case INSN_ERR_INVALID: return "invalid";
	case INSN_ERR_UNSUPPORTED: return "unsupported";
	default: return "?";
	}
}
