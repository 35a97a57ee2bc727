/* What the nested layer's halves share. The interface the core calls is
 * core/nested_ops.h. */
#ifndef NESTBED_NESTED_H
#define NESTBED_NESTED_H

#include "core/nested_ops.h"

#endif
