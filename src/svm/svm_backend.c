/* The AMD-V backend: the primary guest in a VMCB with nested paging, everything passed
 * through except what nestbed must see (APM vol.2 chapter 15). */
#include "svm/svm.h"
#include "svm/svm_exit_decode.h"
#include "svm/svm_exit_names.h"

#include "core/apic_base.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/cpu_caps.h"
#include "core/apic_icr.h"
#include "core/exception.h"
#include "core/guest_mem.h"
#include "core/lapic.h"
#include "core/machine.h"
#include "core/marks.h"
#include "core/io_intercepts.h"
#include "core/memory.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/paging.h"
#include "core/pcpu.h"
#include "core/run.h"
#include "core/smm_msr.h"
#include "core/vmm.h"
#include "core/x86.h"

#define CR0_PE_BIT (1ull << 0)
#define CR0_ET_BIT (1ull << 4)
#define CR0_PG_BIT (1ull << 31)
#define CR4_PAE_BIT (1ull << 5)
#define DR6_INIT 0xffff0ff0ull /* power-on values, SDM vol.3 table 9-1 */
/* VMCB segment attributes: type, S, DPL, P in bits 7:0; AVL, L, D/B, G in 11:8. */
#define SEG_CODE32_FLAT 0xC9B /* execute/read accessed, present, D=1, G=1 */
#define SEG_CODE64 0xA9B      /* L=1, G=1 */
#define SEG_DATA_FLAT 0xC93   /* read/write accessed, present, D/B=1, G=1 */
#define SEG_LDT 0x082         /* present LDT */
#define SEG_TSS32_BUSY 0x08B  /* present busy 32-bit TSS */
#define SEG_ATTR_DB (1u << 10)
/* Real-mode segments of the INIT state (APM vol.2 table 14-1) */
#define REAL_MODE_LIMIT 0xffff
#define SEG_REAL_CODE 0x09B   /* present, execute/read, accessed */
#define SEG_REAL_DATA 0x093   /* present, read/write, accessed */
#define SEG_TSS16_BUSY 0x083  /* present busy 16-bit TSS */

static bool svm_supported(const struct machine *m)
{
	return m->caps.svm && (m->caps.svm_caps.features & SVM_FEATURE_NP);
}

static int svm_cpu_init(struct machine *m, struct pcpu *cpu)
{
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		kprintf("nestbed: svm: disabled by the firmware (VM_CR.SVMDIS set)\n");
		return -1;
	}
	uint64_t hsave = alloc_frames_zeroed(1, FRAME_SIZE);
	if (!hsave)
		return -1;
	/* NXE too: shadow nested page tables carry the no-execute bit of L1's tables. */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME | EFER_NXE);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	cpu->backend = phys_to_virt(hsave); /* this CPU's host-save area */
	exception_tolerate_single_step_at((uint64_t)(uintptr_t)svm_vmexit_return);
	exception_wake_site((uint64_t)(uintptr_t)svm_idle_hlt);
	/* GIF stays 0 in nestbed: interrupts and NMIs wait for the guest (APM 15.17). */
	__asm__ volatile("clgi");
	(void)m;
	return 0;
}

void svm_intercept_msr(uint8_t *msrpm, uint32_t msr, bool read, bool write)
{
	/* Three 2 KiB vectors, two bits per MSR (APM vol.2 15.11, table 15-5). */
	uint32_t base;
	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xC0000000u && msr <= 0xC0001fffu)
		base = 0x800 * 8, msr -= 0xC0000000u;
	else if (msr >= 0xC0010000u && msr <= 0xC0011fffu)
		base = 0x1000 * 8, msr -= 0xC0010000u;
	else
		return; /* outside the map: always intercepted by the CPU */
	uint32_t bit = base + msr * 2;
	if (read)
		msrpm[bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (write)
		msrpm[(bit + 1) / 8] |= (uint8_t)(1u << ((bit + 1) % 8));
}

void svm_intercept_port(uint8_t *iopm, uint16_t port)
{
	iopm[port / 8] |= (uint8_t)(1u << (port % 8));
}

static void set_segment(struct vmcb_segment *s, uint16_t sel, uint16_t attrib, uint32_t limit, uint64_t base)
{
	s->selector = sel;
	s->attrib = attrib;
	s->limit = limit;
	s->base = base;
}

static void init_guest_state(struct vmcb *vmcb, const struct guest_start *start, struct vcpu_state *st)
{
	struct vmcb_save *s = &vmcb->save;
	bool long64 = start->mode == GUEST_START_LONG64;
	set_segment(&s->cs, MULTIBOOT_CODE_SELECTOR, long64 ? SEG_CODE64 : SEG_CODE32_FLAT, 0xffffffff, 0);
	struct vmcb_segment *data[] = { &s->ds, &s->es, &s->ss, &s->fs, &s->gs };
	for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		set_segment(data[i], MULTIBOOT_DATA_SELECTOR, SEG_DATA_FLAT, 0xffffffff, 0);
	set_segment(&s->gdtr, 0, 0, 0, 0);
	set_segment(&s->idtr, 0, 0, IDT_REAL_MODE_LIMIT, 0);
	set_segment(&s->ldtr, 0, SEG_LDT, 0xffff, 0);
	set_segment(&s->tr, 0, SEG_TSS32_BUSY, 0xffff, 0);
	s->cpl = 0;
	s->cr0 = CR0_PE_BIT | CR0_ET_BIT | (long64 ? CR0_PG_BIT : 0);
	s->cr3 = long64 ? start->cr3 : 0;
	s->cr4 = long64 ? CR4_PAE_BIT : 0;
	st->efer = long64 ? (EFER_LME | EFER_LMA) : 0;
	s->efer = st->efer | EFER_SVME; /* VMRUN demands SVME in the guest's EFER (APM 15.5.1) */
	s->rflags = RFLAGS_FIXED;
	s->rip = start->rip;
	s->rsp = start->rsp;
	s->rax = start->gpr.rax;
	s->dr6 = DR6_INIT;
	s->dr7 = DR7_INIT;
	s->g_pat = SVM_DEFAULT_PAT;

	st->gpr = start->gpr;
	st->rip = start->rip;
	st->rsp = start->rsp;
	st->rflags = RFLAGS_FIXED;
	st->cr0 = s->cr0;
	st->cr3 = s->cr3;
	st->cr4 = s->cr4;
}

/* Real mode as INIT leaves it (SDM vol.3 table 9-1; APM vol.2 table 14-1), with CS as
 * given: F000h/FFFF0000h/FFF0h after INIT, vector << 8 / vector << 12 / 0 at a SIPI. */
static void set_real_mode_state(struct vcpu *v, struct svm_vcpu *sv, uint16_t cs,
				uint64_t cs_base, uint64_t rip)
{
	struct vmcb_save *s = &sv->vmcb->save;
	set_segment(&s->cs, cs, SEG_REAL_CODE, REAL_MODE_LIMIT, cs_base);
	struct vmcb_segment *data[] = { &s->ds, &s->es, &s->ss, &s->fs, &s->gs };
	for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		set_segment(data[i], 0, SEG_REAL_DATA, REAL_MODE_LIMIT, 0);
	set_segment(&s->gdtr, 0, 0, REAL_MODE_LIMIT, 0);
	set_segment(&s->idtr, 0, 0, REAL_MODE_LIMIT, 0);
	set_segment(&s->ldtr, 0, SEG_LDT, REAL_MODE_LIMIT, 0);
	set_segment(&s->tr, 0, SEG_TSS16_BUSY, REAL_MODE_LIMIT, 0);
	s->cpl = 0;
	s->cr0 = CR0_INIT;
	s->cr2 = 0;
	s->cr3 = 0;
	s->cr4 = 0;
	s->rflags = RFLAGS_FIXED;
	s->rip = rip;
	s->rsp = 0;
	s->rax = 0;
	s->dr6 = DR6_INIT;
	s->dr7 = DR7_INIT;
	s->g_pat = SVM_DEFAULT_PAT;
	sv->vmcb->control.interrupt_shadow = 0;
	sv->vmcb->control.eventinj = 0;
	sv->vmcb->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;

	struct vcpu_state *st = &v->state;
	memset(&st->gpr, 0, sizeof(st->gpr));
	st->gpr.rdx = cpuid(1, 0).eax; /* the processor signature */
	st->efer = 0;
	s->efer = EFER_SVME; /* VMRUN demands SVME in the guest's EFER (APM 15.5.1) */
	st->rip = rip;
	st->rsp = 0;
	st->rflags = RFLAGS_FIXED;
	st->cr0 = s->cr0;
	st->cr2 = st->cr3 = st->cr4 = 0;
	st->cs_base = cs_base;
	st->cs_long = st->cs_db = false;
	st->cpl = 0;
}

/* The guest moved its xAPIC (or left xAPIC mode): the read-only page of its NPT follows,
 * so that its ICR writes still exit (apic_emulation.h). A rebuilt NPT is simplest: the
 * old one maps the previous page with large pages around it. */
static void svm_apic_base_changed(struct vcpu *v)
{
	struct svm_vcpu *sv = v->backend;
	uint64_t page = apic_base_mmio_page(rdmsr(MSR_IA32_APIC_BASE));
	if (page == sv->apic_base)
		return;
	uint64_t root = svm_npt_build(&machine, page);
	if (!root)
		guest_failure(v, "out of memory for the NPT after an APIC base move to %#llx",
			      (unsigned long long)page);
	struct paging old = { .fa = &nestbed_frames, .frame_ptr = identity_frame_ptr,
			      .root = sv->npt_root };
	paging_free_tables(&old);
	sv->npt_root = root;
	sv->apic_base = page;
	v->apic_page = page;
	sv->vmcb01->control.n_cr3 = root;
	sv->vmcb01->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
}

static void svm_init_signal(struct vcpu *v)
{
	set_real_mode_state(v, v->backend, INIT_CS_SELECTOR, INIT_CS_BASE, INIT_RIP);
	v->wait_for_sipi = true;
}

static void svm_startup(struct vcpu *v, uint8_t vector)
{
	set_real_mode_state(v, v->backend, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
	v->wait_for_sipi = false;
}

static int svm_vcpu_create(struct machine *m, struct vcpu *v, const struct guest_start *start)
{
	uint64_t sv_pa = alloc_frames_zeroed((sizeof(struct svm_vcpu) + FRAME_SIZE - 1) / FRAME_SIZE,
					     FRAME_SIZE);
	if (!sv_pa) {
		kprintf("nestbed: svm: out of memory for a vCPU\n");
		return -1;
	}
	struct svm_vcpu *sv = phys_to_virt(sv_pa);
	sv->vmcb_pa = alloc_frames_zeroed(1, FRAME_SIZE);
	sv->host_vmcb_pa = alloc_frames_zeroed(1, FRAME_SIZE);
	uint64_t iopm = alloc_frames_zeroed(SVM_IOPM_PAGES, FRAME_SIZE);
	uint64_t msrpm = alloc_frames_zeroed(SVM_MSRPM_PAGES, FRAME_SIZE);
	sv->apic_base = apic_base_mmio_page(rdmsr(MSR_IA32_APIC_BASE));
	sv->npt_root = svm_npt_build(m, sv->apic_base);
	if (!sv->vmcb_pa || !sv->host_vmcb_pa || !iopm || !msrpm || !sv->npt_root) {
		kprintf("nestbed: svm: out of memory for the VMCB, bitmaps or NPT\n");
		return -1;
	}
	sv->vmcb = phys_to_virt(sv->vmcb_pa);
	sv->iopm = phys_to_virt(iopm);
	sv->msrpm = phys_to_virt(msrpm);
	sv->nrips = (m->caps.svm_caps.features & SVM_FEATURE_NRIPS) != 0;

	/* The exit ports, and the devices nestbed mediates (io_intercepts.h). */
	struct port_range ports[IO_INTERCEPT_MAX_RANGES];
	unsigned nr_ports = io_intercepted_ports(m, ports);
	for (unsigned i = 0; i < nr_ports; i++)
		for (unsigned p = 0; p < ports[i].count; p++)
			svm_intercept_port(sv->iopm, (uint16_t)(ports[i].first + p));
	/* SMM's placement and lock are the firmware's (smm_msr.c). */
	for (unsigned i = 0; i < smm_msrs_amd_count; i++)
		svm_intercept_msr(sv->msrpm, smm_msrs_amd[i], true, true);
	/* What describes or controls SVM itself is nestbed's. */
	svm_intercept_msr(sv->msrpm, MSR_EFER, true, true);
	svm_intercept_msr(sv->msrpm, MSR_VM_CR, true, true);
	svm_intercept_msr(sv->msrpm, MSR_VM_HSAVE_PA, true, true);
	/* INIT and startup IPIs are nestbed's: no guest INIT may reach a CPU (AMD-V has no
	 * wait-for-SIPI state, and an INIT resets the CPU out of guest mode). */
	svm_intercept_msr(sv->msrpm, MSR_X2APIC_ICR, false, true);
	/* The APIC base must not move onto nestbed's memory (core/guest_msr.c): writes only. */
	svm_intercept_msr(sv->msrpm, MSR_IA32_APIC_BASE, false, true);

	struct vmcb_control *c = &sv->vmcb->control;
	c->intercept_misc1 = SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INVLPGA |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_NMI;
	c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT;
	c->iopm_base_pa = iopm;
	c->msrpm_base_pa = msrpm;
	c->guest_asid = SVM_PRIMARY_ASID;
	c->tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	c->np_control = SVM_NP_ENABLE;
	c->n_cr3 = sv->npt_root;

	v->backend = sv;
	sv->vmcb01 = sv->vmcb;
	sv->state_vmcb_pa = sv->vmcb_pa;
	v->apic_page = sv->apic_base;
	if (start->mode == GUEST_START_WAIT_FOR_SIPI)
		svm_init_signal(v);
	else
		init_guest_state(sv->vmcb, start, &v->state);
	return 0;
}

static inline __attribute__((always_inline)) void sync_to_vmcb(struct vcpu *v, struct svm_vcpu *sv,
								  struct vmcb *vmcb)
{
	struct vmcb_save *s = &vmcb->save;
	s->rax = v->state.gpr.rax;
	s->rsp = v->state.rsp;
	s->rip = v->state.rip;
	s->rflags = v->state.rflags;
	s->efer = svm_efer_for_cpu(v->state.efer, s->cr0) | EFER_SVME;
	svm_long_mode_intercepts(vmcb, v->state.efer);
	if (v->insn_skipped) {
		/* Moving past an instruction ends an STI/MOV SS shadow (APM 15.21.5). */
		vmcb->control.interrupt_shadow &= ~SVM_INTERRUPT_SHADOW;
		v->insn_skipped = false;
	}
	(void)sv;
}

static inline __attribute__((always_inline)) void state_from_vmcb(struct vcpu *v,
								  const struct vmcb *vmcb)
{
	const struct vmcb_save *s = &vmcb->save;
	struct vcpu_state *st = &v->state;
	uint64_t cr0 = s->cr0, efer = s->efer;
	uint16_t cs_attrib = s->cs.attrib;
	st->gpr.rax = s->rax;
	st->rsp = s->rsp;
	st->rip = s->rip;
	st->rflags = s->rflags;
	st->cr0 = cr0;
	st->cr2 = s->cr2;
	st->cr3 = s->cr3;
	st->cr4 = s->cr4;
	/* LMA is LME AND PG (APM vol.2 14.6.1). Bochs 2.7 saved EFER = 0x1100 (LME, no LMA)
	 * with CR0.PG = 1 in the exit of a compatibility-mode CR0 write (isolation/bios-e820):
	 * taken as it was, the instruction decoder walked the guest's 4-level tables as PAE. */
	bool lma = (efer & EFER_LMA) || ((efer & EFER_LME) && (cr0 & CR0_PG_BIT));
	st->efer = (st->efer & ~(uint64_t)EFER_LMA) | (lma ? EFER_LMA : 0);
	st->cs_base = s->cs.base;
	st->cs_long = (cs_attrib & SEG_ATTR_L) != 0;
	st->cs_db = (cs_attrib & SEG_ATTR_DB) != 0;
	st->cpl = s->cpl;
}

void svm_state_from_vmcb(struct vcpu *v, const struct svm_vcpu *sv)
{
	state_from_vmcb(v, sv->vmcb);
}

static void svm_hlt_guard_enter(struct svm_vcpu *sv);
static void svm_hlt_guard_exit(struct vcpu *v, struct svm_vcpu *sv, const struct exit *e);

/* The fixed exit path: what the next entry needs into the VMCB, the world switch, the
 * state and the exit out of it, each read once. */
static int svm_vcpu_run(struct vcpu *v, struct exit *e)
{
	struct svm_vcpu *sv = v->backend;
	struct vmcb *vmcb = sv->vmcb;
	struct vmcb_control *c = &vmcb->control;
	sync_to_vmcb(v, sv, vmcb);
	/* what this entry injects, for svm_event_redeliver: only an injected event's RIP and
	 * next RIP are ever compared there */
	uint64_t eventinj = c->eventinj;
	sv->entry_event.eventinj = eventinj;
	if (eventinj & SVM_EVENT_VALID) {
		sv->entry_event.rip = vmcb->save.rip;
		sv->entry_event.next_rip = c->next_rip;
	}
	if (__builtin_expect(sv->hlt_guard, 0))
		svm_hlt_guard_enter(sv);
	uint64_t entered = machine.options.marks ? marks_switch_begin(&v->marks) : 0;
	svm_world_switch(sv->vmcb_pa, &v->state.gpr, sv->host_vmcb_pa, sv->host_if,
			 sv->state_vmcb_pa);
	if (machine.options.marks)
		marks_switch_end(&v->marks, entered);
	c->tlb_control = 0;
	state_from_vmcb(v, vmcb);
	svm_exit_decode(vmcb, sv->nrips, v->state.gpr.rcx, e);
	if (__builtin_expect(sv->hlt_guard, 0))
		svm_hlt_guard_exit(v, sv, e);
	/* An intercepted NMI is held while GIF is 0 (APM vol.2 15.17): nestbed takes it now
	 * (its handler only returns) and the core decides whose it was: a kick, L1's (held
	 * for L1 until its STGI by the nested layer) or the guest's (injected back). */
	if (e->kind == EXIT_NMI)
		__asm__ volatile("stgi; clgi" ::: "memory");
	/* An event the CPU was delivering when the exit came is delivered again on the next
	 * entry, so nothing in flight is lost (APM 15.7.2), and a software interrupt the guest
	 * raised itself is not doubled: its instruction runs again (svm_event.c). A nested
	 * layer that reflects the exit builds its own entry instead. */
	uint64_t exitintinfo = c->exitintinfo;
	if (!(exitintinfo & SVM_EVENT_VALID)) {
		c->eventinj = 0; /* nothing was in flight: the common case */
		return 0;
	}
	uint64_t next_rip = c->next_rip;
	c->eventinj = svm_event_redeliver(exitintinfo, &sv->entry_event, vmcb->save.rip,
					  &next_rip);
	c->next_rip = next_rip;
	return 0;
}

static void svm_inject(struct vcpu *v, const struct event *ev)
{
	struct svm_vcpu *sv = v->backend;
	uint64_t inj = ev->vector | ((uint64_t)ev->type << SVM_EVENT_TYPE_SHIFT) | SVM_EVENT_VALID;
	if (ev->has_error_code)
		inj |= SVM_EVENT_ERROR_VALID | ((uint64_t)ev->error_code << 32);
	sv->vmcb->control.eventinj = inj;
}

/* xAPIC registers (SDM vol.3A 11.4.1, 11.8.3.1): IRR in eight 32-bit words 10h apart, and
 * the processor priority; an interrupt is delivered when its priority class (vector bits
 * 7:4) is above PPR's. */
#define LAPIC_REG_PPR 0x0a0u
#define LAPIC_REG_IRR 0x200u
#define LAPIC_IRR_WORDS 8u
#define LAPIC_REG_STRIDE 0x10u

static bool lapic_interrupt_deliverable(uint64_t apic_page)
{
	uint32_t ppr_class = (lapic_mmio_read(apic_page, LAPIC_REG_PPR) >> 4) & 0xf;
	for (unsigned w = LAPIC_IRR_WORDS; w-- > 0;) {
		uint32_t irr = lapic_mmio_read(apic_page, LAPIC_REG_IRR + w * LAPIC_REG_STRIDE);
		if (irr)
			return ((w * 32 + 31 - (unsigned)__builtin_clz(irr)) >> 4) > ppr_class;
	}
	return false;
}

/* The HLT intercept comes off for one run so that the guest halts for real (core
 * handle_hlt). A HLT in an STI's interrupt shadow ("STI; HLT", every idle loop) must not
 * let a pending interrupt in before it halts: VMRUN loads the shadow from the VMCB (APM
 * vol.2 15.21.5), but QEMU 7.2's VMRUN ignores INTERRUPT_SHADOW, so a pending interrupt was
 * taken before the HLT, its handler returned to the HLT and L1 slept with its wakeup spent
 * (Xen's idle loop: a one-shot timer interrupt whose softirq never ran; the run stalled for
 * good). So when an interrupt is already deliverable at such a HLT exit of L1, nestbed
 * completes the HLT itself (it would wake at once): L1 resumes past it and takes the
 * interrupt there, as with the shadow honoured (event/sti-hlt-pending-interrupt).
 * One that becomes pending after that look, before the HLT runs, is caught by the guard:
 * the run that resumes L1 at the HLT intercepts INTR, and an INTR exit still at the HLT
 * completes it the same way (svm_hlt_guard_exit; event/sti-hlt-interrupt-race). A CPU
 * that honours the shadow halts and exits past the HLT instead: one exit more. */
static void svm_set_hlt_intercept(struct vcpu *v, bool on)
{
	struct svm_vcpu *sv = v->backend;
	struct vmcb_control *c = &sv->vmcb->control;
	if (on) {
		c->intercept_misc1 |= SVM_INTERCEPT_HLT;
		return;
	}
	unsigned len = 0;
	if (sv->vmcb == sv->vmcb01 && (c->interrupt_shadow & SVM_INTERRUPT_SHADOW) &&
	    (v->state.rflags & RFLAGS_IF))
		len = guest_insn_length(v);
	if (len && v->apic_page && lapic_interrupt_deliverable(v->apic_page)) {
		vcpu_advance_rip(v, len); /* the HLT is done: the intercept stays */
		return;
	}
	if (len) {
		sv->hlt_guard = true;
		sv->hlt_guard_rip = v->state.rip;
		sv->hlt_guard_length = (uint8_t)len;
	}
	c->intercept_misc1 &= ~SVM_INTERCEPT_HLT;
}

/* Before a guarded run (svm_set_hlt_intercept): INTR intercepted, as it was noted. */
static __attribute__((noinline, cold)) void svm_hlt_guard_enter(struct svm_vcpu *sv)
{
	struct vmcb_control *c = &sv->vmcb->control;
	sv->hlt_guard_intr_was_on = (c->intercept_misc1 & SVM_INTERCEPT_INTR) != 0;
	c->intercept_misc1 |= SVM_INTERCEPT_INTR;
}

/* After it: INTR as it was; an INTR exit with L1 still at the shadowed HLT means the
 * interrupt came before the HLT ran, which completes as a HLT that woke at once. Any
 * other exit still at the HLT keeps the guard for the resume. */
static __attribute__((noinline, cold)) void svm_hlt_guard_exit(struct vcpu *v, struct svm_vcpu *sv,
							       const struct exit *e)
{
	struct vmcb_control *c = &sv->vmcb->control;
	if (!sv->hlt_guard_intr_was_on)
		c->intercept_misc1 &= ~SVM_INTERCEPT_INTR;
	if (v->state.rip != sv->hlt_guard_rip || sv->vmcb != sv->vmcb01) {
		sv->hlt_guard = false; /* the HLT ran (or L1 went elsewhere) */
		return;
	}
	if (e->kind != EXIT_INTR)
		return;
	vcpu_advance_rip(v, sv->hlt_guard_length);
	sv->hlt_guard = false;
}

/* Sleeps until an NMI: GIF 1 lets it in (nestbed's IF stays 0, so nothing else is
 * taken), the HLT waits for it; an NMI that comes between STGI and HLT resumes past the
 * HLT (exception_wake_site). */
__asm__(".pushsection .text\n"
	".globl svm_idle_hlt\n"
	"svm_idle_sleep:\n\t"
	"stgi\n"
	"svm_idle_hlt:\n\t"
	"hlt\n\t"
	"clgi\n\t"
	"ret\n"
	".popsection");
void svm_idle_sleep(void);

static void svm_idle(struct vcpu *v)
{
	(void)v;
	svm_idle_sleep();
}

static void svm_dump(struct vcpu *v)
{
	const struct svm_vcpu *sv = v->backend;
	if (!sv)
		return;
	const struct vmcb_control *c = &sv->vmcb->control;
	const struct vmcb_save *s = &sv->vmcb->save;
	kprintf("nestbed:   vmcb exitcode=%#llx exitinfo1=%#llx exitinfo2=%#llx exitintinfo=%#llx eventinj=%#llx next_rip=%#llx\n",
		(unsigned long long)c->exitcode, (unsigned long long)c->exitinfo1,
		(unsigned long long)c->exitinfo2, (unsigned long long)c->exitintinfo,
		(unsigned long long)c->eventinj, (unsigned long long)c->next_rip);
	kprintf("nestbed:   vmcb cs=%04x/%03x/%#x/%#llx ss=%04x/%03x efer=%#llx intercepts=%08x/%08x/%08x asid=%u ncr3=%#llx\n",
		s->cs.selector, s->cs.attrib, s->cs.limit, (unsigned long long)s->cs.base,
		s->ss.selector, s->ss.attrib, (unsigned long long)s->efer, c->intercept_exceptions,
		c->intercept_misc1, c->intercept_misc2, c->guest_asid, (unsigned long long)c->n_cr3);
}

const struct vmm_ops svm_ops = {
	.name = "svm",
	.supported = svm_supported,
	.cpu_init = svm_cpu_init,
	.vcpu_create = svm_vcpu_create,
	.vcpu_run = svm_vcpu_run,
	.inject = svm_inject,
	.set_hlt_intercept = svm_set_hlt_intercept,
	.exit_name = svm_exit_name,
	.dump = svm_dump,
	.cr_access = svm_cr_access,
	.init_signal = svm_init_signal,
	.apic_base_changed = svm_apic_base_changed,
	.startup = svm_startup,
	.cpu_waits_for_sipi = false,
	.idle = svm_idle,
};
VMM_BACKEND_REGISTER(svm_ops);
