/* nestbed's gcov runtime: only in the coverage build (NESTBED_GCOV, make coverage-l0). */
#ifndef NESTBED_GCOV_RUNTIME_H
#define NESTBED_GCOV_RUNTIME_H

/* Prints every counter as nestbed-gcov lines (core/gcov_stream.h), once per run. */
void gcov_dump(void);

#endif
