/* isolation/dma-ahci: a device's bus-master DMA cannot reach nestbed's memory, and the
 * guest's own DMA still works. The probe drives the AHCI disk (q35: 00:1f.2) itself:
 * (a) READ DMA EXT of one sector into its own buffer, which must hold the harness's
 * pattern (harness/platforms.py: 8-byte word w of sector s is DMA_DISK_MAGIC | s << 8 | w);
 * (b) a read aimed at nestbed's whole image (NESTBED_HC_IOMMU names it; the memory map
 * shows it reserved): the IOMMU must drop it or fail the command, and nestbed must still
 * answer with its canary unchanged (the canary lives in that image); (c) the guest's own
 * DMA again. SKIPs without an AHCI disk, without nestbed, or when nestbed has no IOMMU
 * (the DMA would then overwrite nestbed). */
#include "core/string.h"
#include "lib/ahci.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"

#define DMA_DISK_MAGIC 0x4E42444D00000000ull
#define OWN_SECTOR 0x123u
#define AFTER_SECTOR 0x456u

static uint64_t own_buffer[AHCI_SECTOR / 8] __attribute__((aligned(4096)));

/* (a) and (c): one sector into our buffer, word by word against the pattern. */
static enum probe_status own_read(struct probe_run *run, const struct ahci_disk *d,
				  uint32_t sector, const char *when)
{
	memset(own_buffer, 0, sizeof(own_buffer));
	uint32_t status, moved;
	if (ahci_read(d, sector, 1, (uint64_t)(uintptr_t)own_buffer, &status, &moved))
		return probe_fail(run, "%s: READ DMA EXT of sector %#x into the guest's own buffer "
				  "failed (PxTFD %#x, %u bytes moved)", when, sector, status, moved);
	for (unsigned w = 0; w < AHCI_SECTOR / 8; w++) {
		uint64_t want = DMA_DISK_MAGIC | (uint64_t)sector << 8 | w;
		if (own_buffer[w] != want)
			return probe_fail(run, "%s: sector %#x word %u: expected %#llx, observed %#llx "
					  "(%u bytes moved)", when, sector, w, (unsigned long long)want,
					  (unsigned long long)own_buffer[w], moved);
	}
	diag("%s: sector %#x read by DMA into the guest's buffer at %p: pattern intact", when,
	     sector, (void *)own_buffer);
	return PROBE_PASS;
}

/* The canary as (mask words XOR key): compared between calls without ever holding the
 * unmasked value in memory (isolation/l0-canary scans for it). */
struct canary_view {
	uint64_t m0, m1, key;
};

static int canary(struct canary_view *c)
{
	static uint64_t masked[2] __attribute__((aligned(16)));
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_CANARY, (uint64_t)masked,
				     sizeof(masked), 0 };
	uint64_t vector = 0;
	if (nestbed_hypercall(&r, &vector) != NESTBED_HC_ANSWERED || r.rax != 0)
		return -1;
	c->m0 = masked[0];
	c->m1 = masked[1];
	c->key = r.rdx;
	return 0;
}

static enum probe_status dma_ahci(struct probe_run *run)
{
	struct ahci_disk d;
	char why[96];
	if (ahci_find_disk(&d, why, sizeof(why)))
		return probe_skip(run, "%s", why);
	diag("AHCI 00:%02x.%u ABAR %#llx, disk on port %u", d.dev, d.fn,
	     (unsigned long long)d.abar, d.port);
	enum probe_status s = own_read(run, &d, OWN_SECTOR, "(a) own DMA");
	if (s != PROBE_PASS)
		return s;

	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_IOMMU, 0, 0, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&r, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s (own DMA checked)", nestbed_hc_absent_reason(outcome));
	EXPECT_EQ(run, "RAX (status of NESTBED_HC_IOMMU)", 0, r.rax);
	if (r.rbx == 0)
		return probe_skip(run, "no IOMMU: DMA is not isolated (nestbed found none to "
				  "program; own DMA checked)");
	uint64_t target = r.rcx, size = r.rdx;
	uint32_t count = (uint32_t)(size / AHCI_SECTOR);
	if (count > AHCI_MAX_SECTORS)
		count = AHCI_MAX_SECTORS;
	if (!target || !count)
		return probe_fail(run, "NESTBED_HC_IOMMU: expected nestbed's image range, observed "
				  "base %#llx size %#llx", (unsigned long long)target,
				  (unsigned long long)size);

	struct canary_view before, after;
	if (canary(&before))
		return probe_fail(run, "NESTBED_HC_CANARY did not answer before the DMA");
	uint32_t status, moved;
	int rc = ahci_read(&d, 0, count, target, &status, &moved);
	diag("(b) READ DMA EXT of %u sectors into nestbed's image at %#llx: %s, PxTFD %#x, "
	     "PRDBC %u", count, (unsigned long long)target,
	     rc ? "command failed" : "command completed", status, moved);
	if (canary(&after))
		return probe_fail(run, "NESTBED_HC_CANARY did not answer after DMA into nestbed's "
				  "image at %#llx", (unsigned long long)target);
	/* (before.m ^ before.key) == (after.m ^ after.key), compared as XORs of the masks
	 * and of the keys. */
	if ((before.m0 ^ after.m0) != (before.key ^ after.key) ||
	    (before.m1 ^ after.m1) != (before.key ^ after.key))
		return probe_fail(run, "nestbed's canary changed after a DMA read of %u sectors "
				  "into its image at %#llx: the DMA reached nestbed",
				  count, (unsigned long long)target);
	diag("(b) nestbed still answers and its canary is unchanged: the DMA did not arrive");
	if (rc) {
		/* a failed command may leave the port stopped: take it over again */
		if (ahci_find_disk(&d, why, sizeof(why)))
			return probe_fail(run, "after the refused DMA: %s", why);
	}
	return own_read(run, &d, AFTER_SECTOR, "(c) own DMA again");
}
PROBE("isolation/dma-ahci", dma_ahci);
