/* Sizes in bytes. */
#ifndef NESTBED_UNITS_H
#define NESTBED_UNITS_H

#define MIB (1024ull * 1024ull)

#endif
