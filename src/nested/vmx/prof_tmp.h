#ifndef PROF_TMP_H
#define PROF_TMP_H
#include <stdint.h>
#include "core/console.h"
static inline uint64_t prof_tsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
extern uint64_t prof_acc[32], prof_last;
extern unsigned prof_n;
#define PROF(i) do { uint64_t _t = prof_tsc(); prof_acc[i] += _t - prof_last; prof_last = _t; } while (0)
#define PROF_START() (prof_last = prof_tsc())
static inline void prof_report(void) { if (++prof_n % 10000) return; for (int i = 0; i < 32; i++) if (prof_acc[i]) kprintf("prof %d: %llu\n", i, (unsigned long long)(prof_acc[i] / 10000)); for (int i = 0; i < 32; i++) prof_acc[i] = 0; }
#endif
