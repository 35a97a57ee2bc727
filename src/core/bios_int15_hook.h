/* nestbed's INT 15h hook on BIOS machines (see bios_int15.h): installed before the guest
 * runs, answered at the stub's hypercall. */
#ifndef NESTBED_BIOS_INT15_HOOK_H
#define NESTBED_BIOS_INT15_HOOK_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct vcpu;
struct exit;

/* Where the stub lives once installed (machine-wide: one BIOS, one IVT). */
struct bios_int15_hook {
	bool installed;
	uint64_t stub_base;        /* physical; the stub runs at stub_base / 16 : 0 */
	uint64_t hypercall_linear; /* its hypercall instruction */
};

/* Multiboot (BIOS) machines: takes the stub's pages from conventional memory, reserves
 * them in m->guest_map, writes the stub, the BDA's base-memory size and IVT[15h]. On
 * UEFI the firmware's map is the guest's already and there is no INT 15h: nothing. */
void bios_int15_install(struct machine *m);

/* The hypercall exit of the stub (L1, real mode, at the stub's hypercall): answers it
 * and returns true; false for any other hypercall. */
bool bios_int15_hypercall(struct vcpu *v, struct exit *e);

#endif
