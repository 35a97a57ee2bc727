#ifndef NESTBED_MAIN_H
#define NESTBED_MAIN_H

#include "core/boot_info.h"

/* The one C entry every boot path reaches with a filled boot_info. */
_Noreturn void nestbed_main(struct boot_info *bi);

#endif
