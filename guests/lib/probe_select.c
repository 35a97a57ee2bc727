#include "lib/probe_select.h"

#include <stdbool.h>

#include "core/format.h"
#include "lib/glob.h"

static int compare_names(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static bool valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.' || c == '/';
}

static bool valid_name(const char *name)
{
	bool has_slash = false;
	if (!name || !*name || *name == '/')
		return false;
	for (const char *c = name; *c; c++) {
		if (!valid_name_char(*c))
			return false;
		if (*c == '/') {
			if (c[1] == '\0' || c[1] == '/')
				return false;
			has_slash = true;
		}
	}
	return has_slash;
}

int probe_names_check(const char *const names[], unsigned nr_names, char *error,
		      size_t error_size)
{
	for (unsigned i = 0; i < nr_names; i++) {
		if (!valid_name(names[i])) {
			format_buf(error, error_size,
				   "probe name '%s' is not <area>/<what> in [a-z0-9._-]",
				   names[i] ? names[i] : "(null)");
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			if (compare_names(names[i], names[j]) == 0) {
				format_buf(error, error_size, "probe '%s' is registered twice",
					   names[i]);
				return -1;
			}
		}
	}
	return 0;
}

int probe_select(const char *const names[], unsigned nr_names, const char *const globs[],
		 unsigned nr_globs, unsigned order[], char *error, size_t error_size)
{
	for (unsigned g = 0; g < nr_globs; g++) {
		bool matched = false;
		for (unsigned i = 0; i < nr_names && !matched; i++)
			matched = glob_match(globs[g], names[i]);
		if (!matched) {
			format_buf(error, error_size, "'%s' matches no probe (try 'list')", globs[g]);
			return -1;
		}
	}

	unsigned count = 0;
	for (unsigned i = 0; i < nr_names; i++) {
		bool wanted = nr_globs == 0;
		for (unsigned g = 0; g < nr_globs && !wanted; g++)
			wanted = glob_match(globs[g], names[i]);
		if (!wanted)
			continue;
		/* Insertion sort: a few hundred probes at most. */
		unsigned at = count++;
		while (at > 0 && compare_names(names[order[at - 1]], names[i]) > 0) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
	}
	return (int)count;
}
