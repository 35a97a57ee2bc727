/* The pure half of the virtual AMD-Vi (spec 48882): registers, commands, composition. */
#include "iommu/vamdvi.h"

static uint64_t *reg_slot(struct vamdvi_regs *r, uint32_t off)
{
	switch (off) {
	case VAMDVI_REG_DEVTAB: return &r->devtab;
	case VAMDVI_REG_CMDBUF: return &r->cmdbuf;
	case VAMDVI_REG_EVLOG: return &r->evlog;
	case VAMDVI_REG_CONTROL: return &r->control;
	case VAMDVI_REG_EXCL_BASE: return &r->excl_base;
	case VAMDVI_REG_EXCL_LIMIT: return &r->excl_limit;
	case VAMDVI_REG_CMD_HEAD: return &r->cmd_head;
	case VAMDVI_REG_CMD_TAIL: return &r->cmd_tail;
	case VAMDVI_REG_EV_HEAD: return &r->ev_head;
	case VAMDVI_REG_EV_TAIL: return &r->ev_tail;
	case VAMDVI_REG_STATUS: return &r->status;
	default: return 0;
	}
}

static uint64_t status(const struct vamdvi_regs *r)
{
	uint64_t s = r->status & VAMDVI_STATUS_RW1C;
	if (r->control & VAMDVI_CTRL_IOMMU_EN) {
		if (r->control & VAMDVI_CTRL_EVLOG_EN)
			s |= VAMDVI_STATUS_EVLOG_RUN;
		if (r->control & VAMDVI_CTRL_CMDBUF_EN)
			s |= VAMDVI_STATUS_CMDBUF_RUN;
	}
	return s;
}

uint64_t vamdvi_read(const struct vamdvi_regs *r, uint32_t off, unsigned size)
{
	uint32_t reg = off & ~7u;
	uint64_t v;
	if (reg == VAMDVI_REG_EFR)
		v = VAMDVI_EFR;
	else if (reg == VAMDVI_REG_STATUS)
		v = status(r);
	else {
		uint64_t *p = reg_slot((struct vamdvi_regs *)r, reg);
		v = p ? *p : 0;
	}
	if (size == 8)
		return v;
	return (off & 4) ? v >> 32 : (uint32_t)v;
}

/* The bits software may write (3.4): reserved bits read as zero. */
static uint64_t writable(uint32_t reg)
{
	switch (reg) {
	case VAMDVI_REG_DEVTAB: return VAMDVI_ADDR_MASK | 0x1ff;
	case VAMDVI_REG_CMDBUF:
	case VAMDVI_REG_EVLOG: return VAMDVI_ADDR_MASK | 0xfull << VAMDVI_LEN_SHIFT;
	case VAMDVI_REG_EXCL_BASE: return VAMDVI_ADDR_MASK | 3;   /* ExEn, Allow */
	case VAMDVI_REG_EXCL_LIMIT: return VAMDVI_ADDR_MASK;
	case VAMDVI_REG_CMD_HEAD: case VAMDVI_REG_CMD_TAIL:
	case VAMDVI_REG_EV_HEAD: case VAMDVI_REG_EV_TAIL: return VAMDVI_PTR_MASK;
	default: return ~0ull;
	}
}

enum vamdvi_action vamdvi_write(struct vamdvi_regs *r, uint32_t off, unsigned size,
				uint64_t value)
{
	uint32_t reg = off & ~7u;
	uint64_t old = vamdvi_read(r, reg, 8), v = value;
	if (size == 4)
		v = (off & 4) ? (old & 0xffffffffull) | value << 32
			      : (old & ~0xffffffffull) | (uint32_t)value;
	if (reg == VAMDVI_REG_STATUS) {   /* write 1 to clear */
		r->status &= ~(v & VAMDVI_STATUS_RW1C);
		return VAMDVI_NONE;
	}
	uint64_t *p = reg_slot(r, reg);
	if (!p)
		return VAMDVI_NONE;   /* read-only (EFR) or absent */
	uint64_t before = *p;
	*p = v & writable(reg);
	if (reg == VAMDVI_REG_CONTROL) {
		/* 3.4.6: enabling the command buffer or the event log starts it at the
		 * pointers software set; a newly enabled unit runs what is queued. */
		if ((before ^ *p) & VAMDVI_CTRL_IOMMU_EN)
			return VAMDVI_RESYNC_ALL;
		if ((*p & VAMDVI_CTRL_CMDBUF_EN) && !(before & VAMDVI_CTRL_CMDBUF_EN))
			return VAMDVI_RUN_COMMANDS;
		return VAMDVI_NONE;
	}
	if (reg == VAMDVI_REG_CMD_TAIL)
		return VAMDVI_RUN_COMMANDS;
	return VAMDVI_NONE;
}

uint64_t vamdvi_fill(struct vamdvi_regs *r, uint32_t off, unsigned size, uint64_t count,
		     uint64_t value, enum vamdvi_action *action)
{
	*action = VAMDVI_NONE;
	if (!size || size > 8 || (size & (size - 1)) || (off & (size - 1)))
		return 0;
	uint64_t page_left = (4096u - (off & 4095u)) / size;
	uint64_t n = count < page_left ? count : page_left;
	uint64_t pattern = size == 8 ? value : value & ((1ull << (8 * size)) - 1);
	for (unsigned w = size; w < 8; w *= 2)
		pattern |= pattern << (8 * w);
	uint64_t end = (uint64_t)off + n * size;
	for (uint64_t reg = ((uint64_t)off + 7) & ~7ull; reg + 8 <= end && reg < VAMDVI_MMIO_SIZE;
	     reg += 8) {
		enum vamdvi_action a = vamdvi_write(r, (uint32_t)reg, 8, pattern);
		if (a == VAMDVI_RESYNC_ALL || (a == VAMDVI_RUN_COMMANDS && *action == VAMDVI_NONE))
			*action = a;
	}
	return n;
}

int vamdvi_cmd_decode(const uint64_t c[2], struct vamdvi_cmd *out)
{
	*out = (struct vamdvi_cmd){ .opcode = (unsigned)(c[0] >> 60) };
	switch (out->opcode) {
	case VAMDVI_CMD_COMPLETION_WAIT:
		out->store = c[0] & VAMDVI_CW_S;
		out->interrupt = c[0] & VAMDVI_CW_I;
		out->store_addr = c[0] & VAMDVI_CW_ADDR_MASK;
		out->store_data = c[1];
		return 0;
	case VAMDVI_CMD_INV_DEVTAB_ENTRY:
	case VAMDVI_CMD_INV_INTERRUPT_TABLE:
		out->device_id = (uint16_t)c[0];
		return 0;
	case VAMDVI_CMD_INV_IOMMU_PAGES:
		out->domain = (uint16_t)(c[0] >> 32);
		return 0;
	case VAMDVI_CMD_INV_IOTLB_PAGES:      /* device IOTLBs (ATS): none behind it */
	case VAMDVI_CMD_PREFETCH_IOMMU_PAGES: /* a hint */
	case VAMDVI_CMD_INV_IOMMU_ALL:
		return 0;
	default:
		return -1;
	}
}

unsigned vamdvi_run_commands(struct vamdvi_regs *r, const struct vamdvi_env *env)
{
	const uint64_t on = VAMDVI_CTRL_IOMMU_EN | VAMDVI_CTRL_CMDBUF_EN;
	if ((r->control & on) != on)
		return 0;
	unsigned len_log2 = (unsigned)(r->cmdbuf >> VAMDVI_LEN_SHIFT) & 0xf;
	if (len_log2 < 8)
		return 0;     /* ComLen below 1000b is reserved */
	uint64_t size = (uint64_t)VAMDVI_CMD_SIZE << len_log2;
	uint64_t base = r->cmdbuf & VAMDVI_ADDR_MASK;
	unsigned ran = 0;
	while (r->cmd_head != r->cmd_tail) {
		if (r->cmd_head >= size || r->cmd_tail >= size)
			break;
		uint64_t c[2];
		struct vamdvi_cmd cmd;
		if (env->read(env->ctx, base + r->cmd_head, c, sizeof(c)) ||
		    vamdvi_cmd_decode(c, &cmd))
			break;
		switch (cmd.opcode) {
		case VAMDVI_CMD_COMPLETION_WAIT:
			if (cmd.store)
				env->write(env->ctx, cmd.store_addr, &cmd.store_data, 8);
			if (cmd.interrupt)
				r->status |= VAMDVI_STATUS_COMWAIT_INT;
			break;
		case VAMDVI_CMD_INV_DEVTAB_ENTRY:
		case VAMDVI_CMD_INV_INTERRUPT_TABLE:
			env->inv_dte(env->ctx, cmd.device_id);
			break;
		case VAMDVI_CMD_INV_IOMMU_PAGES:
			env->inv_domain(env->ctx, cmd.domain);
			break;
		case VAMDVI_CMD_INV_IOMMU_ALL:
			env->inv_all(env->ctx);
			break;
		default:
			break;
		}
		r->cmd_head = (r->cmd_head + VAMDVI_CMD_SIZE) % size;
		ran++;
	}
	return ran;
}

bool vamdvi_dte_translates(const uint64_t l1[4])
{
	unsigned mode = (unsigned)((l1[0] & VAMDVI_DTE_MODE_MASK) >> VAMDVI_DTE_MODE_SHIFT);
	return (l1[0] & VAMDVI_DTE_V) && (l1[0] & VAMDVI_DTE_TV) && mode >= 1 &&
	       mode <= VAMDVI_MAX_LEVELS;
}

void vamdvi_dte_irt(const uint64_t l1[4], uint64_t *base, uint64_t *len)
{
	*base = l1[2] & VAMDVI_DTE_INTTAB_MASK;
	*len = 0;
	if (!(l1[2] & VAMDVI_DTE_IV))   /* IV alone governs interrupts (2.2.2), V is for DMA */
		return;
	unsigned n = (unsigned)(l1[2] >> VAMDVI_DTE_INTTABLEN_SHIFT) & 0xf;
	if (n > VAMDVI_IRT_MAX_LEN)
		n = VAMDVI_IRT_MAX_LEN;
	*len = (uint64_t)VAMDVI_IRTE_MAX_SIZE << n;
}

void vamdvi_compose_dte(const uint64_t l1[4], bool unit_enabled, uint64_t shadow_root,
			uint16_t shadow_domain, uint64_t identity_root, uint16_t identity_domain,
			bool irt_ok, uint64_t out[4])
{
	const uint64_t perm = VAMDVI_DTE_IR | VAMDVI_DTE_IW;
	/* identity (nestbed's table), as with the unit off, an invalid entry or TV clear:
	 * the request is not translated (2.2.2), but never reaches nestbed's memory */
	out[0] = (identity_root & VAMDVI_ADDR_MASK) | (uint64_t)VAMDVI_MAX_LEVELS << VAMDVI_DTE_MODE_SHIFT |
		 VAMDVI_DTE_V | VAMDVI_DTE_TV | perm;
	out[1] = identity_domain;
	out[2] = out[3] = 0;
	if (!unit_enabled)
		return;
	/* IV governs the interrupt fields whatever V says (2.2.2: an I/O APIC's entry has
	 * V clear and IV set) */
	if ((l1[2] & VAMDVI_DTE_IV) && irt_ok)
		out[2] = l1[2] & VAMDVI_DTE_INT_KEEP & ~VAMDVI_DTE_INIT_PASS;
	if (!(l1[0] & VAMDVI_DTE_V))
		return;
	if (l1[0] & VAMDVI_DTE_TV) {
		unsigned mode = (unsigned)((l1[0] & VAMDVI_DTE_MODE_MASK) >> VAMDVI_DTE_MODE_SHIFT);
		uint64_t l1_perm = l1[0] & perm;
		if (mode == 0) {          /* untranslated, with L1's permissions */
			out[0] = (out[0] & ~perm) | l1_perm;
		} else if (vamdvi_dte_translates(l1) && shadow_root) {
			out[0] = (shadow_root & VAMDVI_ADDR_MASK) |
				 (uint64_t)mode << VAMDVI_DTE_MODE_SHIFT | VAMDVI_DTE_V |
				 VAMDVI_DTE_TV | l1_perm;
			out[1] = shadow_domain;
		} else {                  /* a mode it cannot walk, or no copy: blocked */
			out[0] = VAMDVI_DTE_V | VAMDVI_DTE_TV;
			out[1] = shadow_domain;
		}
	}
}

/* ---- shadow I/O page tables ---- */

static uint64_t page_size(unsigned level)
{
	return 4096ull << (9 * (level - 1));
}

static bool new_table(const struct vamdvi_shadow_env *env, struct vamdvi_shadow_stats *st,
		      uint64_t *frame)
{
	*frame = env->alloc(env->ctx);
	if (!*frame) {
		st->out_of_memory = true;
		return false;
	}
	st->tables++;
	return true;
}

/* A leaf of L1's at `level` mapping [pa, pa + size): copied whole when all of it is
 * L1's, else split into the next level's pages (4 KiB ones dropped). */
static void copy_leaf(const struct vamdvi_shadow_env *env, struct vamdvi_shadow_stats *st,
		      uint64_t *slot, uint64_t pte, unsigned level)
{
	uint64_t pa = pte & VAMDVI_ADDR_MASK & ~(page_size(level) - 1);
	if (env->leaf_ok(env->ctx, pa, page_size(level))) {
		*slot = pa | (pte & VAMDVI_PTE_KEEP);
		st->leaves++;
		return;
	}
	if (level == 1) {
		st->dropped++;
		return;
	}
	uint64_t frame;
	if (!new_table(env, st, &frame))
		return;
	uint64_t *t = env->ptr(env->ctx, frame);
	for (unsigned i = 0; i < 512; i++)
		copy_leaf(env, st, &t[i], (pa + i * page_size(level - 1)) | (pte & VAMDVI_PTE_KEEP),
			  level - 1);
	*slot = frame | (uint64_t)(level - 1) << VAMDVI_PTE_NEXT_SHIFT | VAMDVI_PTE_PR |
		VAMDVI_DTE_IR | VAMDVI_DTE_IW;
}

static void copy_table(const struct vamdvi_shadow_env *env, struct vamdvi_shadow_stats *st,
		       uint64_t l1_table, uint64_t frame, unsigned level)
{
	const volatile uint64_t *l1 = env->table(env->ctx, l1_table);
	if (!l1) {
		st->dropped++;
		return;
	}
	uint64_t *t = env->ptr(env->ctx, frame);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = l1[i];   /* once: L1 may change it meanwhile */
		if (!(e & VAMDVI_PTE_PR))
			continue;
		unsigned next = (unsigned)((e & VAMDVI_PTE_NEXT_MASK) >> VAMDVI_PTE_NEXT_SHIFT);
		if (next == 0) {
			copy_leaf(env, st, &t[i], e, level);
		} else if (next == level - 1) {
			uint64_t sub;
			if (!new_table(env, st, &sub))
				return;
			copy_table(env, st, e & VAMDVI_ADDR_MASK, sub, level - 1);
			t[i] = sub | (uint64_t)next << VAMDVI_PTE_NEXT_SHIFT | (e & VAMDVI_PTE_KEEP);
		} else {
			st->dropped++;   /* level skipping or 7 (other page sizes): not offered */
		}
	}
}

uint64_t vamdvi_shadow_build(const struct vamdvi_shadow_env *env, uint64_t l1_root,
			     unsigned levels, struct vamdvi_shadow_stats *stats)
{
	*stats = (struct vamdvi_shadow_stats){ 0 };
	if (levels < 1 || levels > VAMDVI_MAX_LEVELS)
		return 0;
	uint64_t root;
	if (!new_table(env, stats, &root))
		return 0;
	copy_table(env, stats, l1_root & VAMDVI_ADDR_MASK, root, levels);
	return root;
}

static void free_table(const struct vamdvi_shadow_env *env, uint64_t frame, unsigned level,
		       void (*free_frame)(void *ctx, uint64_t frame))
{
	const uint64_t *t = env->ptr(env->ctx, frame);
	for (unsigned i = 0; level > 1 && i < 512; i++)
		if ((t[i] & VAMDVI_PTE_PR) && (t[i] & VAMDVI_PTE_NEXT_MASK))
			free_table(env, t[i] & VAMDVI_ADDR_MASK, level - 1, free_frame);
	free_frame(env->ctx, frame);
}

void vamdvi_shadow_free(const struct vamdvi_shadow_env *env, uint64_t root, unsigned levels,
			void (*free_frame)(void *ctx, uint64_t frame))
{
	if (root)
		free_table(env, root, levels, free_frame);
}
