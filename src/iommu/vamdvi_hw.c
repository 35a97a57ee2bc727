/* The virtual AMD-Vi on the machine: L1's register accesses, its commands, and the
 * real unit's device table and page tables built from L1's (spec 48882). */
#include "iommu/vamdvi_hw.h"

#include "core/console.h"
#include "core/format.h"
#include "core/frame_alloc.h"
#include "core/guest_mem.h"
#include "core/insn_decode.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/pcpu.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/x86.h"
#include "iommu/amdvi.h"
#include "iommu/iommu.h"
#include "iommu/vamdvi.h"

/* nestbed's copies of L1's I/O page tables, one per (L1 root, levels, L1 domain); the
 * real unit tags each with its own domain ID, after nestbed's identity table (1). */
#define VAMDVI_SLOTS 16
#define VAMDVI_DOMAIN_BASE (AMDVI_DOMAIN + 1)
#define VAMDVI_DEVICE_IDS 65536u
/* 2.4.3 INVALIDATE_IOMMU_PAGES of every page: S = 1, PDE = 1, address 7FF..F000h */
#define CMD_INV_PAGES_ALL_Q1 (0x7ffffffffffff000ull | 3)


struct vamdvi_slot {
	uint64_t l1_root;
	uint64_t root;           /* nestbed's copy, 0 when the slot is free */
	uint32_t users;          /* device IDs whose real entry points at it */
	uint16_t l1_domain;
	uint8_t levels;
};

struct vamdvi_state {
	struct spinlock lock;
	struct amdvi_unit *unit;
	uint64_t identity_root;
	struct vamdvi_regs regs;
	struct vamdvi_slot slots[VAMDVI_SLOTS];
	bool dirty;              /* the real unit's caches need flushing */
	uint64_t frames, frame_budget;   /* copies' table frames: in use, at most */
	uint64_t mmio_exits, commands, builds, leaves, dropped, no_slot, no_memory;
	uint8_t slot_of[VAMDVI_DEVICE_IDS];   /* 0, or slot index + 1 */
};

/* ---- where the pure half reaches memory ---- */

static const volatile uint64_t *l1_table(void *ctx, uint64_t gpa)
{
	(void)ctx;
	if ((gpa & (FRAME_SIZE - 1)) || !guest_ram_range(gpa, FRAME_SIZE))
		return NULL;
	return phys_to_virt(gpa);
}

static bool leaf_ok(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	return pa + len > pa && !nestbed_owns_range(pa, len);
}

/* L1 decides how large its tables are: its copies get at most half of the heap that
 * was free at boot, so that nestbed's own tables still find frames. */
static uint64_t alloc(void *ctx)
{
	struct vamdvi_state *s = ctx;
	if (s->frames >= s->frame_budget)
		return 0;
	uint64_t f = alloc_frames_zeroed(1, FRAME_SIZE);
	s->frames += f != 0;
	return f;
}

static uint64_t *ptr(void *ctx, uint64_t frame)
{
	(void)ctx;
	return phys_to_virt(frame);
}

static void free_frame(void *ctx, uint64_t frame)
{
	struct vamdvi_state *s = ctx;
	frame_free_range(&nestbed_frames, frame, 1);
	s->frames--;
}

#define SHADOW_ENV(s) (&(const struct vamdvi_shadow_env){ (s), l1_table, leaf_ok, alloc, ptr })

/* ---- copies ---- */

static void build(struct vamdvi_state *s, struct vamdvi_slot *slot)
{
	vamdvi_shadow_free(SHADOW_ENV(s), slot->root, slot->levels, free_frame);
	struct vamdvi_shadow_stats st;
	slot->root = vamdvi_shadow_build(SHADOW_ENV(s), slot->l1_root, slot->levels, &st);
	s->builds++;
	s->leaves += st.leaves;
	s->dropped += st.dropped;
	if (st.out_of_memory)
		s->no_memory++;
	s->dirty = true;
}

static void release(struct vamdvi_state *s, uint32_t id)
{
	unsigned k = s->slot_of[id];
	if (!k)
		return;
	s->slot_of[id] = 0;
	struct vamdvi_slot *slot = &s->slots[k - 1];
	if (--slot->users == 0) {
		vamdvi_shadow_free(SHADOW_ENV(s), slot->root, slot->levels, free_frame);
		*slot = (struct vamdvi_slot){ 0 };
	}
}

/* The slot for L1's tables at l1_root: an existing copy (rebuilt when asked), or a new
 * one; -1 when all are taken. */
static int slot_for(struct vamdvi_state *s, uint64_t l1_root, unsigned levels, uint16_t domain,
		    bool rebuild)
{
	int free_k = -1;
	for (int k = 0; k < VAMDVI_SLOTS; k++) {
		struct vamdvi_slot *slot = &s->slots[k];
		if (slot->users && slot->l1_root == l1_root && slot->levels == levels &&
		    slot->l1_domain == domain) {
			if (rebuild)
				build(s, slot);
			return k;
		}
		if (!slot->users && free_k < 0)
			free_k = k;
	}
	if (free_k < 0)
		return -1;
	struct vamdvi_slot *slot = &s->slots[free_k];
	*slot = (struct vamdvi_slot){ .l1_root = l1_root, .levels = (uint8_t)levels,
				      .l1_domain = domain };
	build(s, slot);
	return free_k;
}

static void read_l1_dte(const struct vamdvi_state *s, uint32_t id, uint64_t dte[4])
{
	dte[0] = dte[1] = dte[2] = dte[3] = 0;
	uint64_t base = s->regs.devtab & VAMDVI_ADDR_MASK;
	uint64_t size = ((s->regs.devtab & 0x1ff) + 1) * FRAME_SIZE;
	uint64_t at = base + (uint64_t)id * VAMDVI_DTE_SIZE;
	if ((uint64_t)id * VAMDVI_DTE_SIZE + VAMDVI_DTE_SIZE <= size &&
	    guest_ram_range(at, VAMDVI_DTE_SIZE))
		guest_phys_read(at, dte, VAMDVI_DTE_SIZE);
}

/* Rebuilds device id's real entry from L1's (the copy too when rebuild). */
static void resync(struct vamdvi_state *s, uint32_t id, bool rebuild)
{
	uint64_t l1[4], out[4];
	bool on = s->regs.control & VAMDVI_CTRL_IOMMU_EN;
	if (on)
		read_l1_dte(s, id, l1);
	else
		l1[0] = l1[1] = l1[2] = l1[3] = 0;
	unsigned old = s->slot_of[id];
	int k = -1;
	if (on && vamdvi_dte_translates(l1)) {
		uint64_t root = l1[0] & VAMDVI_ADDR_MASK;
		unsigned levels = (unsigned)((l1[0] & VAMDVI_DTE_MODE_MASK) >> VAMDVI_DTE_MODE_SHIFT);
		uint16_t domain = (uint16_t)(l1[1] & VAMDVI_DTE_DOMAIN_MASK);
		k = slot_for(s, root, levels, domain, rebuild);
		if (k < 0)
			s->no_slot++;   /* blocked (vamdvi_compose_dte without a copy) */
	}
	if (old != (unsigned)(k + 1)) {
		if (k >= 0)
			s->slots[k].users++;
		release(s, id);
		s->slot_of[id] = (uint8_t)(k + 1);
	}
	uint64_t irt, irt_len;
	vamdvi_dte_irt(l1, &irt, &irt_len);
	bool irt_ok = irt_len && guest_ram_range(irt, irt_len);
	vamdvi_compose_dte(l1, on, k < 0 ? 0 : s->slots[k].root,
			   (uint16_t)(VAMDVI_DOMAIN_BASE + (k < 0 ? VAMDVI_SLOTS : k)),
			   s->identity_root, AMDVI_DOMAIN, irt_ok, out);
	volatile uint64_t *real = phys_to_virt(s->unit->devtab + (uint64_t)id * VAMDVI_DTE_SIZE);
	if (real[0] == out[0] && real[1] == out[1] && real[2] == out[2] && real[3] == out[3])
		return;
	real[0] = out[0] & ~VAMDVI_DTE_V;   /* invalid while the rest changes */
	real[1] = out[1];
	real[2] = out[2];
	real[3] = out[3];
	real[0] = out[0];
	s->dirty = true;
}

static void resync_all(struct vamdvi_state *s)
{
	for (int k = 0; k < VAMDVI_SLOTS; k++)
		if (s->slots[k].users)
			build(s, &s->slots[k]);
	for (uint32_t id = 0; id < VAMDVI_DEVICE_IDS; id++)
		resync(s, id, false);
}

/* The real unit forgets what it cached: translations of every domain nestbed uses, and
 * (IASup) everything. */
static void flush_real(struct vamdvi_state *s)
{
	if (!s->dirty)
		return;
	s->dirty = false;
	uint64_t cmds[VAMDVI_SLOTS + 3][2];
	unsigned n = 0;
	if (s->unit->efr & VAMDVI_EFR_IA_SUP) {
		cmds[n][0] = (uint64_t)VAMDVI_CMD_INV_IOMMU_ALL << 60;
		cmds[n++][1] = 0;
	}
	for (unsigned d = AMDVI_DOMAIN; d <= VAMDVI_DOMAIN_BASE + VAMDVI_SLOTS; d++) {
		cmds[n][0] = (uint64_t)VAMDVI_CMD_INV_IOMMU_PAGES << 60 | (uint64_t)d << 32;
		cmds[n++][1] = CMD_INV_PAGES_ALL_Q1;
	}
	if (amdvi_commands(s->unit, (const uint64_t (*)[2])cmds, n))
		fatal("viommu: the AMD-Vi unit at %#llx did not complete its invalidations",
		      (unsigned long long)s->unit->base);
}

/* ---- L1's commands ---- */

/* L1's command buffer and COMPLETION_WAIT stores reach its RAM only: nestbed does them
 * with CPU accesses, and a store aimed at the local APIC (an ICR write) or any other MMIO
 * would be nestbed's own access there. A store elsewhere is dropped. */
static int cmd_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	return guest_ram_range(gpa, len) ? guest_phys_read(gpa, buf, len) : -1;
}

static int cmd_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	return guest_ram_range(gpa, len) ? guest_phys_write(gpa, buf, len) : -1;
}

static void inv_dte(void *ctx, uint16_t id)
{
	resync(ctx, id, true);
}

static void inv_domain(void *ctx, uint16_t domain)
{
	struct vamdvi_state *s = ctx;
	for (int k = 0; k < VAMDVI_SLOTS; k++)
		if (s->slots[k].users && s->slots[k].l1_domain == domain)
			build(s, &s->slots[k]);
}

static void inv_all(void *ctx)
{
	resync_all(ctx);
}

/* ---- L1's register accesses ---- */

static void run_action(struct vamdvi_state *s, enum vamdvi_action a)
{
	if (a == VAMDVI_RESYNC_ALL)
		resync_all(s);
	if (a != VAMDVI_NONE) {
		const struct vamdvi_env env = { s, cmd_read, cmd_write, inv_dte, inv_domain, inv_all };
		s->commands += vamdvi_run_commands(&s->regs, &env);
	}
}

/* REP STOS over the registers (Xen 4.17 clears the whole block when it maps it): the part
 * of this page, as whole 8-byte registers; the CPU comes back for the next page. */
static void rep_stos(struct vcpu *v, struct vamdvi_state *s, const struct insn *insn,
		     uint32_t off, struct exit *e)
{
	unsigned size = insn->opcode == OPCODE_STOSB ? 1 : insn->operand_size;
	struct gprs *g = &v->state.gpr;
	if ((v->state.rflags & RFLAGS_DF) || insn->address_size != 8 || (off & (size - 1)))
		guest_failure(v, "a REP STOS over the IOMMU's registers nestbed cannot emulate "
			      "(DF set, %u-byte addresses or unaligned at offset %#x)",
			      insn->address_size, off);
	enum vamdvi_action a;
	uint64_t n = vamdvi_fill(&s->regs, off, size, g->rcx, g->rax, &a);
	run_action(s, a);
	g->rdi += n * size;
	g->rcx -= n;
	if (!g->rcx) {
		e->insn_len = insn->length;
		vcpu_skip_instruction(v, e);
	}
}

bool vamdvi_mmio_exit(struct vcpu *v, struct exit *e)
{
	struct vamdvi_state *s = machine.iommu.viommu;
	uint64_t gpa = e->u.tdp.gpa;
	if (!s || v->level != 1 || gpa < s->unit->base || gpa >= s->unit->base + VAMDVI_MMIO_SIZE)
		return false;
	struct insn insn;
	if (guest_insn_decode(v, &insn))
		guest_failure(v, "cannot decode the instruction that accessed the IOMMU at %#llx",
			      (unsigned long long)gpa);
	uint32_t off = (uint32_t)(gpa - s->unit->base);
	if (insn.opcode_map == INSN_MAP_ONE_BYTE && insn.rep &&
	    (insn.opcode == OPCODE_STOSB || insn.opcode == OPCODE_STOS)) {
		spin_lock(&s->lock);
		s->mmio_exits++;
		if (v->state.gpr.rcx)
			rep_stos(v, s, &insn, off, e);
		flush_real(s);
		spin_unlock(&s->lock);
		return true;
	}
	unsigned size = insn.operand_size;
	bool load = insn.opcode == OPCODE_MOV_R_RM;
	bool store_reg = insn.opcode == OPCODE_MOV_RM_R;
	bool store_imm = insn.opcode == OPCODE_MOV_RM_IMM && (insn.reg & 7) == 0;
	if (insn.opcode_map != INSN_MAP_ONE_BYTE || !(load || store_reg || store_imm) ||
	    (size != 4 && size != 8) || (off & (size - 1)))
		guest_failure(v, "an IOMMU register access nestbed cannot emulate (opcode %#x, "
			      "%u-byte operand, at %#llx): AMD-Vi registers take aligned 4- and "
			      "8-byte accesses (spec 48882 3.4)", insn.opcode, size,
			      (unsigned long long)gpa);
	uint64_t mask = size == 8 ? ~0ull : 0xffffffffull;
	spin_lock(&s->lock);
	s->mmio_exits++;
	if (load) {
		*vcpu_gpr(&v->state, insn.reg) = vamdvi_read(&s->regs, off, size) & mask;
	} else {
		/* MOV r/m64, imm32 sign-extends its immediate (SDM vol.2B MOV) */
		uint64_t value = store_reg ? *vcpu_gpr(&v->state, insn.reg)
					   : (uint64_t)(int64_t)(int32_t)insn.immediate;
		run_action(s, vamdvi_write(&s->regs, off, size, value & mask));
		flush_real(s);
	}
	spin_unlock(&s->lock);
	e->insn_len = insn.length;
	vcpu_skip_instruction(v, e);
	return true;
}

int vamdvi_init(struct machine *m, char *err, size_t errlen)
{
	struct iommu_state *io = &m->iommu;
	if (!io->amdvi || io->nr_enabled != 1) {
		format_buf(err, errlen, "a virtual AMD-Vi needs exactly one AMD-Vi unit (found %u)",
			   io->nr_enabled);
		return -1;
	}
	uint64_t frames = (sizeof(struct vamdvi_state) + FRAME_SIZE - 1) / FRAME_SIZE;
	uint64_t pa = alloc_frames_zeroed(frames, FRAME_SIZE);
	if (!pa) {
		format_buf(err, errlen, "no memory for the virtual AMD-Vi");
		return -1;
	}
	struct vamdvi_state *s = phys_to_virt(pa);
	s->frame_budget = nestbed_frames.nr_free / 2;
	s->unit = &io->amdvi_units[0];
	s->identity_root = io->dma_root;
	io->viommu = s;
	return 0;
}

void vamdvi_report(const struct machine *m)
{
	const struct vamdvi_state *s = m->iommu.viommu;
	if (!s)
		return;
	unsigned used = 0;
	for (int k = 0; k < VAMDVI_SLOTS; k++)
		used += s->slots[k].users != 0;
	kprintf("nestbed: viommu: L1 %s its AMD-Vi unit: %llu register accesses, %llu commands, "
		"%llu page-table copies built (%llu leaves, %llu entries left out), %u in use, "
		"%llu devices without a copy, %llu copies short of memory\n",
		(s->regs.control & VAMDVI_CTRL_IOMMU_EN) ? "enabled" : "did not enable",
		(unsigned long long)s->mmio_exits, (unsigned long long)s->commands,
		(unsigned long long)s->builds, (unsigned long long)s->leaves,
		(unsigned long long)s->dropped, used, (unsigned long long)s->no_slot,
		(unsigned long long)s->no_memory);
}
