#include "core/gdt.h"

/* Descriptor encodings: SDM vol.3 3.4.5 and 7.2.3 (64-bit TSS descriptor). */
#define DESC_CODE64 0x00AF9A000000FFFFull /* present, DPL0, execute/read, L=1 */
#define DESC_DATA 0x00CF92000000FFFFull   /* present, DPL0, read/write */
#define DESC_TSS_AVAILABLE 0x89ull        /* present, type 9: available 64-bit TSS */

void gdt_load(struct cpu_tables *t)
{
	uint64_t tss = (uint64_t)(uintptr_t)&t->tss;
	uint64_t limit = sizeof(t->tss) - 1;
	t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */
	t->gdt[0] = 0;
	t->gdt[1] = DESC_CODE64;
	t->gdt[2] = DESC_DATA;
	t->gdt[3] = (limit & 0xFFFF) | ((tss & 0xFFFFFF) << 16) | (DESC_TSS_AVAILABLE << 40) |
		    (((limit >> 16) & 0xF) << 48) | (((tss >> 24) & 0xFF) << 56);
	t->gdt[4] = tss >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt };

	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\t"
			 "mov %1, %%es\n\t"
			 "mov %1, %%ss\n\t"
			 "pushq %2\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "r"((uint64_t)GDT_SEL_DATA), "i"(GDT_SEL_CODE64),
			   "r"((uint64_t)GDT_SEL_TSS)
			 : "rax", "memory");
}
