/* The pure half of VT-d programming (host-tested): table depth and entry formats. */
#include "iommu/vtd.h"

#include "iommu/vtd_regs.h"

unsigned vtd_levels(uint64_t cap, uint64_t must_reach)
{
	unsigned sagaw = (unsigned)((cap >> VTD_CAP_SAGAW_SHIFT) & VTD_CAP_SAGAW_MASK);
	if (sagaw & VTD_SAGAW_48)
		return 4;
	if ((sagaw & VTD_SAGAW_39) && must_reach <= VTD_REACH_3LEVEL)
		return 3;
	return 0;
}

void vtd_context_entry(uint64_t slpt, unsigned levels, uint64_t out[2])
{
	out[0] = (slpt & VTD_RTADDR_MASK) | VTD_ENTRY_PRESENT;   /* TT 00, FPD 0 */
	out[1] = (levels == 4 ? VTD_CTX_AW_48 : VTD_CTX_AW_39) |
		 ((uint64_t)VTD_DOMAIN << VTD_CTX_DID_SHIFT);
}
