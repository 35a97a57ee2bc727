/* nestbed's own command line: pure, host-tested.
 *   selftest        run the L0 self-tests (TAP) instead of a guest
 *   heap=<MiB>      memory nestbed keeps for itself besides module copies (default 16)
 *   quiet           print only errors, the summary and the exit line
 *   nested=0|1      offer VT-x/AMD-V to the guest (default 1, where nestbed can)
 *   trace           print every exit as it happens (`nestbed-trace ...` lines)
 *   trace=K1,K2     only the exits of those neutral kinds (cpuid,io,msr,...)
 *   require-iommu   stop at boot when no IOMMU keeps device DMA out of nestbed's memory
 *   viommu          give the guest a virtual AMD-Vi (the machine's one, emulated) instead
 *                   of hiding the IOMMU (src/iommu/vamdvi*.c)
 */
#ifndef NESTBED_OPTIONS_H
#define NESTBED_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_DEFAULT_HEAP_MIB 16
#define OPTIONS_MAX_HEAP_MIB 1024

struct nestbed_options {
	bool selftest;
	bool quiet;
	bool nested;
	bool trace;
	uint32_t trace_kinds; /* a bit per enum exit_kind: which exits `trace` prints */
	bool require_iommu;
	bool viommu;
	bool marks;   /* measurement marks: CPUID NESTBED_MARK_LEAF prints the counters (marks.h) */
	uint32_t heap_mib;
};

/* Returns 0, or -1 with a one-line reason in err (e.g. "unknown option 'x'"). */
int options_parse(const char *cmdline, struct nestbed_options *out, char *err, size_t errlen);

/* The first whitespace-separated word of s (a loader passes the image's path there):
 * writes its basename to name (may be NULL) and returns a pointer to the rest, with
 * leading blanks skipped. */
const char *cmdline_split_first(const char *s, char *name, size_t namelen);

/* Loaders disagree on whether the kernel's own path starts its command line (QEMU:
 * yes, GRUB 2: no). nestbed's options never contain '/', '\\' or '.', so a first word
 * with one of them is the path: returns the rest of the line, else the line itself. */
const char *cmdline_skip_image_path(const char *s);

#endif
