#include "core/bios_int15_hook.h"

#include "core/bios_int15.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/run.h"
#include "core/string.h"
#include "core/vcpu.h"
#include "core/x86.h"

#define CR0_PROTECTION_ENABLE 1ull /* CR0.PE, SDM vol.3A 2.5 */
#define REAL_MODE_VECTOR_MIN 0x400u /* an IVT entry pointing into the IVT is no handler */

void bios_int15_install(struct machine *m)
{
	if (m->bi->path != BOOT_PATH_MULTIBOOT)
		return; /* UEFI: no INT 15h, the firmware's map is the guest's (efi_memmap.c) */
	volatile uint16_t *bda_kib = phys_to_virt(BDA_BASE_MEMORY_KIB);
	volatile uint32_t *ivt15 = phys_to_virt(IVT_INT15);
	uint16_t base_kib = *bda_kib;
	uint32_t old_vector = *ivt15;
	uint64_t old_linear = ((old_vector >> 16) << 4) + (old_vector & 0xffffu);
	struct guest_memmap *g = &m->guest_map;
	uint64_t usable_top = 0;
	for (bool grew = true; grew;) { /* the usable memory that runs on from 0 */
		grew = false;
		for (uint32_t i = 0; i < g->nr_ranges; i++)
			if (g->ranges[i].type == MEM_USABLE && g->ranges[i].base <= usable_top &&
			    g->ranges[i].base + g->ranges[i].length > usable_top) {
				usable_top = g->ranges[i].base + g->ranges[i].length;
				grew = true;
			}
	}
	uint64_t stub_base, top;
	uint16_t new_kib;
	if (old_linear < REAL_MODE_VECTOR_MIN ||
	    bios_int15_place(base_kib, usable_top, bios_int15_stub_size, &stub_base, &top,
			     &new_kib)) {
		kprintf("nestbed: no BIOS INT 15h to hook (IVT[15h] %04x:%04x, base memory %u KiB): "
			"a guest must take the memory map from Multiboot\n",
			old_vector >> 16, old_vector & 0xffffu, base_kib);
		return;
	}
	int n = memmap_is_usable(g->ranges, g->nr_ranges, stub_base, top - stub_base) ?
			memmap_carve(g->ranges, g->nr_ranges, BOOT_MAX_MEM_RANGES, stub_base,
				     top - stub_base, MEM_RESERVED) : -1;
	if (n < 0) {
		kprintf("nestbed: BIOS INT 15h not hooked: [%#llx-%#llx) below the base-memory top is "
			"not usable RAM in the map, or the map is full\n",
			(unsigned long long)stub_base, (unsigned long long)top);
		return;
	}
	g->nr_ranges = (uint32_t)n;

	bios_int15_stub_build(phys_to_virt(stub_base), old_vector, m->caps.svm);
	*bda_kib = new_kib;
	*ivt15 = (uint32_t)(stub_base >> 4) << 16; /* segment stub_base / 16, offset 0 */
	m->int15 = (struct bios_int15_hook){
		.installed = true,
		.stub_base = stub_base,
		.hypercall_linear = stub_base + bios_int15_stub_hypercall,
	};
	kprintf("nestbed: BIOS INT 15h hooked at %04llx:0000 (E820h, E801h, 88h from the guest's "
		"map; base memory %u -> %u KiB; old vector %04x:%04x)\n",
		(unsigned long long)(stub_base >> 4), base_kib, new_kib, old_vector >> 16,
		old_vector & 0xffffu);
}

bool bios_int15_hypercall(struct vcpu *v, struct exit *e)
{
	const struct bios_int15_hook *h = &machine.int15;
	struct vcpu_state *s = &v->state;
	if (!h->installed || v->level != 1 || (s->cr0 & CR0_PROTECTION_ENABLE) ||
	    s->cs_base + (s->rip & 0xffffu) != h->hypercall_linear)
		return false;
	struct bios_int15_regs r = {
		.eax = (uint32_t)s->gpr.rax, .ebx = (uint32_t)s->gpr.rbx,
		.ecx = (uint32_t)s->gpr.rcx, .edx = (uint32_t)s->gpr.rdx,
		.buffer = (uint32_t)s->gpr.rsi,
	};
	struct bios_e820_entry entry;
	const struct guest_memmap *g = &machine.guest_map;
	uint32_t len = bios_int15_answer(g->ranges, g->nr_ranges, &r, &entry);
	/* The buffer is the guest's own memory, never nestbed's (vcpu_phys_write refuses). */
	if (len && vcpu_phys_write(v, r.buffer, &entry, len)) {
		r.eax = (r.eax & 0xffff00ffu) | (BIOS_STATUS_UNSUPPORTED << 8);
		r.cf = true;
	}
	s->gpr.rax = (s->gpr.rax & ~0xffffffffull) | r.eax;
	s->gpr.rbx = (s->gpr.rbx & ~0xffffffffull) | r.ebx;
	s->gpr.rcx = (s->gpr.rcx & ~0xffffffffull) | r.ecx;
	s->gpr.rdx = (s->gpr.rdx & ~0xffffffffull) | r.edx;
	s->rflags = r.cf ? s->rflags | RFLAGS_CF : s->rflags & ~RFLAGS_CF;
	vcpu_skip_instruction(v, e);
	return true;
}
