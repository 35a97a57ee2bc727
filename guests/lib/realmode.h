/* A software interrupt in real mode from the 64-bit conformance guest (BIOS services:
 * INT 15h E820h). The guest leaves long mode through compatibility mode, turns paging
 * and protected mode off, runs `int n` with the BIOS's IVT, and comes back the same way
 * (SDM vol.3A 10.9.2 "Switching Back to Real-Address Mode", 10.8.5). The code runs from
 * a copy in conventional memory, which the caller must own: REALMODE_BASE to
 * REALMODE_END (code, data and a buffer at REALMODE_BUFFER, then the real-mode stack).
 * Interrupts stay disabled around it (the BIOS may enable them in its handler: the IVT
 * is in place). Only for Multiboot (BIOS) boots. */
#ifndef GUEST_REALMODE_H
#define GUEST_REALMODE_H

#include <stdint.h>

#define REALMODE_BASE 0x6000u          /* segment REALMODE_BASE >> 4, offset 0 */
#define REALMODE_END 0x8000u
#define REALMODE_SEGMENT (REALMODE_BASE >> 4)
#define REALMODE_BUFFER_OFFSET 0x800u  /* a buffer the caller may point ES:DI at */
#define REALMODE_BUFFER_SIZE 0x800u
#define REALMODE_BUFFER (REALMODE_BASE + REALMODE_BUFFER_OFFSET)

/* The registers the interrupt gets and leaves (segments as real-mode selectors). */
struct realmode_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
	uint16_t es, ds;
	uint32_t eflags; /* out only */
} __attribute__((packed));

#define REALMODE_EFLAGS_CF 1u

/* Runs `int vector` in real mode with *regs; *regs gets the registers after it. In VMX
 * operation (CR4.VMXE, where PE and PG cannot be cleared) it leaves VMX operation around
 * the call and enters it again with the mini-hypervisor's VMXON region. 0, or -1 when
 * VMXOFF or VMXON failed. */
int realmode_int(uint8_t vector, struct realmode_regs *regs);

#endif
