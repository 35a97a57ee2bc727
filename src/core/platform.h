/* How a run ends: the exit protocol shared with the guests and the harness.
 * Print `exit-port: <code>`, drain COM1, outb(code, 0xf4) (QEMU isa-debug-exit),
 * "Shutdown" to port 0x8900 (Bochs), then the boot path's power-off hook. */
#ifndef NESTBED_PLATFORM_H
#define NESTBED_PLATFORM_H

#define EXIT_CODE_OK 0
#define EXIT_CODE_FAILURES 1
#define EXIT_CODE_FATAL 2

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

_Noreturn void platform_exit(int code);

/* A one-line fatal error: prints `nestbed: <message>` and exits with EXIT_CODE_FATAL. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set by a boot path that can power the machine off its own way (UEFI ResetSystem). */
extern void (*platform_poweroff_hook)(int code);

#endif
