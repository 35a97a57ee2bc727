#include "nested/vmx/nvmx_l2_vmrw.h"

#define ENCODING_LOW_BITS 0x7fffull   /* 25.6.15: bits 14:0 select the bitmap bit */
#define LOW32 0xffffffffull

bool nvmx_vmcs_bitmap_exits(uint64_t bitmap, uint32_t encoding, nvmx_read_byte_fn read_byte, const void *ctx)
{
	uint8_t byte;
	if (read_byte(ctx, bitmap + (encoding >> 3), &byte))
		return true;
	return (byte >> (encoding & 7)) & 1;
}

enum nvmx_l2_vmrw_outcome nvmx_l2_vmrw_decide(const struct nvmx_l2_vmrw *in, nvmx_read_byte_fn read_byte,
					      const void *ctx, struct vmcs12_field *f)
{
	f->slot = -1;
	/* VMREAD/VMWRITE "Operation": the exit comes before the CPL check */
	if (!in->shadowing)
		return NVMX_L2_VMRW_EXIT;
	uint64_t encoding = in->long64 ? in->encoding : in->encoding & LOW32;
	if (encoding & ~ENCODING_LOW_BITS)
		return NVMX_L2_VMRW_EXIT;
	if (nvmx_vmcs_bitmap_exits(in->bitmap, (uint32_t)encoding, read_byte, ctx))
		return NVMX_L2_VMRW_EXIT;
	if (in->cpl)
		return NVMX_L2_VMRW_GP;
	if (in->link_pointer == NVMX_LINK_POINTER_NONE)
		return NVMX_L2_VMRW_FAIL_INVALID;
	if (!vmcs12_field_lookup((uint32_t)encoding, f))
		return NVMX_L2_VMRW_FAIL_UNSUPPORTED;
	if (in->write && f->read_only && !in->vmwrite_any)
		return NVMX_L2_VMRW_FAIL_READ_ONLY;
	return NVMX_L2_VMRW_ACCESS;
}
