#include "lib/realmode.h"

#include "core/string.h"
#include "lib/cpu.h"
#include "lib/vmx.h"

#define REALMODE_DATA_OFFSET 0x600u /* realmode.asm DATA: struct realmode_regs first */

extern const uint8_t realmode_blob[], realmode_blob_end[];
extern const uint32_t realmode_vector_offset;
void realmode_enter(void);

static uint64_t cr4_read(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void cr4_write(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

int realmode_int(uint8_t vector, struct realmode_regs *regs)
{
	/* In VMX operation CR0.PE and CR0.PG are fixed to 1 (SDM vol.3C 24.8, A.7): clearing
	 * them is #GP. Leave it around the call (the mini-hypervisor enables VMX once per
	 * boot and loads a fresh VMCS for every VM) and enter it again with its region. */
	bool vmx = (cr4_read() & CR4_VMXE) != 0;
	if (vmx) {
		if (vmxoff() != VMX_OK)
			return -1;
		cr4_write(cr4_read() & ~CR4_VMXE);
	}
	uint8_t *low = (uint8_t *)(uintptr_t)REALMODE_BASE;
	__asm__("" : "+r"(low)); /* a real address, not a constant the compiler may fold */
	memcpy(low, realmode_blob, (size_t)(realmode_blob_end - realmode_blob));
	low[realmode_vector_offset] = vector;
	memcpy(low + REALMODE_DATA_OFFSET, regs, sizeof(*regs));
	realmode_enter();
	memcpy(regs, low + REALMODE_DATA_OFFSET, sizeof(*regs));
	if (vmx) {
		cr4_write(cr4_read() | CR4_VMXE);
		if (vmxon(mhv_vmx_vmxon_pa()) != VMX_OK)
			return -1;
	}
	return 0;
}
