/* The conformance guest's command line:
 *
 *     <image name> [list] [probe globs...] [key=value...]
 *
 * Words are separated by spaces or tabs; the first is the image name and is ignored,
 * and so is a second word with the same file name (QEMU -kernel passes "<path>
 * <-append text>", so `-append 'conformance.elf ...'` gives the name twice).
 * A word with '=' is an option, "list" asks for the probe names instead of a run,
 * anything else is a glob over probe names. Pure: also compiled for the host tests. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_MAX         512
#define CMDLINE_MAX_GLOBS   32
#define CMDLINE_MAX_OPTIONS 16
#define CMDLINE_ERROR_MAX   160

struct cmdline_option {
	const char *key;
	const char *value;
};

struct guest_cmdline {
	char words[CMDLINE_MAX]; /* a copy of the line, cut into NUL-terminated words */
	const char *image;       /* "" when the line is empty */
	bool list;
	unsigned nr_globs;
	const char *globs[CMDLINE_MAX_GLOBS];
	unsigned nr_options;
	struct cmdline_option options[CMDLINE_MAX_OPTIONS];
};

/* An option the guest accepts, and the values it allows (NULL-terminated list;
 * NULL for "any non-empty value"). */
struct cmdline_key {
	const char *key;
	const char *const *values;
	const char *help; /* what it does, for error messages */
};

/* Splits and classifies. Returns 0, or -1 with a one-line reason in error. */
int cmdline_parse(struct guest_cmdline *out, const char *line, char *error, size_t error_size);

/* Checks every option against known[] (nr_known entries). Returns 0, or -1 with a
 * one-line reason naming the bad option and what is accepted. */
int cmdline_check_options(const struct guest_cmdline *cmd, const struct cmdline_key *known,
			  unsigned nr_known, char *error, size_t error_size);

/* The value of an option, or fallback when it was not given (last one wins). */
const char *cmdline_option(const struct guest_cmdline *cmd, const char *key,
			   const char *fallback);

#endif
