/* Runs the selected probes as one TAP stream. */
#ifndef GUEST_RUNNER_H
#define GUEST_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/cmdline.h"
#include "lib/exit.h"

#define RUNNER_MAX_PROBES 512

/* Checks the registry and picks the probes cmd asks for. Returns 0, or -1 with a
 * one-line reason (a glob that matches nothing, a malformed registry). */
int runner_select(const struct guest_cmdline *cmd, char *error, size_t error_size);
/* Prints the selected names, one a line. */
void runner_list(void);
/* deviations=todo: a failure that is a documented deviation of this platform
 * (lib/deviations.h) is reported as TAP TODO. */
void runner_set_deviations_todo(bool todo);
/* Runs the selection under TAP; EXIT_ALL_PASSED or EXIT_SOME_FAILED. */
enum guest_exit_code runner_run(void);
/* The probe running now, or NULL (for the unexpected-exception report). */
const char *runner_current_probe(void);
/* Its test number (1-based), or 0. */
unsigned runner_current_number(void);

#endif
