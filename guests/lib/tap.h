/* TAP version 13 on COM1: the results format the harness parses. */
#ifndef GUEST_TAP_H
#define GUEST_TAP_H

#include <stdbool.h>

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

/* A "# ..." diagnostic line; dropped when diagnostics are off (option diag=off). */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_set_diagnostics(bool enabled);

#endif
