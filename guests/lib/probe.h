/* Writing a probe:
 *
 *     static enum probe_status cpu_vendor(struct probe_run *run)
 *     {
 *             ...
 *             diag("vendor %s", vendor);   // in the YAML block after its test line
 *             if (!known)
 *                     return probe_fail(run, "expected GenuineIntel or AuthenticAMD, "
 *                                       "observed '%s'", vendor);
 *             return PROBE_PASS;
 *     }
 *     PROBE("platform/cpu-vendor", cpu_vendor);
 *
 * Names are "<area>/<what>", vendor-neutral wherever the behaviour is, so that the
 * same name has a VT-x and an AMD-V result. The registry is the .probes section
 * (guest.ld); the runner sorts it by name. */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stdint.h>

#include "lib/boot_info.h"
#include "lib/tap.h" /* enum probe_status, diag() */

#define PROBE_REASON_MAX 256

struct probe_run {
	const char *name;
	char reason[PROBE_REASON_MAX]; /* for FAIL and SKIP: expected and observed values */
};

typedef enum probe_status (*probe_fn)(struct probe_run *run);

struct probe {
	const char *name;
	probe_fn run;
};

#define PROBE(name_, fn_)                                                        \
	static const struct probe probe_entry_##fn_                              \
		__attribute__((used, section(".probes"), aligned(16))) = { name_, fn_ }

/* Set the reason and return the status: `return probe_fail(run, "...", ...);` */
enum probe_status probe_fail(struct probe_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum probe_status probe_skip(struct probe_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fails the probe unless observed == expected, naming both in hex. */
#define EXPECT_EQ(run, what, expected, observed)                                    \
	do {                                                                        \
		uint64_t expected_ = (uint64_t)(expected);                          \
		uint64_t observed_ = (uint64_t)(observed);                          \
		if (expected_ != observed_)                                         \
			return probe_fail((run), "%s: expected %#llx, observed %#llx", \
					  (what), (unsigned long long)expected_,    \
					  (unsigned long long)observed_);           \
	} while (0)

#endif
