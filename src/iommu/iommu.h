/* nestbed owns the machine's IOMMU: at boot it finds the VT-d units the ACPI DMAR
 * describes (or else the AMD-Vi units of the IVRS), lets every device's DMA reach all memory but nestbed's, takes the units'
 * registers out of the guest's memory map (unmapped in NPT/EPT like nestbed's own
 * memory) and hides the DMAR from the guest's ACPI view. There is no virtual IOMMU. */
#ifndef NESTBED_IOMMU_H
#define NESTBED_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/amdvi.h"
#include "iommu/dmar.h"

struct machine;
struct vamdvi_state;

struct iommu_state {
	const char *kind;       /* "vt-d", "amd-vi", or "none" */
	bool amdvi;             /* the units are AMD-Vi (else VT-d) */
	uint32_t nr_found;      /* units the firmware describes */
	uint32_t nr_enabled;    /* units translating with nestbed's tables */
	uint64_t reg_base[DMAR_MAX_UNITS];
	uint64_t dma_top;       /* DMA reaches [0, dma_top) but nestbed's ranges */
	int hidden;             /* RSDT/XSDT entries removed */
	struct amdvi_unit amdvi_units[DMAR_MAX_UNITS];
	uint64_t dma_root;      /* the identity table every device starts with */
	struct vamdvi_state *viommu; /* L1's virtual AMD-Vi (option viommu), or NULL */
};

/* Runs after the guest's memory map is built (nestbed's ranges are known); adds the
 * units' register ranges to nestbed's ranges in that map. Prints one `nestbed: iommu`
 * line. Stops nestbed when options.require_iommu is set and no unit was enabled. */
void iommu_init(struct machine *m);

/* At the end of a run: one `nestbed: iommu fault ...` line per unit that recorded
 * blocked DMA (how many records, and the first: source, address, read or write). */
void iommu_report_faults(const struct machine *m);

#endif
