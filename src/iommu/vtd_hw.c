/* The hardware half of VT-d programming: tables in nestbed's frames, the unit's
 * registers through nestbed's identity map (VT-d 10.4; the enabling order of 6.5
 * and 10.4.4-10.4.8). */
#include "iommu/vtd.h"

#include "core/format.h"
#include "core/memory.h"
#include "iommu/vtd_regs.h"

#define VTD_POLL_LIMIT 100000000u

static uint32_t rd32(uint64_t base, uint32_t off)
{
	return *(volatile uint32_t *)phys_to_virt(base + off);
}

static uint64_t rd64(uint64_t base, uint32_t off)
{
	return *(volatile uint64_t *)phys_to_virt(base + off);
}

static void wr32(uint64_t base, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)phys_to_virt(base + off) = v;
}

static void wr64(uint64_t base, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)phys_to_virt(base + off) = v;
}

uint64_t vtd_build_root(uint64_t slpt, unsigned levels)
{
	uint64_t root = alloc_frames_zeroed(1, FRAME_SIZE);
	uint64_t ctx = alloc_frames_zeroed(1, FRAME_SIZE);
	if (!root || !ctx)
		return 0;
	uint64_t entry[2];
	vtd_context_entry(slpt, levels, entry);
	uint64_t *c = phys_to_virt(ctx), *r = phys_to_virt(root);
	for (unsigned i = 0; i < VTD_ENTRIES; i++) {
		c[2 * i] = entry[0];
		c[2 * i + 1] = entry[1];
		r[2 * i] = ctx | VTD_ENTRY_PRESENT;   /* every bus: the same devices' view */
	}
	return root;
}

/* Writes one GCMD command keeping the other enabled states (10.4.4), then waits for
 * GSTS to show `want` under `mask`. */
static int gcmd(uint64_t base, uint32_t set, uint32_t clear, uint32_t mask, uint32_t want)
{
	uint32_t v = (rd32(base, VTD_REG_GSTS) & VTD_GSTS_PRESERVE & ~clear) | set;
	wr32(base, VTD_REG_GCMD, v);
	for (uint32_t i = 0; i < VTD_POLL_LIMIT; i++)
		if ((rd32(base, VTD_REG_GSTS) & mask) == want)
			return 0;
	return -1;
}

static int wait64_clear(uint64_t base, uint32_t off, uint64_t bit)
{
	for (uint32_t i = 0; i < VTD_POLL_LIMIT; i++)
		if (!(rd64(base, off) & bit))
			return 0;
	return -1;
}

int vtd_enable(uint64_t base, uint64_t root, char *err, size_t errlen)
{
	uint64_t cap = rd64(base, VTD_REG_CAP), ecap = rd64(base, VTD_REG_ECAP);
	uint32_t gsts = rd32(base, VTD_REG_GSTS);
	if (gsts & VTD_GCMD_TE && gcmd(base, 0, VTD_GCMD_TE, VTD_GCMD_TE, 0)) {
		format_buf(err, errlen, "translation left on by the firmware does not turn off");
		return -1;
	}
	if (gsts & VTD_GCMD_QIE && gcmd(base, 0, VTD_GCMD_QIE, VTD_GCMD_QIE, 0)) {
		format_buf(err, errlen, "queued invalidation left on by the firmware does not turn off");
		return -1;
	}
	/* The tables must be in memory before the unit walks them (6.8: without page-walk
	 * coherency the unit does not snoop the CPU's caches). */
	if (!(ecap & VTD_ECAP_C))
		__asm__ volatile("wbinvd" ::: "memory");
	__asm__ volatile("mfence" ::: "memory");
	wr64(base, VTD_REG_RTADDR, root & VTD_RTADDR_MASK);
	if (gcmd(base, VTD_GCMD_SRTP, 0, VTD_GCMD_SRTP, VTD_GCMD_SRTP)) {
		format_buf(err, errlen, "GSTS.RTPS never set after GCMD.SRTP");
		return -1;
	}
	if (cap & VTD_CAP_RWBF) {
		wr32(base, VTD_REG_GCMD, (rd32(base, VTD_REG_GSTS) & VTD_GSTS_PRESERVE) | VTD_GCMD_WBF);
		for (uint32_t i = 0; rd32(base, VTD_REG_GSTS) & VTD_GCMD_WBF; i++)
			if (i == VTD_POLL_LIMIT) {
				format_buf(err, errlen, "write-buffer flush never completes");
				return -1;
			}
	}
	wr64(base, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL);
	if (wait64_clear(base, VTD_REG_CCMD, VTD_CCMD_ICC)) {
		format_buf(err, errlen, "global context-cache invalidation never completes");
		return -1;
	}
	uint32_t iotlb = (uint32_t)((ecap >> VTD_ECAP_IRO_SHIFT) & VTD_ECAP_IRO_MASK) * 16 +
			 VTD_IOTLB_REG_OFFSET;
	wr64(base, iotlb, VTD_IOTLB_IVT | VTD_IOTLB_IIRG_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
	if (wait64_clear(base, iotlb, VTD_IOTLB_IVT)) {
		format_buf(err, errlen, "global IOTLB invalidation never completes");
		return -1;
	}
	if (gcmd(base, VTD_GCMD_TE, 0, VTD_GCMD_TE, VTD_GCMD_TE)) {
		format_buf(err, errlen, "GSTS.TES never set after GCMD.TE");
		return -1;
	}
	return 0;
}

unsigned vtd_faults(uint64_t base, struct vtd_fault *first)
{
	uint64_t cap = rd64(base, VTD_REG_CAP);
	uint32_t fro = (uint32_t)((cap >> VTD_CAP_FRO_SHIFT) & VTD_CAP_FRO_MASK) * 16;
	unsigned nfr = (unsigned)((cap >> VTD_CAP_NFR_SHIFT) & VTD_CAP_NFR_MASK) + 1;
	unsigned count = 0;
	for (unsigned i = 0; i < nfr; i++) {
		struct vtd_fault f;
		if (!vtd_fault_decode(rd64(base, fro + 16 * i), rd64(base, fro + 16 * i + 8), &f))
			continue;
		if (!count++)
			*first = f;
	}
	return count;
}
