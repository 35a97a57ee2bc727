#include "lib/tss.h"

#include <stdint.h>

#include "lib/layout.h"

/* SDM vol.3A 8.7 "Task management in 64-bit mode", Figure 8-11. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout");

#define TSS_TYPE_AVAILABLE_64 0x9ull /* SDM vol.3A 3.5, Table 3-2 */
#define DESC_PRESENT          (1ull << 47)
#define IST_STACK_SIZE        8192

static struct tss64 tss;
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void tss_init(void)
{
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&ist_stacks[0][IST_STACK_SIZE];
	tss.ist[IST_NMI - 1] = (uint64_t)&ist_stacks[1][IST_STACK_SIZE];
	tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)&ist_stacks[2][IST_STACK_SIZE];
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */

	/* 16-byte system-segment descriptor, SDM vol.3A 8.2.3, Figure 8-4. */
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	boot_gdt[GDT_TSS_INDEX] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				  (TSS_TYPE_AVAILABLE_64 << 40) | DESC_PRESENT |
				  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	boot_gdt[GDT_TSS_INDEX + 1] = base >> 32;
	__asm__ volatile("ltr %w0" ::"r"(GDT_TSS) : "memory");
}
