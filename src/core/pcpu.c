#include "core/pcpu.h"

#include "core/machine.h"

struct pcpu *pcpu_this(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	struct machine *m = &machine;
	for (unsigned i = 0; i < m->nr_cpus && m->cpus; i++)
		if (gdtr.base == (uint64_t)(uintptr_t)m->cpus[i].tables.gdt)
			return &m->cpus[i];
	return &m->early_cpu;
}
