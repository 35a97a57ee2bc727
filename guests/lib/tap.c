#include "lib/tap.h"

#include <stdarg.h>

#include "core/format.h"
#include "core/string.h"
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

/* The lines of the running probe, each ending in '\0', kept for its YAML block. One
 * probe runs at a time; its APs may add lines too (the lock). */
#define TAP_CAPTURE_SIZE 16384
#define TAP_EXITS_MAX 64
static struct {
	bool active;
	volatile int lock;
	size_t used;     /* bytes of text[] in use */
	unsigned lines;  /* lines kept */
	unsigned dropped; /* lines that did not fit */
	char text[TAP_CAPTURE_SIZE];
	unsigned nr_exits;
	struct {
		const char *vendor;
		uint32_t code;
	} exits[TAP_EXITS_MAX];
	bool exits_dropped;
} capture;

static void capture_lock(void)
{
	while (__atomic_exchange_n(&capture.lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void capture_unlock(void)
{
	__atomic_store_n(&capture.lock, 0, __ATOMIC_RELEASE);
}

static void capture_add(const char *line)
{
	size_t len = strlen(line) + 1;
	if (capture.used + len > sizeof(capture.text)) {
		capture.dropped++;
		return;
	}
	memcpy(capture.text + capture.used, line, len);
	capture.used += len;
	capture.lines++;
}

/* "# line", or kept while a probe runs. */
static void emit(const char *line, bool locked)
{
	if (locked)
		capture_lock();
	if (capture.active) {
		capture_add(line);
		if (locked)
			capture_unlock();
		return;
	}
	if (locked)
		capture_unlock();
	printf("# ");
	print_reason(line);
	printf("\n");
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
	emit(line, true);
}

void tap_note(const char *fmt, ...)
{
	char line[TAP_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	format_buf_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(line, false);
}

void tap_capture_begin(void)
{
	capture_lock();
	capture.active = true;
	capture.used = 0;
	capture.lines = 0;
	capture.dropped = 0;
	capture.nr_exits = 0;
	capture.exits_dropped = false;
	capture_unlock();
}

void tap_exit_asserted(const char *vendor, uint32_t code)
{
	capture_lock();
	bool known = false;
	for (unsigned i = 0; i < capture.nr_exits && !known; i++)
		known = capture.exits[i].code == code && !strcmp(capture.exits[i].vendor, vendor);
	if (capture.active && !known) {
		if (capture.nr_exits < TAP_EXITS_MAX) {
			capture.exits[capture.nr_exits].vendor = vendor;
			capture.exits[capture.nr_exits].code = code;
			capture.nr_exits++;
		} else {
			capture.exits_dropped = true;
		}
	}
	capture_unlock();
}

bool tap_capturing(void)
{
	return capture.active;
}

/* A YAML double-quoted scalar with JSON's escapes only, so both read it alike. */
static void print_quoted(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	printf("\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			char out[2] = { '\\', (char)*c };
			serial_write(out, 2);
		} else if (*c < 0x20 || *c >= 0x7f) {
			char out[6] = { '\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15] };
			serial_write(out, 6);
		} else {
			serial_write((const char *)c, 1);
		}
	}
	printf("\"");
}

void tap_capture_end(void)
{
	capture_lock();
	capture.active = false;
	capture_unlock();
	if (!capture.lines && !capture.dropped && !capture.nr_exits)
		return;
	printf("  ---\n");
	if (capture.lines || capture.dropped)
		printf("  diagnostics:\n");
	for (size_t at = 0; at < capture.used; at += strlen(capture.text + at) + 1) {
		printf("    - ");
		print_quoted(capture.text + at);
		printf("\n");
	}
	if (capture.dropped)
		printf("    - \"(%u more lines dropped: the guest keeps %u bytes a probe)\"\n",
		       capture.dropped, TAP_CAPTURE_SIZE);
	/* SVM codes in hex as APM vol.2 appendix C lists them, VMX reasons in decimal as SDM
	 * vol.3 appendix C does */
	if (capture.nr_exits)
		printf("  exits:\n");
	for (unsigned i = 0; i < capture.nr_exits; i++) {
		if (strcmp(capture.exits[i].vendor, "svm"))
			printf("    - \"%s:%u\"\n", capture.exits[i].vendor, capture.exits[i].code);
		else
			printf("    - \"%s:%#x\"\n", capture.exits[i].vendor, capture.exits[i].code);
	}
	if (capture.exits_dropped)
		printf("  exits-dropped: \"more than %u\"\n", TAP_EXITS_MAX);
	printf("  ...\n");
	capture.used = 0;
	capture.lines = 0;
	capture.dropped = 0;
	capture.nr_exits = 0;
	capture.exits_dropped = false;
}
