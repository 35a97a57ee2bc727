/* Loads the guest kernel (the first module) into guest memory and describes how it
 * starts. Multiboot 1 kernels get what a Multiboot loader gives (spec 0.6.96, 3.2-3.3):
 * the information structure with nestbed's memory reserved in its memory map, the
 * command line, the remaining modules as theirs. */
#ifndef NESTBED_GUEST_LOAD_H
#define NESTBED_GUEST_LOAD_H

#include "core/machine.h"
#include "core/vmm.h"

/* Fatal, with a one-line reason, on a bad image; returns only on success. */
void guest_load(struct machine *m, struct guest_start *start);

#endif
