/* Which registered probes run, and in what order (by name, so test numbers do not
 * depend on link order). Pure: also compiled for the host tests. */
#ifndef GUEST_PROBE_SELECT_H
#define GUEST_PROBE_SELECT_H

#include <stddef.h>

/* Checks that every name is "<area>/<what>" made of [a-z0-9._-] and '/', and that no
 * name is registered twice. Returns 0, or -1 with a one-line reason. */
int probe_names_check(const char *const names[], unsigned nr_names, char *error,
		      size_t error_size);

/* Writes into order[] (room for nr_names) the indices of the names that match at
 * least one glob (all names when nr_globs is 0), sorted by name. Returns how many,
 * or -1 with a one-line reason when a glob matches no name. */
int probe_select(const char *const names[], unsigned nr_names, const char *const globs[],
		 unsigned nr_globs, unsigned order[], char *error, size_t error_size);

#endif
