/* Ending a run: the exit protocol shared with nestbed and the harness. */
#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

enum guest_exit_code {
	EXIT_ALL_PASSED = 0, /* every TAP test passed or was skipped */
	EXIT_SOME_FAILED = 1,
	EXIT_FATAL = 2,      /* bad input, unexpected exception, broken runtime */
};

/* Prints "exit-port: <code>", drains COM1, then stops the machine every way we know:
 * QEMU's isa-debug-exit, Bochs' shutdown port, and finally cli;hlt. */
__attribute__((noreturn)) void guest_exit(enum guest_exit_code code);

#endif
