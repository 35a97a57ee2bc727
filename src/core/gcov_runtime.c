/* The gcov runtime of nestbed's coverage build (make coverage-l0; never in the normal
 * build): the symbol each instrumented object names, and the dump of every counter on
 * the console at the end of a run (platform_exit). The counters are the compiler's,
 * one set for the machine, updated by every CPU with -fprofile-update=atomic. */
#include "core/gcov_runtime.h"

#include "core/console.h"
#include "core/gcov_abi.h"
#include "core/gcov_stream.h"
#include "core/platform.h"

extern const struct gcov_info *const __start_gcov_info[];
extern const struct gcov_info *const __stop_gcov_info[];

/* Each object names it as the merge function of its arc counters. libgcov calls it when
 * a run's counters are added to an existing .gcda; nestbed writes no file, the harness
 * adds the runs (harness/coverage_l0.py), so nothing calls it here. */
void __gcov_merge_add(gcov_type *counters, gcov_unsigned_t n_counters);
void __gcov_merge_add(gcov_type *counters, gcov_unsigned_t n_counters)
{
	(void)counters;
	(void)n_counters;
}

static void line_out(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	console_write(line, len);
}

/* Whether a dump has begun: a second CPU that ends the run, or a fault inside the dump,
 * must not start another one. Like the counters it describes, one for the machine; it
 * exists only in the coverage build. */
static int gcov_dump_started;

void gcov_dump(void)
{
	if (__atomic_exchange_n(&gcov_dump_started, 1, __ATOMIC_ACQ_REL))
		return;
	/* held across the whole dump: another CPU's exit-port line waits for its end */
	console_lock();
	gcov_stream_write(__start_gcov_info, __stop_gcov_info, line_out, NULL);
	console_unlock();
}

/* ld --wrap=platform_exit,--wrap=fatal (the coverage build only): every end of a run
 * hands the counters out first. The wrapped fatal prints its one line as platform.c's
 * does, after the dump, so that the line stays right before exit-port. */
_Noreturn void __real_platform_exit(int code);
_Noreturn void __wrap_platform_exit(int code);
_Noreturn void __wrap_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn void __wrap_platform_exit(int code)
{
	gcov_dump();
	__real_platform_exit(code);
}

_Noreturn void __wrap_fatal(const char *fmt, ...)
{
	va_list ap;
	gcov_dump();
	va_start(ap, fmt);
	kprintf("nestbed: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
	__real_platform_exit(EXIT_CODE_FATAL);
}
