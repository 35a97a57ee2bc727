#include "lib/realmode.h"

#include "core/string.h"

#define REALMODE_DATA_OFFSET 0x600u /* realmode.asm DATA: struct realmode_regs first */

extern const uint8_t realmode_blob[], realmode_blob_end[];
extern const uint32_t realmode_vector_offset;
void realmode_enter(void);

void realmode_int(uint8_t vector, struct realmode_regs *regs)
{
	uint8_t *low = (uint8_t *)(uintptr_t)REALMODE_BASE;
	__asm__("" : "+r"(low)); /* a real address, not a constant the compiler may fold */
	memcpy(low, realmode_blob, (size_t)(realmode_blob_end - realmode_blob));
	low[realmode_vector_offset] = vector;
	memcpy(low + REALMODE_DATA_OFFSET, regs, sizeof(*regs));
	realmode_enter();
	memcpy(regs, low + REALMODE_DATA_OFFSET, sizeof(*regs));
}
