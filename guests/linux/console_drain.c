/*
 * console_drain: waits until everything written to the console has left the UART, then
 * returns. The Linux scenario's /init (scripts/make-initramfs) runs it between its last
 * TAP line and the exit-port write: the write ends the emulator at once, and with several
 * CPUs the kernel's serial driver could still hold the last lines (seen once: a 4-CPU
 * boot lost "ok 2" and "exit-port: 0", and the harness failed a passing run).
 * tcdrain() is POSIX's "wait until all output written has been transmitted"; Linux's
 * serial core waits for the transmitter to be empty (uart_wait_until_sent).
 */
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd < 0 || tcdrain(fd) != 0) {
		perror("console_drain");
		return 1;
	}
	return 0;
}
