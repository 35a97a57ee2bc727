/* The hardware half of AMD-Vi programming: the device table and event log in nestbed's
 * frames, the unit's registers through nestbed's identity map (spec 48882, 3.4). */
#include "iommu/amdvi.h"

#include "core/format.h"
#include "core/memory.h"

static uint64_t rd64(uint64_t base, uint32_t off)
{
	return *(volatile uint64_t *)phys_to_virt(base + off);
}

static void wr64(uint64_t base, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)phys_to_virt(base + off) = v;
}

int amdvi_enable(uint64_t base, uint64_t root, struct amdvi_unit *unit, char *err,
		 size_t errlen)
{
	uint64_t devtab = alloc_frames_zeroed(AMDVI_DEVTAB_BYTES / FRAME_SIZE, FRAME_SIZE);
	uint64_t log = alloc_frames_zeroed(1, FRAME_SIZE);
	uint64_t cmdbuf = alloc_frames_zeroed(1, FRAME_SIZE);
	uint64_t wait = alloc_frames_zeroed(1, FRAME_SIZE);
	if (!devtab || !log || !cmdbuf || !wait) {
		format_buf(err, errlen, "no memory for the device table");
		return -1;
	}
	uint64_t dte[4];
	amdvi_dte(root, dte);
	uint64_t *t = phys_to_virt(devtab);
	for (uint32_t id = 0; id < AMDVI_DEVICE_IDS; id++)
		for (unsigned q = 0; q < 4; q++)
			t[id * 4 + q] = dte[q];
	__asm__ volatile("wbinvd" ::: "memory");   /* the unit need not snoop the caches */
	/* Translation off while the tables change, then on (3.4.6: the control register). */
	uint64_t control = rd64(base, AMDVI_REG_CONTROL);
	wr64(base, AMDVI_REG_CONTROL, control & ~(AMDVI_CONTROL_IOMMU_EN | AMDVI_CONTROL_CMDBUF_EN |
						   AMDVI_CONTROL_EVENT_LOG_EN));
	wr64(base, AMDVI_REG_EXCL_BASE, 0);
	wr64(base, AMDVI_REG_EXCL_LIMIT, 0);
	wr64(base, AMDVI_REG_DEVTAB, devtab | AMDVI_DEVTAB_SIZE_FIELD);
	wr64(base, AMDVI_REG_EVENT_LOG, log | AMDVI_EVENT_LOG_LEN_256 << AMDVI_EVENT_LOG_LEN_SHIFT);
	wr64(base, AMDVI_REG_EVENT_HEAD, 0);
	wr64(base, AMDVI_REG_EVENT_TAIL, 0);
	wr64(base, AMDVI_REG_CMDBUF, cmdbuf | AMDVI_CMDBUF_LEN_256 << AMDVI_EVENT_LOG_LEN_SHIFT);
	wr64(base, AMDVI_REG_CMD_HEAD, 0);
	wr64(base, AMDVI_REG_CMD_TAIL, 0);
	wr64(base, AMDVI_REG_CONTROL, control | AMDVI_CONTROL_IOMMU_EN |
		 AMDVI_CONTROL_EVENT_LOG_EN | AMDVI_CONTROL_CMDBUF_EN);
	*unit = (struct amdvi_unit){ .base = base, .devtab = devtab, .cmdbuf = cmdbuf,
				     .wait = wait, .efr = rd64(base, AMDVI_REG_EFR) };
	if (!(rd64(base, AMDVI_REG_CONTROL) & AMDVI_CONTROL_IOMMU_EN)) {
		format_buf(err, errlen, "IommuEn does not stay set");
		return -1;
	}
	return 0;
}

unsigned amdvi_events(uint64_t base, uint64_t first[2])
{
	uint64_t log = rd64(base, AMDVI_REG_EVENT_LOG) & AMDVI_ADDR_MASK;
	uint64_t head = rd64(base, AMDVI_REG_EVENT_HEAD) & AMDVI_EVENT_PTR_MASK;
	uint64_t tail = rd64(base, AMDVI_REG_EVENT_TAIL) & AMDVI_EVENT_PTR_MASK;
	const uint64_t size = AMDVI_EVENT_SIZE << AMDVI_EVENT_LOG_LEN_256;
	if (!log || head >= size || tail >= size)
		return 0;
	unsigned count = (unsigned)(((tail + size - head) % size) / AMDVI_EVENT_SIZE);
	if (count) {
		const volatile uint64_t *e = phys_to_virt(log + head);
		first[0] = e[0];
		first[1] = e[1];
	}
	return count;
}

/* 2.4.1 COMPLETION_WAIT (opcode 1) with its store bit; 2.4 the opcode in 63:60 */
#define CMD_COMPLETION_WAIT_STORE (1ull << 60 | 1ull)
/* A COMPLETION_WAIT the unit does not finish in this many polls is a dead unit. */
#define AMDVI_WAIT_POLLS 10000000u

int amdvi_commands(struct amdvi_unit *u, const uint64_t (*cmds)[2], unsigned n)
{
	uint64_t *ring = phys_to_virt(u->cmdbuf);
	volatile uint64_t *done = phys_to_virt(u->wait);
	uint64_t seq = ++u->wait_seq;
	for (unsigned i = 0; i <= n; i++) {
		uint64_t *slot = ring + u->cmd_tail / 8;
		if (i < n) {
			slot[0] = cmds[i][0];
			slot[1] = cmds[i][1];
		} else {
			slot[0] = (u->wait & 0x000ffffffffffff8ull) | CMD_COMPLETION_WAIT_STORE;
			slot[1] = seq;
		}
		u->cmd_tail = (u->cmd_tail + AMDVI_CMD_SIZE) % AMDVI_CMDBUF_BYTES;
		/* never more than the ring holds before the unit catches up */
		if ((i + 1) % (AMDVI_CMDBUF_BYTES / AMDVI_CMD_SIZE / 2) == 0)
			wr64(u->base, AMDVI_REG_CMD_TAIL, u->cmd_tail);
	}
	__asm__ volatile("mfence" ::: "memory");
	wr64(u->base, AMDVI_REG_CMD_TAIL, u->cmd_tail);
	for (unsigned p = 0; p < AMDVI_WAIT_POLLS; p++) {
		if (*done == seq)
			return 0;
		__asm__ volatile("pause");
	}
	return -1;
}
