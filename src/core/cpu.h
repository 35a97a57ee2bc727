/* Thin wrappers over privileged x86 instructions (freestanding builds only). */
#ifndef NESTBED_CPU_H
#define NESTBED_CPU_H

#include <stdint.h>

#include "core/x86.h"

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* An IRET to the next instruction: ends any blocking of NMIs on this CPU (SDM vol.3
 * 6.7.1: NMIs stay blocked until the next IRET), with the current CS, SS and RFLAGS. */
static inline void cpu_unblock_nmi(void)
{
	__asm__ volatile("mov %%ss, %%eax\n\t"
			 "push %%rax\n\t"
			 "lea 8(%%rsp), %%rax\n\t"
			 "push %%rax\n\t"
			 "pushfq\n\t"
			 "mov %%cs, %%eax\n\t"
			 "push %%rax\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "iretq\n"
			 "1:" ::: "rax", "memory", "cc");
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define DEFINE_CR_ACCESSORS(n)                                                   \
	static inline uint64_t read_cr##n(void)                                  \
	{                                                                        \
		uint64_t v;                                                      \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));               \
		return v;                                                        \
	}                                                                        \
	static inline void write_cr##n(uint64_t v)                               \
	{                                                                        \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");         \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define CPUID_1_ECX_XSAVE (1u << 26) /* SDM vol.2A CPUID leaf 1 */

/* The state INIT leaves (SDM vol.3 table 9-1; APM vol.2 table 14-1): real mode at
 * F000:FFF0 with CS base FFFF0000h; a startup IPI's vector v starts at v<<8 : 0. */
#define CR0_INIT 0x60000010ull /* CD, NW, ET */
#define INIT_CS_SELECTOR 0xf000
#define INIT_CS_BASE 0xffff0000ull
#define INIT_RIP 0xfff0ull

#endif
