#include "lib/tap.h"

#include <stdarg.h>

#include "core/format.h"
#include "lib/print.h"
#include "lib/probe.h"
#include "lib/serial.h"

#define TAP_LINE_MAX 512

static bool diagnostics_enabled = true;

void tap_header(void)
{
	printf("TAP version 13\n");
}

void tap_plan(unsigned count)
{
	printf("1..%u\n", count);
}

/* A reason must stay on its line. */
static void print_reason(const char *reason)
{
	for (const char *c = reason; *c; c++) {
		char out = (*c == '\n' || *c == '\r') ? ' ' : *c;
		serial_write(&out, 1);
	}
}

void tap_result(unsigned number, const char *name, enum probe_status status,
		const char *reason)
{
	switch (status) {
	case PROBE_PASS:
		printf("ok %u - %s\n", number, name);
		return;
	case PROBE_SKIP:
		printf("ok %u - %s # SKIP ", number, name);
		break;
	case PROBE_FAIL:
	default:
		printf("not ok %u - %s # ", number, name);
		break;
	}
	print_reason(reason[0] ? reason : "(no reason given)");
	printf("\n");
}

void tap_result_todo(unsigned number, const char *name, const char *note, const char *reason)
{
	printf("not ok %u - %s # TODO ", number, name);
	print_reason(note);
	printf(": ");
	print_reason(reason[0] ? reason : "(no reason given)");
	printf("\n");
}

void tap_bail_out(const char *reason)
{
	printf("Bail out! ");
	print_reason(reason);
	printf("\n");
}

void tap_set_diagnostics(bool enabled)
{
	diagnostics_enabled = enabled;
}

void diag(const char *fmt, ...)
{
	if (!diagnostics_enabled)
		return;
	char line[TAP_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	format_buf_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# ");
	print_reason(line);
	printf("\n");
}
