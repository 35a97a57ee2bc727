/* covers: src/core/cpuid_policy.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/cpuid_policy.h"

static struct cpuid_result all_ones(void)
{
	return (struct cpuid_result){ 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
}

static void test_hides_vmx_and_svm_by_default(void **state)
{
	(void)state;
	struct cpuid_policy p = { 0 };
	struct cpuid_result r = all_ones();
	cpuid_policy_apply(&p, 1, 0, 0, &r);
	assert_int_equal(r.ecx & CPUID_1_ECX_VMX_BIT, 0);
	assert_int_equal(r.ecx & CPUID_1_ECX_HYPERVISOR, CPUID_1_ECX_HYPERVISOR);
	assert_int_equal(r.edx, 0xffffffffu);
	r = all_ones();
	cpuid_policy_apply(&p, 0x80000001u, 0, 0, &r);
	assert_int_equal(r.ecx, 0xffffffffu & ~CPUID_80000001_ECX_SVM_BIT);
	r = all_ones();
	cpuid_policy_apply(&p, CPUID_SVM_FEATURES_LEAF, 0, 0, &r);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_exposes_what_the_nested_layer_offers(void **state)
{
	(void)state;
	struct cpuid_policy p = { .expose_vmx = true, .expose_svm = true, .svm_features = 0x9,
				  .svm_nasid = 8 };
	struct cpuid_result r = { 0, 0, CPUID_1_ECX_VMX_BIT, 0 };
	cpuid_policy_apply(&p, 1, 0, 0, &r);
	assert_true(r.ecx & CPUID_1_ECX_VMX_BIT);
	r = (struct cpuid_result){ 1, 0x8000, 0, 0x44f };
	cpuid_policy_apply(&p, CPUID_SVM_FEATURES_LEAF, 0, 0, &r);
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 8);
	assert_int_equal(r.edx, 0x9);
}

static void test_hypervisor_leaves(void **state)
{
	(void)state;
	struct cpuid_policy p = { 0 };
	struct cpuid_result r = all_ones();
	cpuid_policy_apply(&p, CPUID_HYPERVISOR_BASE, 0, 0, &r);
	assert_int_equal(r.eax, CPUID_HYPERVISOR_BASE + 1);
	char sig[13];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	assert_string_equal(sig, "NestbedL0Hv");
	r = all_ones();
	cpuid_policy_apply(&p, CPUID_HYPERVISOR_BASE + 1, 0, 0, &r);
	assert_int_equal(r.eax, NESTBED_CPUID_ABI);
	r = all_ones();
	cpuid_policy_apply(&p, CPUID_HYPERVISOR_BASE + 0x10, 0, 0, &r);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = all_ones();
	cpuid_policy_apply(&p, 6, 0, 0, &r); /* untouched leaves pass through */
	assert_int_equal(r.eax & r.ebx & r.ecx & r.edx, 0xffffffffu);
}

static void test_cr4_mirrors(void **state)
{
	(void)state;
	struct cpuid_policy p = { 0 };
	struct cpuid_result r = { 0, 0, 0, 0 };
	cpuid_policy_apply(&p, 1, 0, POLICY_CR4_OSXSAVE, &r);
	assert_true(r.ecx & CPUID_1_ECX_OSXSAVE);
	r = (struct cpuid_result){ 0, 0, 0xffffffffu, 0 };
	cpuid_policy_apply(&p, 1, 0, 0, &r); /* nestbed's own CR4 must not show through */
	assert_false(r.ecx & CPUID_1_ECX_OSXSAVE);
	r = (struct cpuid_result){ 0, 0, CPUID_7_ECX_OSPKE, 0 };
	cpuid_policy_apply(&p, 7, 0, 0, &r);
	assert_false(r.ecx & CPUID_7_ECX_OSPKE);
	r = (struct cpuid_result){ 0, 0, 0, 0 };
	cpuid_policy_apply(&p, 7, 0, POLICY_CR4_PKE, &r);
	assert_true(r.ecx & CPUID_7_ECX_OSPKE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hides_vmx_and_svm_by_default),
		cmocka_unit_test(test_exposes_what_the_nested_layer_offers),
		cmocka_unit_test(test_hypervisor_leaves),
		cmocka_unit_test(test_cr4_mirrors),
	};
	return cmocka_run_group_tests_name("cpuid_policy", tests, NULL, NULL);
}
