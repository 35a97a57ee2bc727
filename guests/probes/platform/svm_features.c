/* platform/svm-features: AMD's SVM feature leaf (CPUID 8000_000Ah) is sane: a
 * revision, a non-zero ASID count, and the feature bits (printed by name, the
 * reference for what a nested layer must or must not advertise). */
#include "core/format.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/probe.h"

/* CPUID Fn8000_000A_EDX, APM vol.3 Appendix E (SVM feature identification). */
static const char *const svm_feature_names[32] = {
	[0] = "NP",             [1] = "LbrVirt",        [2] = "SVML",
	[3] = "NRIPS",          [4] = "TscRateMsr",     [5] = "VmcbClean",
	[6] = "FlushByAsid",    [7] = "DecodeAssists",  [8] = "PmcVirt",
	[10] = "PauseFilter",   [12] = "PauseFilterThreshold", [13] = "AVIC",
	[15] = "VMSAVEvirt",    [16] = "VGIF",          [17] = "GMET",
	[18] = "x2AVIC",        [19] = "SSSCheck",      [20] = "SpecCtrl",
	[21] = "ROGPT",         [23] = "HOST_MCE_OVERRIDE", [24] = "TlbiCtl",
	[25] = "VNMI",          [26] = "IbsVirt",       [27] = "ExtLvtAvicAccessChg",
	[28] = "NestedVirtVmcbAddrChk", [29] = "BusLockThreshold",
};

static void describe_features(uint32_t edx, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned bit = 0; bit < 32 && used < size; bit++) {
		if (!(edx & (1u << bit)))
			continue;
		if (svm_feature_names[bit])
			used += (size_t)format_buf(out + used, size - used, "%s%s", used ? " " : "",
						   svm_feature_names[bit]);
		else
			used += (size_t)format_buf(out + used, size - used, "%sbit%u", used ? " " : "",
						   bit);
	}
	if (!edx)
		format_buf(out, size, "(none)");
}

static enum probe_status svm_features_probe(struct probe_run *run)
{
	if (cpu_vendor() != CPU_VENDOR_AMD)
		return probe_skip(run, "not an AMD CPU: SVM feature leaf 8000_000Ah does not apply");
	if (!cpu_has_svm())
		return probe_skip(run, "SVM absent (CPUID.80000001h:ECX.SVM = 0)");
	uint32_t max = cpuid_max_extended_leaf();
	if (max < CPUID_LEAF_SVM)
		return probe_fail(run, "SVM present: expected max extended leaf >= %#x, observed %#x",
				  CPUID_LEAF_SVM, max);

	struct cpuid_regs svm = cpuid(CPUID_LEAF_SVM);
	uint32_t revision = svm.eax & CPUID_8000000A_EAX_SVMREV_MASK;
	char features[256];
	describe_features(svm.edx, features, sizeof(features));
	diag("CPUID.8000000Ah: SVM revision %u, %u ASIDs, EDX %#010x", revision, svm.ebx, svm.edx);
	diag("SVM features: %s", features);

	if (revision == 0)
		return probe_fail(run, "expected SVM revision (EAX[7:0]) > 0, observed 0");
	if (svm.ebx == 0)
		return probe_fail(run, "expected ASID count (EBX) > 0, observed 0");
	return PROBE_PASS;
}
PROBE("platform/svm-features", svm_features_probe);
