/* nestbed's control interface: a guest executes VMMCALL (AMD) or VMCALL (Intel) with
 * RAX = NESTBED_HC_MAGIC | function. Shared with the guests (guests/lib includes it).
 * Only the primary guest (L1) at CPL 0 is answered; a call without the magic, at CPL > 0
 * or from an L2 gets #UD (or the exit its L1 asked for), as on a CPU without nestbed.
 * A buffer is a linear address in the caller's paging, written as the caller would at
 * CPL 0 (CR0.WP honoured); a buffer that is not writable or not the guest's RAM gives
 * NESTBED_HC_ERROR and nothing is written. */
#ifndef NESTBED_HYPERCALL_ABI_H
#define NESTBED_HYPERCALL_ABI_H

#define NESTBED_HC_MAGIC 0x4E45535442454400ull /* "NESTBED" in the upper 7 bytes */
#define NESTBED_HC_MAGIC_MASK 0xFFFFFFFFFFFFFF00ull
#define NESTBED_HC_ABI_VERSION 2 /* 2: buffers are linear addresses, CPL 0 only */

enum nestbed_hypercall {
	/* -> RAX 0, RBX ABI version, RCX vendor (1 VMX, 2 SVM), RDX L1 exits so far */
	NESTBED_HC_VERSION = 0,
	/* RBX = buffer (linear), RCX = its size: writes struct nestbed_hc_counters;
	 * -> RAX bytes written, or NESTBED_HC_ERROR */
	NESTBED_HC_COUNTERS = 1,
	/* prints the nestbed-stats line now -> RAX 0 */
	NESTBED_HC_PRINT_STATS = 2,
	/* RBX = buffer (linear), RCX = 16: writes nestbed's canary XOR the key it
	 * returns in RDX; for the isolation probe -> RAX 0 */
	NESTBED_HC_CANARY = 3,
	/* RBX = n: the n-th range of nestbed's own memory (its image, heap, module copies),
	 * which the guest's memory map reserves -> RAX 0, RBX base, RCX length (4 KiB
	 * multiples); RAX NESTBED_HC_ERROR past the last one. For the isolation probes. */
	NESTBED_HC_OWN_RANGE = 4,
	/* -> RAX 0, RBX the IOMMU units translating device DMA (0: none, DMA can reach
	 * nestbed), RCX and RDX base and size of nestbed's image (memory that no device
	 * DMA may reach; the guest's memory map already shows it reserved); RBX bit 63 set
	 * when nestbed offers the guest a virtual IOMMU (option viommu: its ACPI table stays
	 * visible) */
	NESTBED_HC_IOMMU = 5,
};

#define NESTBED_HC_ERROR ((unsigned long long)-1)
#define NESTBED_HC_IOMMU_VIRTUAL (1ull << 63)   /* NESTBED_HC_IOMMU: RBX */
#define NESTBED_HC_VENDOR_VMX 1
#define NESTBED_HC_VENDOR_SVM 2
#define NESTBED_HC_COUNTER_KINDS 32

struct nestbed_hc_counters {
	unsigned long long total;
	unsigned long long by_kind[NESTBED_HC_COUNTER_KINDS]; /* index: enum exit_kind */
};

#endif
