/* The records GCC 12 emits for each object compiled with -fprofile-arcs (--coverage):
 * gcc/libgcov.h and gcc/gcov-io.h of GCC 12, the layout libgcov reads. Only the
 * coverage build of nestbed (make coverage-l0) includes this. With
 * -fprofile-info-section=gcov_info each object puts a pointer to its struct gcov_info in
 * the section gcov_info (no constructor calls __gcov_init), which the linker script
 * brackets with __start_gcov_info and __stop_gcov_info. */
#ifndef NESTBED_GCOV_ABI_H
#define NESTBED_GCOV_ABI_H

#include <stdint.h>

#define GCOV_COUNTERS 8            /* gcc 12 gcov-counter.def: arcs ... time_profiler */
#define GCOV_COUNTER_ARCS 0        /* the only kind --coverage fills */
#define GCOV_VERSION_GCC12 0x4232322au /* "B22*": gcov-io.h version of GCC 12.2 */

typedef int64_t gcov_type;
typedef uint32_t gcov_unsigned_t;

struct gcov_ctr_info {
	gcov_unsigned_t num;    /* number of counters */
	gcov_type *values;      /* their values */
};

struct gcov_info;

struct gcov_fn_info {
	const struct gcov_info *key;    /* the object that owns the function (COMDAT) */
	gcov_unsigned_t ident;          /* unique ident of the function */
	gcov_unsigned_t lineno_checksum;
	gcov_unsigned_t cfg_checksum;
	struct gcov_ctr_info ctrs[1];   /* one per counter kind whose merge is set */
};

typedef void (*gcov_merge_fn)(gcov_type *, gcov_unsigned_t);

struct gcov_info {
	gcov_unsigned_t version;        /* GCOV_VERSION of the compiler */
	struct gcov_info *next;         /* libgcov's list; unused here */
	gcov_unsigned_t stamp;          /* the compilation's time stamp */
	gcov_unsigned_t checksum;       /* the object's checksum (gcc 12) */
	const char *filename;           /* the .gcda path */
	gcov_merge_fn merge[GCOV_COUNTERS]; /* NULL for the kinds not used */
	gcov_unsigned_t n_functions;
	const struct gcov_fn_info *const *functions;
};

#endif
