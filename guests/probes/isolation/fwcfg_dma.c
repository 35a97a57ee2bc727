/* isolation/fwcfg-dma: QEMU's fw_cfg DMA engine writes wherever its descriptor says, in
 * physical memory, past NPT/EPT (QEMU docs/specs/fw_cfg.rst, "DMA interface"). Under
 * nestbed: a DMA read of the signature item into the guest's own buffer works (control
 * 0, "QEMU"); a read whose buffer lies in nestbed's memory, straddles into it, or wraps
 * past 2^64 gets exactly the error bit and moves nothing (the guest's part of a
 * straddling buffer is unchanged); a SKIP over nestbed's memory moves nothing and
 * succeeds; a descriptor placed in nestbed's memory is not run; nestbed's canary is the
 * same after all of it. SKIP without fw_cfg DMA (Bochs) and without nestbed (bare: the
 * probe would write into whatever lies there).
 *
 * isolation/fwcfg-dma-l2: the same door from an L2 whose L1 (the mini-hypervisor, empty
 * I/O permission map / bitmaps) does not intercept the fw_cfg ports: nestbed still
 * mediates them, the device's addresses being physical whatever the level. The L2's read
 * into its own buffer works, its read into nestbed's memory gets the error bit. */
#include "core/string.h"
#include "probes/isolation/l0_doors.h"
#include "lib/mhv.h"
#include "lib/probe.h"

#define FWCFG_SELECTOR 0x510
#define FWCFG_DATA 0x511
#define FWCFG_DMA_HIGH 0x514
#define FWCFG_DMA_LOW 0x518
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_ID 0x0001
#define FWCFG_ID_DMA (1u << 1)
#define CTL_ERROR 0x01u
#define CTL_READ 0x02u
#define CTL_SKIP 0x04u
#define CTL_SELECT 0x08u

struct dma_access {
	uint32_t control, length; /* big-endian */
	uint64_t address;
} __attribute__((packed));

static struct dma_access desc __attribute__((aligned(16)));
static uint8_t buffer[64] __attribute__((aligned(16)));

static uint32_t read_item_le32(uint16_t item)
{
	io_outw(FWCFG_SELECTOR, item);
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)io_inb(FWCFG_DATA) << (8 * i);
	return v;
}

/* Runs one transfer from a descriptor at desc_pa; returns its control word (host order). */
static void start(uint64_t desc_pa)
{
	io_outl(FWCFG_DMA_HIGH, __builtin_bswap32((uint32_t)(desc_pa >> 32)));
	io_outl(FWCFG_DMA_LOW, __builtin_bswap32((uint32_t)desc_pa));
}

static uint32_t transfer(uint32_t control, uint32_t length, uint64_t address)
{
	desc.control = __builtin_bswap32(control);
	desc.length = __builtin_bswap32(length);
	desc.address = __builtin_bswap64(address);
	__asm__ volatile("" ::: "memory");
	start((uint64_t)&desc);
	__asm__ volatile("" ::: "memory");
	return __builtin_bswap32(*(volatile uint32_t *)&desc.control);
}

/* PROBE_PASS with nestbed's canary and memory, or a SKIP/FAIL. */
static enum probe_status prerequisites(struct probe_run *run, struct l0_canary *canary,
				       uint64_t *l0_base, uint64_t *l0_len)
{
	enum probe_status s = l0_canary_get(run, canary);
	if (s != PROBE_PASS)
		return s;
	uint32_t sig = read_item_le32(FWCFG_SIGNATURE);
	if (sig != 0x554d4551u) /* "QEMU" */
		return probe_skip(run, "no fw_cfg: the signature item reads %#x, not \"QEMU\"", sig);
	uint32_t id = read_item_le32(FWCFG_ID);
	if (!(id & FWCFG_ID_DMA))
		return probe_skip(run, "fw_cfg without the DMA interface (FW_CFG_ID %#x)", id);
	if (!l0_reserved_range(l0_base, l0_len) || *l0_len < 0x1000)
		return probe_fail(run, "expected nestbed's memory as a reserved range of the memory map, found none");
	diag("nestbed's memory (reserved) from %#llx, %#llx bytes", (unsigned long long)*l0_base,
	     (unsigned long long)*l0_len);
	return PROBE_PASS;
}

static enum probe_status fwcfg_dma(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	uint64_t l0_base = 0, l0_len = 0;
	enum probe_status s = prerequisites(run, &canary, &l0_base, &l0_len);
	if (s != PROBE_PASS)
		return s;

	/* the guest's own buffer: works */
	memset(buffer, 0, sizeof(buffer));
	uint32_t ctl = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 4, (uint64_t)buffer);
	EXPECT_EQ(run, "control after a DMA read of the signature into the guest's buffer", 0, ctl);
	if (memcmp(buffer, "QEMU", 4))
		return probe_fail(run, "DMA read of the signature: expected \"QEMU\", observed %02x %02x %02x %02x",
				  buffer[0], buffer[1], buffer[2], buffer[3]);

	/* a buffer inside nestbed's memory: the error bit, exactly */
	ctl = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 4, l0_base + 0x100);
	EXPECT_EQ(run, "control after a DMA read into nestbed's memory (error bit)", CTL_ERROR, ctl);
	/* a buffer straddling into it from the guest's memory below: refused, nothing moved */
	const struct guest_boot_info *b = &guest_boot_info;
	if (memory_usable_covers(b->memory_ranges, b->nr_memory_ranges, l0_base - 4, l0_base)) {
		volatile uint8_t *below = (volatile uint8_t *)(l0_base - 4);
		for (unsigned i = 0; i < 4; i++)
			below[i] = 0xa5;
		ctl = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 8, l0_base - 4);
		EXPECT_EQ(run, "control after a DMA read straddling into nestbed's memory", CTL_ERROR, ctl);
		for (unsigned i = 0; i < 4; i++)
			EXPECT_EQ(run, "guest byte below nestbed's memory after the refused read", 0xa5, below[i]);
	} else {
		diag("no usable memory right below nestbed's range: straddling case not run");
	}
	/* a buffer that wraps past 2^64 */
	ctl = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 0x20, ~0ull - 0xf);
	EXPECT_EQ(run, "control after a DMA read whose buffer wraps past 2^64", CTL_ERROR, ctl);
	/* SKIP moves nothing: allowed wherever its address points */
	ctl = transfer(CTL_SELECT | CTL_SKIP | (FWCFG_SIGNATURE << 16), 4, l0_base);
	EXPECT_EQ(run, "control after a DMA SKIP naming nestbed's memory (moves nothing)", 0, ctl);

	/* a descriptor in nestbed's memory: nothing runs, nothing changes */
	desc.control = __builtin_bswap32(0x5a5a5a5au);
	start(l0_base + 0x200);
	EXPECT_EQ(run, "guest's descriptor after a transfer started from nestbed's memory", 0x5a5a5a5au,
		  __builtin_bswap32(*(volatile uint32_t *)&desc.control));

	/* still working, and nestbed intact */
	memset(buffer, 0, sizeof(buffer));
	ctl = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 4, (uint64_t)buffer + 4);
	EXPECT_EQ(run, "control after a second DMA read into the guest's buffer", 0, ctl);
	if (memcmp(buffer + 4, "QEMU", 4))
		return probe_fail(run, "second DMA read of the signature: expected \"QEMU\"");
	io_outw(FWCFG_SELECTOR, FWCFG_SIGNATURE);
	return l0_canary_same(run, &canary, "after the fw_cfg DMA transfers");
}
PROBE("isolation/fwcfg-dma", fwcfg_dma);

/* L2: a read into its own buffer and one into nestbed's memory; the two control words. */
static uint64_t l2_transfers(void *arg)
{
	uint64_t l0_base = *(const uint64_t *)arg;
	uint32_t own = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 4, (uint64_t)buffer + 8);
	uint32_t l0 = transfer(CTL_SELECT | CTL_READ | (FWCFG_SIGNATURE << 16), 4, l0_base + 0x100);
	return (uint64_t)l0 << 32 | own;
}

static enum probe_status fwcfg_dma_l2(struct probe_run *run)
{
	struct l0_canary canary = { 0, 0, 0 };
	static uint64_t l0_base;
	uint64_t l0_len = 0;
	enum probe_status s = prerequisites(run, &canary, &l0_base, &l0_len);
	if (s != PROBE_PASS)
		return s;
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	memset(buffer, 0, sizeof(buffer));
	mhv_l2_call_value(vm, l2_transfers, &l0_base);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "control after L2's DMA read into its own buffer", 0, (uint32_t)mhv_l2_result);
	if (memcmp(buffer + 8, "QEMU", 4))
		return probe_fail(run, "L2's DMA read of the signature: expected \"QEMU\"");
	EXPECT_EQ(run, "control after L2's DMA read into nestbed's memory (error bit)", CTL_ERROR,
		  mhv_l2_result >> 32);
	io_outw(FWCFG_SELECTOR, FWCFG_SIGNATURE);
	return l0_canary_same(run, &canary, "after L2's fw_cfg DMA transfers");
}
PROBE("isolation/fwcfg-dma-l2", fwcfg_dma_l2);
