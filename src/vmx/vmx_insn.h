/* The VMX instructions as C (SDM vol.3 chapter 30). Each that can fail returns its
 * outcome as 30.2 defines it: VMsucceed (CF=0, ZF=0), VMfailInvalid (CF=1: no current
 * VMCS to hold an error number) or VMfailValid (ZF=1: the number is in the current
 * VMCS's VM-instruction error field). Freestanding builds only. */
#ifndef NESTBED_VMX_INSN_H
#define NESTBED_VMX_INSN_H

#include <stdint.h>

#include "vmx/vmcs.h"

enum vmx_result {
	VMX_OK = 0,
	VMX_FAIL_INVALID = 1,
	VMX_FAIL_VALID = 2,
};

#define VMX_RESULT_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_OK)

static inline enum vmx_result vmxon(uint64_t region_pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %[pa]" : "=@ccc"(cf), "=@ccz"(zf) : [pa] "m"(region_pa) : "memory", "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmclear(uint64_t vmcs_pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %[pa]" : "=@ccc"(cf), "=@ccz"(zf) : [pa] "m"(vmcs_pa) : "memory", "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmptrld(uint64_t vmcs_pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %[pa]" : "=@ccc"(cf), "=@ccz"(zf) : [pa] "m"(vmcs_pa) : "memory", "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmcs_write_checked(uint32_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %[value], %[field]"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : [field] "r"((uint64_t)field), [value] "rm"(value)
			 : "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmcs_read_checked(uint32_t field, uint64_t *value)
{
	uint8_t cf, zf;
	uint64_t v = 0;
	__asm__ volatile("vmread %[field], %[value]"
			 : "=@ccc"(cf), "=@ccz"(zf), [value] "=rm"(v)
			 : [field] "r"((uint64_t)field)
			 : "cc");
	*value = v;
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %[desc], %[type]"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : [desc] "m"(desc), [type] "r"(type)
			 : "memory", "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
	struct { uint64_t vpid, linear; } desc = { vpid, linear };
	uint8_t cf, zf;
	__asm__ volatile("invvpid %[desc], %[type]"
			 : "=@ccc"(cf), "=@ccz"(zf)
			 : [desc] "m"(desc), [type] "r"(type)
			 : "memory", "cc");
	return VMX_RESULT_FROM_FLAGS(cf, zf);
}

#endif
