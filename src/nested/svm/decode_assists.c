/* DecodeAssists values from a decoded instruction: see decode_assists.h. */
#include "nested/svm/decode_assists.h"
#include "core/insn_decode.h"

#define MODRM_MOD_REG 3
#define SIB_NO_INDEX 4        /* index = 100b without REX.X: no index */
#define GPR_RBX 3
#define GPR_RSP 4
#define GPR_RBP 5
#define GPR_RSI 6
#define GPR_RDI 7
#define LEGACY_ADDRESS_MASK 0xffffffffull

uint64_t da_cr_dr_info1(const struct insn *insn)
{
	switch (insn->kind) {
	case INSN_KIND_MOV_TO_CR:
	case INSN_KIND_MOV_FROM_CR:
		return DA_CR_MOV | (insn->rm & DA_CR_DR_GPR_MASK);
	case INSN_KIND_MOV_TO_DR:
	case INSN_KIND_MOV_FROM_DR:
		return insn->rm & DA_CR_DR_GPR_MASK;
	default:
		return 0;
	}
}

static enum da_segment segment_of_prefix(uint8_t prefix)
{
	switch (prefix) {
	case 0x26: return DA_SEG_ES;
	case 0x2e: return DA_SEG_CS;
	case 0x36: return DA_SEG_SS;
	case 0x64: return DA_SEG_FS;
	case 0x65: return DA_SEG_GS;
	default: return DA_SEG_DS;
	}
}

/* Is the memory operand addressed through BP or SP (SS by default)? */
static bool stack_based(const struct insn *insn)
{
	if (insn->address_size == 2) {
		unsigned rm = insn->rm & 7;
		/* [BP+SI], [BP+DI], and [BP+disp] (not mod 0 rm 110b, a bare disp16) */
		return rm == 2 || rm == 3 || (rm == MODRM16_RM_DISP16 && insn->mod != 0);
	}
	if ((insn->rm & 7) == MODRM_RM_SIB && insn->has_sib) {
		unsigned base = (insn->sib & 7) | (insn->rex_b ? 8u : 0);
		if ((insn->sib & 7) == SIB_BASE_NONE && insn->mod == 0)
			return false;
		return base == GPR_RSP || base == GPR_RBP;
	}
	if ((insn->rm & 7) == MODRM_RM_DISP32 && insn->mod == 0)
		return false;
	return insn->rm == GPR_RBP;
}

enum da_segment da_operand_segment(const struct insn *insn)
{
	if (insn->segment)
		return segment_of_prefix(insn->segment);
	return stack_based(insn) ? DA_SEG_SS : DA_SEG_DS;
}

/* The 16-bit ModRM forms (SDM vol.2 table 2-1): base BX or BP, index SI or DI. */
static uint64_t ea16(const struct insn *insn, const struct da_cpu *cpu)
{
	static const int8_t base_of_rm[8] = { GPR_RBX, GPR_RBX, GPR_RBP, GPR_RBP, -1, -1, GPR_RBP, GPR_RBX };
	static const int8_t index_of_rm[8] = { GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI, -1, -1 };
	unsigned rm = insn->rm & 7;
	uint64_t ea = (uint64_t)insn->displacement;
	if (rm == MODRM16_RM_DISP16 && insn->mod == 0)
		return ea;
	if (base_of_rm[rm] >= 0)
		ea += cpu->gpr[base_of_rm[rm]];
	if (index_of_rm[rm] >= 0)
		ea += cpu->gpr[index_of_rm[rm]];
	return ea;
}

static uint64_t ea32_64(const struct insn *insn, const struct da_cpu *cpu)
{
	uint64_t ea = (uint64_t)insn->displacement;
	if (insn->rip_relative)
		return cpu->rip + insn->length + ea;
	if ((insn->rm & 7) == MODRM_RM_SIB && insn->has_sib) {
		unsigned scale = insn->sib >> 6;
		unsigned index = ((insn->sib >> 3) & 7) | (insn->rex_x ? 8u : 0);
		unsigned base = (insn->sib & 7) | (insn->rex_b ? 8u : 0);
		if (index != SIB_NO_INDEX)
			ea += cpu->gpr[index] << scale;
		if (!((insn->sib & 7) == SIB_BASE_NONE && insn->mod == 0))
			ea += cpu->gpr[base];
		return ea;
	}
	if ((insn->rm & 7) == MODRM_RM_DISP32 && insn->mod == 0)
		return ea; /* disp32 alone (outside 64-bit mode) */
	return ea + cpu->gpr[insn->rm & 15];
}

static uint64_t address_size_mask(uint8_t size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

int da_modrm_linear(const struct insn *insn, const struct da_cpu *cpu, uint64_t *linear)
{
	if (!insn->has_modrm || insn->mod == MODRM_MOD_REG)
		return -1;
	uint64_t ea = insn->address_size == 2 ? ea16(insn, cpu) : ea32_64(insn, cpu);
	ea &= address_size_mask(insn->address_size);
	enum da_segment seg = da_operand_segment(insn);
	if (cpu->long64) {
		/* 64-bit mode: ES, CS, SS and DS have base 0 (APM vol.2 4.12.2) */
		*linear = ea + (seg == DA_SEG_FS || seg == DA_SEG_GS ? cpu->seg_base[seg] : 0);
		return 0;
	}
	*linear = (ea + cpu->seg_base[seg]) & LEGACY_ADDRESS_MASK;
	return 0;
}

uint64_t da_intn_info1(const struct insn *insn)
{
	return insn->kind == INSN_KIND_INT_N ? insn->immediate & 0xff : 0;
}

uint64_t da_ioio_seg_bits(const struct insn *insn)
{
	enum da_segment seg;
	if (insn->kind == INSN_KIND_OUTS)
		seg = insn->segment ? segment_of_prefix(insn->segment) : DA_SEG_DS;
	else
		seg = DA_SEG_ES; /* INS: always ES; IN and OUT have no memory operand */
	return (uint64_t)seg << DA_IOIO_SEG_SHIFT;
}

bool da_exit_has_insn_bytes(uint32_t exitcode, uint64_t info1)
{
	return (exitcode == DA_EXIT_PF || exitcode == DA_EXIT_NPF) && !(info1 & DA_FAULT_FETCH);
}

unsigned da_insn_bytes_within_cs(bool long64, uint32_t cs_limit, uint64_t rip)
{
	if (long64)
		return INSN_MAX_LENGTH;
	uint64_t eip = rip & LEGACY_ADDRESS_MASK;
	if (eip > cs_limit)
		return 0;
	uint64_t room = (uint64_t)cs_limit - eip + 1;
	return room < INSN_MAX_LENGTH ? (unsigned)room : INSN_MAX_LENGTH;
}
