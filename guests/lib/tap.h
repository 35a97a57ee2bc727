/* TAP version 13 on COM1: the results format the harness parses. */
#ifndef GUEST_TAP_H
#define GUEST_TAP_H

#include <stdbool.h>
#include <stdint.h>

/* A probe's outcome, as a TAP line reports it. */
enum probe_status {
	PROBE_PASS,
	PROBE_FAIL,
	PROBE_SKIP, /* the platform lacks what the probe needs: "ok ... # SKIP reason" */
};

void tap_header(void);              /* "TAP version 13" */
void tap_plan(unsigned count);      /* "1..count" */
/* "ok N - name", "not ok N - name # reason", "ok N - name # SKIP reason". */
void tap_result(unsigned number, const char *name, enum probe_status status,
		const char *reason);
/* "not ok N - name # TODO note: reason": a known failure (TAP 13: not counted). */
void tap_result_todo(unsigned number, const char *name, const char *note, const char *reason);
void tap_bail_out(const char *reason);

/* A diagnostic line; dropped when diagnostics are off (option diag=off).
 *
 * Outside a probe it is printed at once as a "# ..." line, which belongs to the stream
 * and to no test. While a probe runs (tap_capture_begin .. tap_capture_end) the lines
 * are kept and printed after the probe's test line, as its TAP 13 YAML block:
 *
 *     ok 7 - cost/hlt
 *       ---
 *       diagnostics:
 *         - "cost hlt 1234 ticks"
 *       ...
 *
 * so that a probe's evidence can only be read as that probe's (a "# ..." line printed
 * before the test line would be taken for the previous test's, or for none). Each item
 * is a double-quoted string with JSON's escapes (\" \\ \uXXXX), which YAML reads alike. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_set_diagnostics(bool enabled);

/* A diagnostic line whatever diag= says (the unexpected-exception report): kept like
 * diag()'s while a probe runs, else printed at once. Takes no lock: for the one CPU that
 * reports a crash. */
void tap_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The running probe asserts this exit ("svm", 0x72: SVM EXITCODE; "vmx", 10: VMX basic
 * exit reason): listed, once, under "exits:" in its YAML block, whatever diag= says, for
 * `python3 -m harness coverage-of-exits`. The mini-hypervisor's expectations call it
 * (lib/mhv.h); a probe that checks an exit code itself, or SKIPs before it could, names
 * the exit with it. Ignored outside a probe. */
void tap_exit_asserted(const char *vendor, uint32_t code);

/* Start keeping diagnostic lines for the probe about to run. */
void tap_capture_begin(void);
/* Stop keeping them: prints the kept lines as the YAML block of the test line printed
 * just before (nothing when there are none) and forgets them. */
void tap_capture_end(void);
/* True while a probe's lines are kept. */
bool tap_capturing(void);

#endif
