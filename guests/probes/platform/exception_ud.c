/* platform/exception-ud: UD2 raises #UD (vector 6, no error code) at the UD2 itself,
 * the runtime catches it, and execution resumes in the probe. */
#include "lib/exception.h"
#include "lib/probe.h"

/* A function whose only effect is UD2, with a label on the instruction so the
 * faulting RIP can be checked exactly. */
void execute_ud2(void *unused);
extern const char execute_ud2_site[];
__asm__(".pushsection .text\n"
	".globl execute_ud2\n"
	".type execute_ud2, @function\n"
	"execute_ud2:\n"
	".globl execute_ud2_site\n"
	"execute_ud2_site:\n"
	"\tud2\n"
	"\tret\n"
	".size execute_ud2, . - execute_ud2\n"
	".popsection");

static enum probe_status exception_ud_probe(struct probe_run *run)
{
	struct exc_record fault;
	if (!exc_try(&fault, execute_ud2, NULL))
		return probe_fail(run, "expected #UD from UD2, observed no exception");
	diag("caught %s (vector %llu) at rip %#llx, error code %#llx",
	     exception_mnemonic(fault.vector), (unsigned long long)fault.vector,
	     (unsigned long long)fault.rip, (unsigned long long)fault.error_code);
	EXPECT_EQ(run, "vector", EXC_UD, fault.vector);
	EXPECT_EQ(run, "faulting rip", (uint64_t)execute_ud2_site, fault.rip);
	EXPECT_EQ(run, "error code", 0, fault.error_code);
	return PROBE_PASS;
}
PROBE("platform/exception-ud", exception_ud_probe);
