/* CPUID leaves and bits the runtime and probes read, and the vendor check both
 * halves of the future mini-hypervisor API dispatch on. */
#ifndef GUEST_CPUID_H
#define GUEST_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_LEAF_VENDOR        0x00000000u /* SDM vol.2A CPUID leaf 0; APM vol.3 E.3.1 */
#define CPUID_LEAF_FEATURES      0x00000001u
#define CPUID_1_ECX_VMX          (1u << 5)  /* SDM vol.2A Table 3-10 */
#define CPUID_1_ECX_HYPERVISOR   (1u << 31) /* reserved for hypervisor use, APM vol.3 E.3.2 */

#define CPUID_LEAF_EXT_MAX       0x80000000u /* APM vol.3 E.4.1 */
#define CPUID_LEAF_EXT_FEATURES  0x80000001u
#define CPUID_80000001_ECX_SVM   (1u << 2)  /* APM vol.3 E.4.2 */

#define CPUID_LEAF_SVM           0x8000000au /* APM vol.3 App. E, Fn8000_000A "SVM features" */
#define CPUID_8000000A_EAX_SVMREV_MASK 0xffu /* EAX[7:0]: SVM revision */
/* EBX: number of ASIDs; EDX: feature bits, named in svm_feature_names(). */

#define CPUID_VENDOR_INTEL "GenuineIntel"
#define CPUID_VENDOR_AMD   "AuthenticAMD"

enum cpu_vendor {
	CPU_VENDOR_OTHER,
	CPU_VENDOR_INTEL,
	CPU_VENDOR_AMD,
};

/* The 12-character vendor string of CPUID leaf 0 (EBX, EDX, ECX), NUL-terminated. */
void cpuid_vendor_string(char out[13]);
enum cpu_vendor cpu_vendor(void);
/* The highest extended leaf, or 0 when the 0x8000_0000 range is absent. */
uint32_t cpuid_max_extended_leaf(void);
bool cpu_has_vmx(void);
bool cpu_has_svm(void);
/* The 48-character brand string (leaves 8000_0002h-8000_0004h), leading spaces
 * dropped; "" without those leaves. */
void cpuid_brand_string(char out[49]);
/* The hypervisor's signature at leaf 4000_0000h (EBX, ECX, EDX) when CPUID.1:ECX[31] is
 * set; "" otherwise. */
void cpuid_hypervisor_signature(char out[13]);
/* CPUID.1:ECX[31]: a hypervisor runs this guest. */
bool cpu_hypervisor_present(void);

#endif
