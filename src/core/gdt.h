/* nestbed's GDT and TSS (one per CPU): VMX needs a non-zero host TR (SDM vol.3 26.2.3). */
#ifndef NESTBED_GDT_H
#define NESTBED_GDT_H

#include <stdint.h>

#define GDT_SEL_CODE64 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct cpu_tables {
	uint64_t gdt[5]; /* null, code64, data, tss (two slots) */
	struct tss64 tss;
};

/* Builds and loads the GDT and TSS, reloads the segment registers. */
void gdt_load(struct cpu_tables *t);

#endif
