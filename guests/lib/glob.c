#include "lib/glob.h"

#include <stddef.h>

bool glob_match(const char *pattern, const char *name)
{
	/* Greedy with one backtrack point: on a mismatch, let the last '*' swallow one
	 * more character. Linear in practice, no recursion. */
	const char *star = NULL, *star_name = NULL;

	while (*name) {
		if (*pattern == '*') {
			star = pattern++;
			star_name = name;
		} else if (*pattern == '?' || *pattern == *name) {
			pattern++;
			name++;
		} else if (star) {
			pattern = star + 1;
			name = ++star_name;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

bool glob_has_wildcards(const char *pattern)
{
	for (; *pattern; pattern++)
		if (*pattern == '*' || *pattern == '?')
			return true;
	return false;
}
