/* Helpers the isolation/ probes of the doors to nestbed's memory share (fw_cfg DMA,
 * SMRAM, SMM MSRs, SMI): is nestbed there, its canary (compared without ever holding
 * the unmasked value in memory, so isolation/l0-canary's scan stays clean), where its
 * memory is, port I/O and PCI configuration mechanism #1. */
#ifndef GUEST_ISOLATION_L0_DOORS_H
#define GUEST_ISOLATION_L0_DOORS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/boot_info.h"
#include "lib/memory_map.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"

static inline void io_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void io_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint32_t io_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint8_t io_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void io_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }

/* nestbed's canary as it hands it out: masked ^ key is the canary. */
struct l0_canary {
	uint64_t key, m0, m1;
};

/* PROBE_PASS with the canary, or a SKIP ("not running under nestbed ...") / FAIL. */
static inline enum probe_status l0_canary_get(struct probe_run *run, struct l0_canary *c)
{
	static uint64_t masked[2] __attribute__((aligned(16)));
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_CANARY, (uint64_t)masked,
				     sizeof(masked), 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome o = nestbed_hypercall(&r, &vector);
	if (o == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the canary hypercall raised vector %llu", (unsigned long long)vector);
	if (o != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(o));
	if (r.rax != 0)
		return probe_fail(run, "canary hypercall: expected status 0, observed %#llx",
				  (unsigned long long)r.rax);
	c->key = r.rdx;
	c->m0 = masked[0];
	c->m1 = masked[1];
	return PROBE_PASS;
}

/* Is the canary still the one `before` saw? (m ^ key compared as m ^ m' == key ^ key') */
static inline enum probe_status l0_canary_same(struct probe_run *run, const struct l0_canary *before,
					       const char *after_what)
{
	struct l0_canary now = { 0, 0, 0 };
	enum probe_status s = l0_canary_get(run, &now);
	if (s != PROBE_PASS)
		return s == PROBE_SKIP ? probe_fail(run, "nestbed stopped answering %s", after_what) : s;
	if ((before->m0 ^ now.m0) != (before->key ^ now.key) ||
	    (before->m1 ^ now.m1) != (before->key ^ now.key))
		return probe_fail(run, "nestbed's canary changed %s", after_what);
	return PROBE_PASS;
}

/* nestbed's memory as its guest's memory map shows it: the first reserved range at or
 * above 1 MiB with usable memory above it (the firmware's reserved ranges lie below
 * 1 MiB or above the last usable byte). */
static inline bool l0_reserved_range(uint64_t *base, uint64_t *length)
{
	const struct guest_boot_info *b = &guest_boot_info;
	if (!b->has_memory_map)
		return false;
	for (unsigned i = 0; i < b->nr_memory_ranges; i++) {
		const struct memory_range *r = &b->memory_ranges[i];
		if (r->type != MEMORY_RESERVED || r->base < 0x100000 || !r->length)
			continue;
		for (unsigned j = 0; j < b->nr_memory_ranges; j++) {
			const struct memory_range *u = &b->memory_ranges[j];
			if (u->type == MEMORY_USABLE && u->base >= memory_range_end(r)) {
				*base = r->base;
				*length = r->length;
				return true;
			}
		}
	}
	return false;
}

#define L0_PAGE 4096ull

/* The first whole 4 KiB page of nestbed's range (a target for an instruction that takes
 * a page-aligned physical address): PROBE_PASS with *pa, or a FAIL saying why there is
 * none. Says in a diagnostic what `use` aims there. */
static inline enum probe_status l0_first_page(struct probe_run *run, uint64_t *pa, const char *use)
{
	uint64_t base, length;
	if (!l0_reserved_range(&base, &length))
		return probe_fail(run, "no reserved range above 1 MiB in the memory map under nestbed");
	*pa = (base + L0_PAGE - 1) & ~(L0_PAGE - 1);
	if (*pa + L0_PAGE > base + length)
		return probe_fail(run, "nestbed's range [%#llx, +%#llx) holds no whole page",
				  (unsigned long long)base, (unsigned long long)length);
	diag("nestbed's memory: [%#llx, +%#llx), %s at %#llx", (unsigned long long)base,
	     (unsigned long long)length, use, (unsigned long long)*pa);
	return PROBE_PASS;
}

/* PCI configuration mechanism #1, bus 0 device 0 function 0 (the host bridge). */
#define PCI_CFG_ADDRESS 0xcf8
#define PCI_CFG_DATA 0xcfc
static inline uint8_t host_bridge_read8(uint8_t reg)
{
	io_outl(PCI_CFG_ADDRESS, 0x80000000u | (reg & 0xfcu));
	return io_inb((uint16_t)(PCI_CFG_DATA + (reg & 3)));
}
static inline void host_bridge_write8(uint8_t reg, uint8_t v)
{
	io_outl(PCI_CFG_ADDRESS, 0x80000000u | (reg & 0xfcu));
	io_outb((uint16_t)(PCI_CFG_DATA + (reg & 3)), v);
}
static inline uint32_t host_bridge_id(void)
{
	io_outl(PCI_CFG_ADDRESS, 0x80000000u);
	return io_inl(PCI_CFG_DATA);
}

#endif
