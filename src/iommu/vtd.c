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

bool vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *out)
{
	if (!(hi & VTD_FRCD_HI_F))
		return false;
	out->address = lo & VTD_RTADDR_MASK;
	out->source = (uint16_t)(hi & VTD_FRCD_HI_SID_MASK);
	out->reason = (uint8_t)((hi >> VTD_FRCD_HI_FR_SHIFT) & VTD_FRCD_HI_FR_MASK);
	out->read = hi & VTD_FRCD_HI_READ;
	return true;
}
