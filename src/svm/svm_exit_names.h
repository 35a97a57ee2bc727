/* The SVM exit codes by the names of AMD APM vol.2 appendix C (VMEXIT_ dropped), for the
 * trace (`nestbed-trace ... reason VMRUN`). Pure, host-tested. */
#ifndef NESTBED_SVM_EXIT_NAMES_H
#define NESTBED_SVM_EXIT_NAMES_H

#include <stdint.h>

/* "CPUID", "NPF", "EXCP14", "INVALID", ...; NULL for a code the APM does not name.
 * Only the low 32 bits count for the negative codes (QEMU writes 0xffffffff, Bochs -1). */
const char *svm_exit_name(uint64_t exitcode);

#endif
