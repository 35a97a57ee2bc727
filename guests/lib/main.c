/* guest_start: called by entry.asm in long mode with the Multiboot information.
 * guest_runtime_init and guest_main are shared with the UEFI entry (guests/efi/). */
#include <stdint.h>

#include "core/string.h"
#include "lib/boot_info.h"
#include "lib/cmdline.h"
#include "lib/exit.h"
#include "lib/idt.h"
#include "lib/print.h"
#include "lib/runner.h"
#include "lib/serial.h"
#include "lib/start.h"
#include "lib/tap.h"
#include "lib/tss.h"

void guest_start(uint32_t multiboot_info_phys) __attribute__((noreturn));

static const char *const on_off[] = { "on", "off", NULL };
static const char *const fail_todo[] = { "fail", "todo", NULL };

/* The options the guest accepts (key=value on its command line). */
static const struct cmdline_key known_options[] = {
	{ "diag", on_off, "print '# ...' diagnostic lines" },
	{ "deviations", fail_todo, "documented platform deviations as failures or TAP TODO" },
};

static __attribute__((noreturn)) void bad_command_line(const char *reason)
{
	printf("conformance: bad command line: %s\n", reason);
	guest_exit(EXIT_FATAL);
}

void guest_runtime_init(void)
{
	serial_init();
	tss_init();
	idt_init();
}

void guest_start(uint32_t multiboot_info_phys)
{
	guest_runtime_init();
	multiboot_parse(multiboot_info_phys, &guest_boot_info);
	guest_main();
}

void guest_main(void)
{
	static struct guest_cmdline cmd;
	char error[CMDLINE_ERROR_MAX];

	if (guest_boot_info.cmdline_truncated)
		bad_command_line("longer than the guest accepts");
	if (cmdline_parse(&cmd, guest_boot_info.cmdline, error, sizeof(error)) < 0 ||
	    cmdline_check_options(&cmd, known_options,
				  sizeof(known_options) / sizeof(known_options[0]), error,
				  sizeof(error)) < 0 ||
	    runner_select(&cmd, error, sizeof(error)) < 0)
		bad_command_line(error);

	tap_set_diagnostics(strcmp(cmdline_option(&cmd, "diag", "on"), "on") == 0);
	runner_set_deviations_todo(strcmp(cmdline_option(&cmd, "deviations", "fail"), "todo") == 0);
	if (cmd.list) {
		runner_list();
		guest_exit(EXIT_ALL_PASSED);
	}
	guest_exit(runner_run());
}
