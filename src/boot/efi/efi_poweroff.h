/* Powering the machine off through the firmware, for the core's exit path. */
#ifndef NESTBED_EFI_POWEROFF_H
#define NESTBED_EFI_POWEROFF_H

/* ResetSystem(EfiResetShutdown): the last step of platform_exit() on real firmware,
 * after the emulator exit ports had no effect. Returns only if the firmware refuses. */
void nestbed_uefi_poweroff(int code);

#endif
