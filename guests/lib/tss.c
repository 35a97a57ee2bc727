#include "lib/tss.h"

#include <stdint.h>

#include "lib/layout.h"

#define TSS_TYPE_AVAILABLE_64 0x9ull /* SDM vol.3A 3.5, Table 3-2 */
#define DESC_PRESENT          (1ull << 47)

static struct tss_cpu boot_tss;

void tss_init_cpu(struct tss_cpu *t, uint64_t *gdt)
{
	t->tss = (struct tss64){ 0 };
	t->tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&t->ist_stacks[0][IST_STACK_SIZE];
	t->tss.ist[IST_NMI - 1] = (uint64_t)&t->ist_stacks[1][IST_STACK_SIZE];
	t->tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)&t->ist_stacks[2][IST_STACK_SIZE];
	t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */

	/* 16-byte system-segment descriptor, SDM vol.3A 8.2.3, Figure 8-4. */
	uint64_t base = (uint64_t)&t->tss;
	uint64_t limit = sizeof(t->tss) - 1;
	gdt[GDT_TSS_INDEX] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			     (TSS_TYPE_AVAILABLE_64 << 40) | DESC_PRESENT |
			     (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS_INDEX + 1] = base >> 32;
	__asm__ volatile("ltr %w0" ::"r"(GDT_TSS) : "memory");
}

void tss_init(void)
{
	tss_init_cpu(&boot_tss, boot_gdt);
}
