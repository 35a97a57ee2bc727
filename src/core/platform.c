#include "core/platform.h"

#include "core/console.h"
#include "core/cpu.h"

void (*platform_poweroff_hook)(int code);

_Noreturn void platform_exit(int code)
{
	static const char bochs_shutdown[] = "Shutdown";
	kprintf("exit-port: %d\n", code);
	console_drain();
	outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)code);
	for (const char *c = bochs_shutdown; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
	if (platform_poweroff_hook)
		platform_poweroff_hook(code);
	cpu_halt_forever();
	__builtin_unreachable();
}

_Noreturn void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kprintf("nestbed: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
	platform_exit(EXIT_CODE_FATAL);
}
