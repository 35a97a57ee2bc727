/* nestbed's control interface: a guest executes VMMCALL (AMD) or VMCALL (Intel) with
 * RAX = NESTBED_HC_MAGIC | function. Shared with the guests (guests/lib includes it).
 * A call without the magic gets #UD, as on a CPU without a hypervisor. */
#ifndef NESTBED_HYPERCALL_ABI_H
#define NESTBED_HYPERCALL_ABI_H

#define NESTBED_HC_MAGIC 0x4E45535442454400ull /* "NESTBED" in the upper 7 bytes */
#define NESTBED_HC_MAGIC_MASK 0xFFFFFFFFFFFFFF00ull
#define NESTBED_HC_ABI_VERSION 1

enum nestbed_hypercall {
	/* -> RAX 0, RBX ABI version, RCX vendor (1 VMX, 2 SVM), RDX L1 exits so far */
	NESTBED_HC_VERSION = 0,
	/* RBX = guest-physical buffer, RCX = its size: writes struct nestbed_hc_counters;
	 * -> RAX bytes written, or NESTBED_HC_ERROR */
	NESTBED_HC_COUNTERS = 1,
	/* prints the nestbed-stats line now -> RAX 0 */
	NESTBED_HC_PRINT_STATS = 2,
	/* RBX = guest-physical buffer, RCX = 16: writes nestbed's canary XOR the key it
	 * returns in RDX; for the isolation probe -> RAX 0 */
	NESTBED_HC_CANARY = 3,
	/* -> RAX 0, RBX the IOMMU units translating device DMA (0: none, DMA can reach
	 * nestbed), RCX and RDX base and size of nestbed's image (memory that no device
	 * DMA may reach; the guest's memory map already shows it reserved) */
	NESTBED_HC_IOMMU = 4,
};

#define NESTBED_HC_ERROR ((unsigned long long)-1)
#define NESTBED_HC_VENDOR_VMX 1
#define NESTBED_HC_VENDOR_SVM 2
#define NESTBED_HC_COUNTER_KINDS 32

struct nestbed_hc_counters {
	unsigned long long total;
	unsigned long long by_kind[NESTBED_HC_COUNTER_KINDS]; /* index: enum exit_kind */
};

#endif
