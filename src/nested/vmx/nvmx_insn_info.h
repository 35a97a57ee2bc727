/* The VM-exit instruction-information field of the VMX instructions (SDM vol.3 27.2.5,
 * tables 27-13 and 27-14) decoded, and the linear address of a memory operand. Pure,
 * host-tested. */
#ifndef NESTBED_NVMX_INSN_INFO_H
#define NESTBED_NVMX_INSN_INFO_H

#include <stdbool.h>
#include <stdint.h>

struct nvmx_insn_info {
	unsigned scale;        /* bits 1:0: index scaled by 1 << scale */
	unsigned reg1;         /* bits 6:3: VMREAD/VMWRITE register operand (when is_reg) */
	unsigned addr_size;    /* bits 9:7: 0 16-bit, 1 32-bit, 2 64-bit */
	bool is_reg;           /* bit 10: VMREAD/VMWRITE operand is a register */
	unsigned segment;      /* bits 17:15: ES, CS, SS, DS, FS, GS */
	unsigned index_reg;    /* bits 21:18 */
	bool index_valid;      /* bit 22 clear */
	unsigned base_reg;     /* bits 26:23 */
	bool base_valid;       /* bit 27 clear */
	unsigned reg2;         /* bits 31:28: VMREAD/VMWRITE field encoding, INVEPT/INVVPID type */
};

#define NVMX_SEG_FS 4u
#define NVMX_SEG_GS 5u

void nvmx_decode_insn_info(uint32_t info, struct nvmx_insn_info *out);

/* The operand's linear address: segment base + base + index * scale + displacement
 * (the exit qualification, 27.2.1), truncated to the address size; in 64-bit mode only
 * FS and GS have a base (3.4.4). regs[i] is the register numbered i (0 RAX ... 15 R15). */
uint64_t nvmx_operand_address(const struct nvmx_insn_info *in, const uint64_t regs[16],
			      uint64_t displacement, uint64_t segment_base, bool long64);

#endif
