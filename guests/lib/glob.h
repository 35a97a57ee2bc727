/* Shell-style globs over probe names: '*' matches any run of characters ('/'
 * included: "svm/" then '*' covers "svm/intercept/cpuid"), '?' exactly one
 * character; everything else matches itself. Pure: also compiled for the host tests. */
#ifndef GUEST_GLOB_H
#define GUEST_GLOB_H

#include <stdbool.h>

bool glob_match(const char *pattern, const char *name);
bool glob_has_wildcards(const char *pattern);

#endif
