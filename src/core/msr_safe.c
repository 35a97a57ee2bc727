#include "core/msr_safe.h"

#include <stddef.h>

#include "core/exception.h"
#include "core/x86.h"

uint64_t msr_safe_rdmsr_raw(uint32_t msr);
void msr_safe_wrmsr_raw(uint32_t msr, uint64_t value);
void msr_safe_xsetbv_raw(uint32_t index, uint64_t value);
extern char msr_safe_rdmsr_resume[], msr_safe_wrmsr_resume[], msr_safe_xsetbv_resume[];

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	exception_expect(VECTOR_GP, (uint64_t)(uintptr_t)msr_safe_rdmsr_resume);
	uint64_t v = msr_safe_rdmsr_raw(msr);
	if (exception_take(NULL))
		return -1;
	*value = v;
	return 0;
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
	exception_expect(VECTOR_GP, (uint64_t)(uintptr_t)msr_safe_wrmsr_resume);
	msr_safe_wrmsr_raw(msr, value);
	return exception_take(NULL) ? -1 : 0;
}

int xsetbv_safe(uint32_t index, uint64_t value)
{
	exception_expect(VECTOR_GP, (uint64_t)(uintptr_t)msr_safe_xsetbv_resume);
	msr_safe_xsetbv_raw(index, value);
	return exception_take(NULL) ? -1 : 0;
}
