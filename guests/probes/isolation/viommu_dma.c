/* isolation/viommu-dma: an L1 that programs the virtual AMD-Vi nestbed offers (option
 * viommu) to send a device's DMA into nestbed's memory does not get it there, and its
 * own translated DMA works. The probe is its own AMD-Vi driver (spec 48882): it finds
 * the unit in the ACPI IVRS, gives the AHCI disk (q35: 00:1f.2, device ID 0xfa) a 3-level
 * I/O page table that identity-maps the first GiB with 2 MiB pages (nestbed's image, if
 * it lies there, included) and maps IOVA 1 GiB to the probe's buffer and IOVA 1 GiB +
 * 4 MiB onward to nestbed's image (NESTBED_HC_IOMMU names it), enables the unit and
 * queues INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOMMU_ALL and COMPLETION_WAIT (whose
 * store it polls). Then (a) READ DMA EXT into IOVA 1 GiB lands in its buffer, which
 * proves the translation; (b) a read into the IOVAs of nestbed's image and (c) one into
 * its identity-mapped physical address leave nestbed's canary unchanged; the unit is
 * switched off again and (d) the disk's DMA still works. SKIPs without an AHCI disk,
 * bare, and when nestbed offers no virtual IOMMU (NESTBED_HC_IOMMU_VIRTUAL). */
#include "core/string.h"
#include "lib/ahci.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"
#include "probes/isolation/l0_doors.h"

#define DMA_DISK_MAGIC 0x4E42444D00000000ull
#define BIOS_AREA 0xe0000ull           /* ACPI 6.4 5.2.5.1 */
#define BIOS_AREA_END 0x100000ull
#define IVRS_FIRST_BLOCK 48            /* 5.2.1: after the header, IVinfo, reserved */
#define IVHD_BASE 8                    /* 5.2.2.1: IOMMU base address */

/* 3.4 registers */
#define REG_DEVTAB 0x0000
#define REG_CMDBUF 0x0008
#define REG_EVLOG 0x0010
#define REG_CONTROL 0x0018
#define REG_CMD_HEAD 0x2000
#define REG_CMD_TAIL 0x2008
#define REG_EV_HEAD 0x2010
#define REG_EV_TAIL 0x2018
#define CTRL_IOMMU_EN (1ull << 0)
#define CTRL_EVLOG_EN (1ull << 2)
#define CTRL_CMDBUF_EN (1ull << 12)
#define LEN_256 (8ull << 56)           /* 3.4.2/3.4.3: 256 entries */
/* 2.2.2 DTE, 2.2.3 PTE */
#define DTE_V (1ull << 0)
#define DTE_TV (1ull << 1)
#define DTE_MODE(n) ((uint64_t)(n) << 9)
#define PERM_RW (3ull << 61)
#define PTE_PR (1ull << 0)
#define PTE_NEXT(n) ((uint64_t)(n) << 9)
/* 2.4 commands */
#define CMD_COMPLETION_WAIT_STORE (1ull << 60 | 1ull)
#define CMD_INV_DEVTAB_ENTRY (2ull << 60)
#define CMD_INV_IOMMU_ALL (8ull << 60)

#define AHCI_DEVICE_ID 0xfau           /* 00:1f.2 */
#define IOVA_OWN 0x40000000ull         /* 1 GiB */
#define IOVA_NESTBED 0x40400000ull     /* 1 GiB + 4 MiB */
#define MAX_TARGET_PAGES 512u          /* one L1 table */

static uint64_t devtab[2][512] __attribute__((aligned(4096)));   /* IDs 0..255 */
static uint64_t cmdbuf[512] __attribute__((aligned(4096)));
static uint64_t evlog[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
static uint64_t l2_low[512] __attribute__((aligned(4096)));
static uint64_t l2_high[512] __attribute__((aligned(4096)));
static uint64_t l1_own[512] __attribute__((aligned(4096)));
static uint64_t l1_target[512] __attribute__((aligned(4096)));
static uint64_t own_buffer[AHCI_SECTOR / 8] __attribute__((aligned(4096)));
static volatile uint64_t wait_word __attribute__((aligned(8)));
static unsigned cmd_tail;

static uint64_t pa(const volatile void *p) { return (uint64_t)(uintptr_t)p; }
static uint64_t rd64(uint64_t a) { return *(const volatile uint64_t *)(uintptr_t)a; }
static void wr64(uint64_t a, uint64_t v) { *(volatile uint64_t *)(uintptr_t)a = v; }
static uint32_t rd32(uint64_t a) { return *(const volatile uint32_t *)(uintptr_t)a; }

static uint8_t sum(uint64_t a, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + *(const volatile uint8_t *)(uintptr_t)(a + i));
	return s;
}

/* The first IVHD's IOMMU base in the RSDT's IVRS, 0 when the guest sees none. */
static uint64_t find_iommu(void)
{
	uint64_t rsdp = 0;
	for (uint64_t a = BIOS_AREA; a + 20 <= BIOS_AREA_END && !rsdp; a += 16)
		if (memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8) == 0 && sum(a, 20) == 0)
			rsdp = a;
	if (!rsdp)
		return 0;
	uint64_t rsdt = rd32(rsdp + 16);
	uint32_t len = rd32(rsdt + 4);
	for (uint32_t i = 0; 36 + 4 * i + 4 <= len; i++) {
		uint64_t t = rd32(rsdt + 36 + 4 * i);
		if (t && memcmp((const void *)(uintptr_t)t, "IVRS", 4) == 0 &&
		    rd32(t + 4) >= IVRS_FIRST_BLOCK + 16)
			return rd64(t + IVRS_FIRST_BLOCK + IVHD_BASE);
	}
	return 0;
}

static int commands(uint64_t base, const uint64_t (*c)[2], unsigned n)
{
	static uint64_t seq;
	seq++;
	for (unsigned i = 0; i <= n; i++) {
		uint64_t *slot = &cmdbuf[(cmd_tail / 8) % 512];
		slot[0] = i < n ? c[i][0] : pa(&wait_word) | CMD_COMPLETION_WAIT_STORE;
		slot[1] = i < n ? c[i][1] : seq;
		cmd_tail = (cmd_tail + 16) % 4096;
	}
	__asm__ volatile("mfence" ::: "memory");
	wr64(base + REG_CMD_TAIL, cmd_tail);
	for (unsigned p = 0; p < 10000000u; p++)
		if (wait_word == seq)
			return 0;
	return -1;
}

static enum probe_status own_read(struct probe_run *run, const struct ahci_disk *d,
				  uint32_t sector, uint64_t dma_addr, const char *when)
{
	memset(own_buffer, 0, sizeof(own_buffer));
	uint32_t status, moved;
	if (ahci_read(d, sector, 1, dma_addr, &status, &moved))
		return probe_fail(run, "%s: READ DMA EXT of sector %#x to DMA address %#llx failed "
				  "(PxTFD %#x, %u bytes moved)", when, sector,
				  (unsigned long long)dma_addr, status, moved);
	for (unsigned w = 0; w < AHCI_SECTOR / 8; w++) {
		uint64_t want = DMA_DISK_MAGIC | (uint64_t)sector << 8 | w;
		if (own_buffer[w] != want)
			return probe_fail(run, "%s: sector %#x word %u at DMA address %#llx: expected "
					  "%#llx in the buffer at %p, observed %#llx", when, sector, w,
					  (unsigned long long)dma_addr, (unsigned long long)want,
					  (void *)own_buffer, (unsigned long long)own_buffer[w]);
	}
	diag("%s: sector %#x read by DMA at %#llx into the buffer at %p: pattern intact", when,
	     sector, (unsigned long long)dma_addr, (void *)own_buffer);
	return PROBE_PASS;
}

/* One DMA at nestbed's memory: the canary must not change. */
static enum probe_status attack(struct probe_run *run, struct ahci_disk *d, uint64_t dma_addr,
				uint32_t count, const char *what)
{
	struct l0_canary before = { 0, 0, 0 };
	if (l0_canary_get(run, &before) != PROBE_PASS)
		return probe_fail(run, "NESTBED_HC_CANARY did not answer before %s", what);
	uint32_t status, moved;
	int rc = ahci_read(d, 0, count, dma_addr, &status, &moved);
	diag("%s: READ DMA EXT of %u sectors to DMA address %#llx: %s, PxTFD %#x, PRDBC %u",
	     what, count, (unsigned long long)dma_addr, rc ? "failed" : "completed", status, moved);
	enum probe_status s = l0_canary_same(run, &before, what);
	if (s != PROBE_PASS)
		return s;
	char why[96];
	if (rc && ahci_find_disk(d, why, sizeof(why)))
		return probe_fail(run, "after %s: %s", what, why);
	return PROBE_PASS;
}

static enum probe_status viommu_dma(struct probe_run *run)
{
	struct ahci_disk d;
	char why[96];
	if (ahci_find_disk(&d, why, sizeof(why)))
		return probe_skip(run, "%s", why);
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_IOMMU, 0, 0, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&r, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(outcome));
	EXPECT_EQ(run, "RAX (status of NESTBED_HC_IOMMU)", 0, r.rax);
	if (!(r.rbx & NESTBED_HC_IOMMU_VIRTUAL))
		return probe_skip(run, "nestbed offers no virtual IOMMU (option viommu)");
	uint64_t base = find_iommu();
	if (!base)
		return probe_fail(run, "nestbed offers a virtual IOMMU, but the guest's RSDT "
				  "lists no IVRS");
	if (d.dev * 8 + d.fn != AHCI_DEVICE_ID)
		return probe_skip(run, "the AHCI disk is at 00:%02x.%u, not 00:1f.2", d.dev, d.fn);
	uint64_t target = r.rcx & ~0xfffull, size = r.rdx;
	uint32_t pages = (uint32_t)(size / 4096);
	if (pages > MAX_TARGET_PAGES)
		pages = MAX_TARGET_PAGES;
	if (!target || !pages)
		return probe_fail(run, "NESTBED_HC_IOMMU: expected nestbed's image range, observed "
				  "base %#llx size %#llx", (unsigned long long)target,
				  (unsigned long long)size);
	diag("IOMMU registers at %#llx (IVRS), nestbed's image at %#llx (%u pages aimed at)",
	     (unsigned long long)base, (unsigned long long)target, pages);

	/* the tables: 3 levels (Mode 3, 39-bit IOVAs) */
	memset(devtab, 0, sizeof(devtab));
	memset(l3, 0, sizeof(l3));
	memset(l2_high, 0, sizeof(l2_high));
	memset(l1_own, 0, sizeof(l1_own));
	for (unsigned i = 0; i < 512; i++) {
		l2_low[i] = ((uint64_t)i << 21) | PTE_PR | PERM_RW;      /* 2 MiB leaves */
		l1_target[i] = i < pages ? (target + 4096ull * i) | PTE_PR | PERM_RW : 0;
	}
	l1_own[0] = pa(own_buffer) | PTE_PR | PERM_RW;
	l2_high[0] = pa(l1_own) | PTE_NEXT(1) | PTE_PR | PERM_RW;
	l2_high[2] = pa(l1_target) | PTE_NEXT(1) | PTE_PR | PERM_RW;
	l3[0] = pa(l2_low) | PTE_NEXT(2) | PTE_PR | PERM_RW;
	l3[1] = pa(l2_high) | PTE_NEXT(2) | PTE_PR | PERM_RW;
	uint64_t *dte = &devtab[0][0] + AHCI_DEVICE_ID * 4;
	dte[1] = 1;                                                   /* domain 1 */
	dte[0] = pa(l3) | DTE_MODE(3) | DTE_V | DTE_TV | PERM_RW;

	wr64(base + REG_CONTROL, 0);
	wr64(base + REG_DEVTAB, pa(devtab) | 1);                      /* 8 KiB */
	wr64(base + REG_CMDBUF, pa(cmdbuf) | LEN_256);
	wr64(base + REG_EVLOG, pa(evlog) | LEN_256);
	wr64(base + REG_CMD_HEAD, 0);
	wr64(base + REG_CMD_TAIL, 0);
	wr64(base + REG_EV_HEAD, 0);
	wr64(base + REG_EV_TAIL, 0);
	cmd_tail = 0;
	wr64(base + REG_CONTROL, CTRL_IOMMU_EN | CTRL_CMDBUF_EN | CTRL_EVLOG_EN);
	const uint64_t inv[2][2] = { { CMD_INV_DEVTAB_ENTRY | AHCI_DEVICE_ID, 0 },
				     { CMD_INV_IOMMU_ALL, 0 } };
	if (commands(base, inv, 2))
		return probe_fail(run, "the IOMMU did not complete COMPLETION_WAIT (store at %p)",
				  (void *)&wait_word);
	diag("translation on for 00:1f.2: IOVA %#llx -> %p, IOVA %#llx -> nestbed's image, "
	     "the first GiB identity", IOVA_OWN, (void *)own_buffer, IOVA_NESTBED);

	enum probe_status s = own_read(run, &d, 0x123, IOVA_OWN, "(a) translated DMA");
	if (s == PROBE_PASS)
		s = attack(run, &d, IOVA_NESTBED, pages * 8 > AHCI_MAX_SECTORS ? AHCI_MAX_SECTORS
								     : pages * 8,
			   "(b) DMA through L1's mapping of nestbed's image");
	if (s == PROBE_PASS && target + 4096ull * pages <= (1ull << 30))
		s = attack(run, &d, target, pages * 8, "(c) DMA at nestbed's image through L1's "
			   "identity-mapped first GiB");
	wr64(base + REG_CONTROL, 0);
	if (s != PROBE_PASS)
		return s;
	return own_read(run, &d, 0x456, pa(own_buffer), "(d) unit off, untranslated DMA");
}
PROBE("isolation/viommu-dma", viommu_dma);
