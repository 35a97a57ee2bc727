/* Starting the runtime, shared by the entry paths: entry.asm (Multiboot 1) calls
 * guest_start() in main.c; the UEFI entry (guests/efi/) fills guest_boot_info itself,
 * leaves the firmware and calls guest_runtime_init() and guest_main(). */
#ifndef GUEST_START_H
#define GUEST_START_H

/* COM1, the TSS and the IDT: what every later step, even an error message, needs.
 * Expects the runtime's GDT (layout.h) to be loaded. */
void guest_runtime_init(void);

/* Parses guest_boot_info.cmdline, then lists or runs the selected probes and exits
 * through the exit protocol (exit.h). */
__attribute__((noreturn)) void guest_main(void);

#endif
