#include "lib/idt.h"

#include <stdint.h>

#include "lib/exception.h"
#include "lib/layout.h"
#include "lib/tss.h"

/* 64-bit interrupt gate, SDM vol.3A 6.14.1 Figure 6-8. */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attributes;
	uint16_t offset_middle;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

#define IDT_VECTORS 256
#define GATE_INTERRUPT_64 0x8e /* present, DPL 0, type 0xE: IF cleared on entry */

extern const uint64_t exception_stub_table[IDT_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

static uint8_t ist_for(unsigned vector)
{
	switch (vector) {
	case EXC_DF: return IST_DOUBLE_FAULT;
	case EXC_NMI: return IST_NMI;
	case EXC_MC: return IST_MACHINE_CHECK;
	default: return 0;
	}
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint64_t stub = exception_stub_table[v];
		idt[v] = (struct idt_gate){
			.offset_low = stub & 0xffff,
			.selector = GDT_CODE64,
			.ist = ist_for(v),
			.type_attributes = GATE_INTERRUPT_64,
			.offset_middle = (stub >> 16) & 0xffff,
			.offset_high = stub >> 32,
		};
	}
	idt_load();
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) pointer = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" ::"m"(pointer) : "memory");
}
