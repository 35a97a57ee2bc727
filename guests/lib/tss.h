/* The 64-bit TSS: interrupt stacks (IST) for the exceptions that must work even when
 * the current stack is broken, and a non-zero TR, which VMX requires of a host. Each
 * CPU has its own (a TSS descriptor is busy once loaded, SDM vol.3A 8.2.2). */
#ifndef GUEST_TSS_H
#define GUEST_TSS_H

#include <stdint.h>

/* IST slots used by the IDT (1-based, SDM vol.3A 7.14.5). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE   8192

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

/* One CPU's TSS and its IST stacks. */
struct tss_cpu {
	uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));
	struct tss64 tss;
};

/* The boot CPU's: its TSS in boot_gdt, loaded into TR. */
void tss_init(void);

/* Any CPU's: fills t, writes its descriptor into gdt at GDT_TSS and loads TR (the GDT
 * must be the one GDTR points at). */
void tss_init_cpu(struct tss_cpu *t, uint64_t *gdt);

#endif
