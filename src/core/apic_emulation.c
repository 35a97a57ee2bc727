#include "core/apic_emulation.h"

#include "core/apic_icr.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/insn_decode.h"
#include "core/lapic.h"
#include "core/machine.h"
#include "core/nested_ops.h"
#include "core/pcpu.h"
#include "core/run.h"
#include "core/vmm.h"
#include "core/x86.h"

#define OPCODE_XCHG_RM_R 0x87  /* XCHG r/m32, r32: Linux's 11AP erratum path */
#define APIC_REG_ALIGN_MASK 0xfu

/* A physical IPI from nestbed for the guest's (VMX: a SIPI for a CPU waiting in guest
 * mode, an INIT for one running) or its own (SVM: the kick). The guest's half-written
 * ICR high is put back. */
static void send_physical(struct pcpu *c, enum icr_delivery mode, uint8_t vector)
{
	struct icr icr = { .vector = vector, .delivery = mode, .assert = true,
			   .level_trigger = mode == ICR_INIT, .dest = c->apic_id };
	bool x2apic = lapic_x2apic_mode();
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
	uint32_t high = x2apic ? 0 : lapic_mmio_read(base, APIC_REG_ICR_HIGH);
	lapic_send(&icr);
	if (!x2apic)
		lapic_mmio_write(base, APIC_REG_ICR_HIGH, high);
}

/* An NMI to CPU c (SVM intercepts NMIs): its next exit takes posted INITs. */
void apic_kick(struct pcpu *c)
{
	__atomic_add_fetch(&c->kicks_sent, 1, __ATOMIC_ACQ_REL);
	send_physical(c, ICR_NMI, 0);
}

bool apic_nmi_was_kick(struct vcpu *v)
{
	struct pcpu *c = v->cpu;
	if (c->kicks_seen == __atomic_load_n(&c->kicks_sent, __ATOMIC_ACQUIRE))
		return false;
	c->kicks_seen++;
	return true;
}

/* INIT or startup IPI for the vCPU on CPU c (SDM vol.3 9.4.4; 11.6.1). */
/* An INIT for the vCPU on CPU c. Its own INIT it takes after this exit (run.c), through
 * the mailbox. Another's: one waiting for SIPI stays waiting (INIT changes nothing then,
 * 9.4.4); one running is reset. SVM: posted and kicked. VMX: a physical INIT, which the
 * CPU delivers as an INIT exit in guest mode (25.2), never to a waiting CPU, where VMX
 * would hold it until after the SIPI (25.2), unlike a CPU outside VMX. */
static void deliver_init(struct vcpu *from, struct pcpu *c)
{
	if (!c->vcpu || (c->vcpu != from && __atomic_load_n(&c->vcpu->wait_for_sipi, __ATOMIC_ACQUIRE)))
		return;
	if (c->vcpu != from && from->ops->cpu_waits_for_sipi) {
		send_physical(c, ICR_INIT, 0);
		return;
	}
	/* a SIPI still in the mailbox came before this INIT (the second one of the last
	 * start, posted while the vCPU left wait-for-SIPI): not for the reset vCPU */
	sipi_wait_clear(&c->sipi);
	__atomic_store_n(&c->pending_init, 1, __ATOMIC_RELEASE);
	if (c->vcpu != from)
		apic_kick(c); /* make it exit and read its mailbox */
}

/* A SIPI reaches only a CPU waiting for one; otherwise it is ignored (9.4.4). SVM: the
 * held vCPU's mailbox. VMX: a physical SIPI, which the CPU itself ignores unless it waits
 * for one in guest mode, L1's or an L2 of L1's: exit 4 (reflected to L1 for its L2).
 * pending_init is read first: the target sets wait_for_sipi before it clears pending_init
 * (run.c take_posted_init), so an INIT this CPU's guest saw sent is seen here as posted
 * or as taken, never as neither. */
static void deliver_startup(struct vcpu *from, struct pcpu *c, uint8_t vector)
{
	if (!c->vcpu)
		return;
	/* an INIT posted and not yet taken counts as taken: on a CPU it is at once, and the
	 * guest's 10 ms before the SIPI may pass before the target reads its mailbox */
	bool init_posted = __atomic_load_n(&c->pending_init, __ATOMIC_ACQUIRE) != 0;
	if (from->ops->cpu_waits_for_sipi && !init_posted)
		send_physical(c, ICR_STARTUP, vector);
	else if (init_posted || __atomic_load_n(&c->vcpu->wait_for_sipi, __ATOMIC_ACQUIRE)) {
		/* it may sleep in nestbed (run.c wait_for_startup): a kick wakes it */
		if (sipi_wait_post(&c->sipi, vector))
			apic_kick(c);
	}
}

/* The vCPU's own NMI, where a physical self-NMI would reach nestbed instead (VMX: NMIs
 * are not blocked in VMX root operation; SVM holds them while GIF is 0). */
static void self_nmi(struct vcpu *v)
{
	if (v->nested && v->nested->self_nmi) {
		v->nested->self_nmi(v);
		return;
	}
	struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
	v->ops->inject(v, &nmi);
}

static struct icr_target target_of(const struct pcpu *c)
{
	return (struct icr_target){ .apic_id = c->apic_id,
				    .ldr = __atomic_load_n(&c->apic_ldr, __ATOMIC_ACQUIRE),
				    .dfr = __atomic_load_n(&c->apic_dfr, __ATOMIC_ACQUIRE) };
}

static bool reaches(const struct icr *icr, uint32_t self, const struct pcpu *c, bool x2apic)
{
	struct icr_target t = target_of(c);
	return icr_targets(icr, self, &t, x2apic);
}

/* VMX: an NMI IPI whose targets include the sender: the others get it physically, the
 * sender through self_nmi. true when handled. */
static bool emulate_nmi_ipi(struct vcpu *v, const struct icr *icr, bool x2apic)
{
	if (icr->delivery != ICR_NMI || !v->ops->cpu_waits_for_sipi)
		return false;
	const struct machine *m = &machine;
	uint32_t self = v->cpu->apic_id;
	if (!reaches(icr, self, v->cpu, x2apic))
		return false; /* others' NMIs go out as written */
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (&m->cpus[i] != v->cpu && reaches(icr, self, &m->cpus[i], x2apic))
			send_physical(&m->cpus[i], ICR_NMI, 0);
	self_nmi(v);
	return true;
}

/* true: INIT, SIPI or a self-NMI, emulated; false: any other IPI, for the real APIC.
 * Every destination form reaches its CPUs: physical, logical (the targets' LDR and
 * DFR as the guest wrote them), shorthands (SDM vol.3 11.6.2, 11.6.1). */
static bool emulate_icr(struct vcpu *v, const struct icr *icr, bool x2apic)
{
	if (emulate_nmi_ipi(v, icr, x2apic))
		return true;
	if (icr->delivery != ICR_INIT && icr->delivery != ICR_STARTUP)
		return false;
	if (icr_is_init_deassert(icr))
		return true; /* ignored by every CPU since the Pentium 4 (11.6.1) */
	const struct machine *m = &machine;
	uint32_t self = v->cpu->apic_id;
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		if (!reaches(icr, self, &m->cpus[i], x2apic))
			continue;
		if (icr->delivery == ICR_INIT)
			deliver_init(v, &m->cpus[i]);
		else
			deliver_startup(v, &m->cpus[i], icr->vector);
	}
	return true;
}

bool apic_mmio_write_exit(struct vcpu *v, struct exit *e)
{
	const struct exit_tdp *t = &e->u.tdp;
	uint64_t pa = t->gpa, page_end;
	/* an L2 reaches the APIC through L1's nested page tables */
	if (v->level >= 2 && (!v->nested || v->nested->l2_gpa_to_hpa(v, t->gpa, &pa, &page_end)))
		return false;
	if (!v->apic_page || !t->write || (pa & ~(uint64_t)(APIC_MMIO_SIZE - 1)) != v->apic_page)
		return false;
	struct insn insn;
	if (guest_insn_decode(v, &insn))
		guest_failure(v, "cannot decode the instruction that wrote the local APIC at %#llx",
			      (unsigned long long)t->gpa);
	uint32_t value;
	if (insn.opcode_map == INSN_MAP_ONE_BYTE && (insn.opcode == OPCODE_MOV_RM_R || insn.opcode == OPCODE_XCHG_RM_R) &&
	    insn.operand_size == 4)
		value = (uint32_t)*vcpu_gpr(&v->state, insn.reg);
	else if (insn.opcode_map == INSN_MAP_ONE_BYTE && insn.opcode == OPCODE_MOV_RM_IMM && (insn.reg & 7) == 0 &&
		 insn.operand_size == 4)
		value = (uint32_t)insn.immediate;
	else
		guest_failure(v, "a local APIC write nestbed cannot emulate (%s, opcode %#x, %u-byte operand, at %#llx): "
			      "APIC registers take aligned 32-bit MOVs (SDM vol.3 11.4.1)",
			      insn_kind_name(insn.kind), insn.opcode, insn.operand_size,
			      (unsigned long long)t->gpa);
	uint32_t offset = (uint32_t)(pa & (APIC_MMIO_SIZE - 1)) & ~APIC_REG_ALIGN_MASK;
	if (insn.opcode == OPCODE_XCHG_RM_R)
		*vcpu_gpr(&v->state, insn.reg) = lapic_mmio_read(v->apic_page, offset);
	/* past the write first: an emulated IPI may end in an exit to L1, which records L2's
	 * state as it is after the instruction */
	e->insn_len = insn.length;
	vcpu_skip_instruction(v, e);
	if (offset == APIC_REG_ICR_LOW) {
		uint32_t high = lapic_mmio_read(v->apic_page, APIC_REG_ICR_HIGH);
		struct icr icr = icr_decode(value, high, false);
		if (emulate_icr(v, &icr, false))
			return true;
	}
	lapic_mmio_write(v->apic_page, offset, value);
	if (offset == APIC_REG_LDR) /* this CPU's logical ID, for the others' IPIs */
		__atomic_store_n(&v->cpu->apic_ldr, lapic_mmio_read(v->apic_page, APIC_REG_LDR), __ATOMIC_RELEASE);
	else if (offset == APIC_REG_DFR)
		__atomic_store_n(&v->cpu->apic_dfr, lapic_mmio_read(v->apic_page, APIC_REG_DFR), __ATOMIC_RELEASE);
	return true;
}

void apic_x2apic_icr_write(struct vcpu *v, uint64_t value)
{
	struct icr icr = icr_decode((uint32_t)value, (uint32_t)(value >> 32), true);
	if (!emulate_icr(v, &icr, true))
		wrmsr(MSR_X2APIC_ICR, value);
}

void apic_init_reset(struct vcpu *v)
{
	struct pcpu *c = v->cpu;
	if (!lapic_x2apic_mode() && (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EN)) {
		uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
		lapic_mmio_write(base, APIC_REG_DFR, APIC_DFR_RESET);
		lapic_mmio_write(base, APIC_REG_LDR, APIC_LDR_RESET);
	}
	__atomic_store_n(&c->apic_ldr, APIC_LDR_RESET, __ATOMIC_RELEASE);
	__atomic_store_n(&c->apic_dfr, APIC_DFR_RESET, __ATOMIC_RELEASE);
}

void apic_init_exit(struct vcpu *v)
{
	if (!v->ops->cpu_waits_for_sipi)
		guest_failure(v, "an INIT reached CPU %u outside nestbed's INIT emulation (an I/O APIC "
			      "or MSI with INIT delivery?): stopped, it would reset nestbed", v->id);
	/* taken after this exit like an emulated one, so the nested layer decides (run.c) */
	__atomic_store_n(&v->cpu->pending_init, 1, __ATOMIC_RELEASE);
}
