#include "nested/vmx/nvmx_insn_info.h"

void nvmx_decode_insn_info(uint32_t info, struct nvmx_insn_info *out)
{
	out->scale = info & 3u;
	out->reg1 = (info >> 3) & 0xfu;
	out->addr_size = (info >> 7) & 7u;
	out->is_reg = (info >> 10) & 1u;
	out->segment = (info >> 15) & 7u;
	out->index_reg = (info >> 18) & 0xfu;
	out->index_valid = !((info >> 22) & 1u);
	out->base_reg = (info >> 23) & 0xfu;
	out->base_valid = !((info >> 27) & 1u);
	out->reg2 = (info >> 28) & 0xfu;
}

uint64_t nvmx_operand_address(const struct nvmx_insn_info *in, const uint64_t regs[16],
			      uint64_t displacement, uint64_t segment_base, bool long64)
{
	uint64_t a = displacement;
	if (in->base_valid)
		a += regs[in->base_reg];
	if (in->index_valid)
		a += regs[in->index_reg] << in->scale;
	if (in->addr_size == 0)
		a &= 0xffffull;
	else if (in->addr_size == 1)
		a &= 0xffffffffull;
	if (!long64 || in->segment == NVMX_SEG_FS || in->segment == NVMX_SEG_GS)
		a += segment_base;
	return long64 ? a : a & 0xffffffffull;
}
