#ifndef NESTBED_MSR_SAFE_H
#define NESTBED_MSR_SAFE_H

#include <stdint.h>

/* 0 or -1 when the instruction raised #GP (nothing else changes). */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);
int xsetbv_safe(uint32_t index, uint64_t value);

#endif
