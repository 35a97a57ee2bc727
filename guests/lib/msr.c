#include "lib/msr.h"

#include "lib/cpu.h"
#include "lib/exception.h"

struct msr_read {
	uint32_t msr;
	uint64_t value;
};

static void read_msr(void *arg)
{
	struct msr_read *read = arg;
	read->value = rdmsr(read->msr);
}

bool rdmsr_safe(uint32_t msr, uint64_t *value)
{
	struct msr_read read = { .msr = msr };
	struct exc_record fault;
	if (exc_try(&fault, read_msr, &read))
		return false;
	*value = read.value;
	return true;
}
