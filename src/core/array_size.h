/* The number of elements of an array (not a pointer). */
#ifndef NESTBED_ARRAY_SIZE_H
#define NESTBED_ARRAY_SIZE_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
