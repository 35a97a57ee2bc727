#include "lib/runner.h"

#include <stdarg.h>

#include "core/format.h"
#include "lib/boot_info.h"
#include "lib/deviations.h"
#include "lib/print.h"
#include "lib/probe.h"
#include "lib/probe_select.h"

#ifndef NESTBED_VERSION
#define NESTBED_VERSION "unknown"
#endif

extern const struct probe probes_start[], probes_end[]; /* guest.ld */

static const char *probe_names[RUNNER_MAX_PROBES];
static unsigned selected[RUNNER_MAX_PROBES];
static unsigned nr_selected;
static const char *current_probe;
static unsigned current_number;
static bool deviations_todo;

void runner_set_deviations_todo(bool todo)
{
	deviations_todo = todo;
}

int runner_select(const struct guest_cmdline *cmd, char *error, size_t error_size)
{
	unsigned nr_probes = (unsigned)(probes_end - probes_start);
	if (nr_probes > RUNNER_MAX_PROBES) {
		format_buf(error, error_size, "%u probes registered, at most %d supported",
			   nr_probes, RUNNER_MAX_PROBES);
		return -1;
	}
	for (unsigned i = 0; i < nr_probes; i++)
		probe_names[i] = probes_start[i].name;
	if (probe_names_check(probe_names, nr_probes, error, error_size) < 0)
		return -1;
	int count = probe_select(probe_names, nr_probes, cmd->globs, cmd->nr_globs, selected,
				 error, error_size);
	if (count < 0)
		return -1;
	nr_selected = (unsigned)count;
	return 0;
}

void runner_list(void)
{
	for (unsigned i = 0; i < nr_selected; i++)
		printf("%s\n", probes_start[selected[i]].name);
}

static enum probe_status with_reason(struct probe_run *run, enum probe_status status,
				     const char *fmt, va_list ap)
{
	format_buf_v(run->reason, sizeof(run->reason), fmt, ap);
	return status;
}

enum probe_status probe_fail(struct probe_run *run, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum probe_status status = with_reason(run, PROBE_FAIL, fmt, ap);
	va_end(ap);
	return status;
}

enum probe_status probe_skip(struct probe_run *run, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum probe_status status = with_reason(run, PROBE_SKIP, fmt, ap);
	va_end(ap);
	return status;
}

enum guest_exit_code runner_run(void)
{
	unsigned failed = 0;

	tap_header();
	diag("nestbed conformance guest %s; loader '%s'; command line '%s'", NESTBED_VERSION,
	     guest_boot_info.loader_name, guest_boot_info.cmdline);
	enum platform_id platform = platform_identify();
	diag("platform: %s; documented deviations reported as %s", platform_name(platform),
	     deviations_todo ? "TODO" : "failures");
	tap_plan(nr_selected);
	for (unsigned i = 0; i < nr_selected; i++) {
		const struct probe *probe = &probes_start[selected[i]];
		struct probe_run run = { .name = probe->name };
		current_probe = probe->name;
		current_number = i + 1;
		/* the probe's diag() lines become the YAML block after its test line */
		tap_capture_begin();
		enum probe_status status = probe->run(&run);
		if (status != PROBE_PASS && status != PROBE_SKIP)
			status = PROBE_FAIL;
		const char *note = status == PROBE_FAIL ? deviation_note(platform, probe->name) : NULL;
		if (note && deviations_todo) {
			tap_result_todo(i + 1, probe->name, note, run.reason);
		} else {
			if (note)
				diag("a documented %s deviation: %s (guests/README.md)",
				     platform_name(platform), note);
			failed += status == PROBE_FAIL;
			tap_result(i + 1, probe->name, status, run.reason);
		}
		tap_capture_end();
		current_probe = NULL;
		current_number = 0;
	}
	diag("%u of %u failed", failed, nr_selected);
	return failed ? EXIT_SOME_FAILED : EXIT_ALL_PASSED;
}

const char *runner_current_probe(void)
{
	return current_probe;
}

unsigned runner_current_number(void)
{
	return current_number;
}
