/* The firmware's text consoles as an extra sink of nestbed's console. */
#ifndef NESTBED_EFI_CONSOLE_H
#define NESTBED_EFI_CONSOLE_H

/* Registers the firmware's non-serial text outputs (the GOP console on a screen) with
 * console_set_extra_sink(). Serial terminals are left out: COM1 already carries every
 * line, and OVMF's terminal on COM1 would print each one a second time. Does nothing
 * when there is no such output. Needs boot services. */
void efi_console_attach(void);

#endif
