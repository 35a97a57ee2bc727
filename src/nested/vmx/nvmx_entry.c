/* VMLAUNCH/VMRESUME of L1 (SDM vol.3 26): the checks, VMCS12 merged into VMCS02, and
 * the switch to L2. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/guest_msr.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/msr_safe.h"
#include "core/run.h"
#include "core/string.h"
#include "nested/vmx/vmcs12_check.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"
#include "core/x86.h"

#define MSR_FS_BASE_INDEX 0xc0000100u
#define MSR_GS_BASE_INDEX 0xc0000101u
#define INTR_POLL_TSC_TICKS (1u << 20)  /* the interrupt poll's period: ~0.3 ms at 3 GHz */
#define VMX_MISC_TIMER_RATE_MASK 0x1fu  /* A.6: the timer counts every 2^rate TSC ticks */

/* Guest-state fields that go from VMCS12 into VMCS02 as they are (24.4), written only
 * when VMCS02 does not hold VMCS12's value (struct nvmx dirty02). The interruptibility
 * state is not among them: nestbed's own exit handling may change it in VMCS02 (vmx_backend.c
 * drop_smi_blocking), so it is written at every entry. */
static const uint32_t guest_fields[] = {
	NVMX_GUEST_SEGMENT_FIELDS,
	VMCS_GUEST_CR3, VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
	VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
};

void nvmx_entry_init(struct nvmx *n)
{
	for (unsigned i = 0; i < sizeof(guest_fields) / sizeof(guest_fields[0]); i++) {
		unsigned slot = (unsigned)vmcs12_slot_of(guest_fields[i]);
		n->plain02[slot / 64] |= 1ull << (slot % 64);
	}
}

static uint64_t view_read(const void *ctx, uint32_t encoding)
{
	return vmcs12_get(ctx, encoding);
}

/* The checks read L1's RAM only (the linked VMCS's header, the VTPR, PDPTEs): never a
 * device's registers, whose reads may act (an 8-byte read of the local APIC stops
 * Bochs) and which hold no VMCS. */
static int view_read_phys(const void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	if (!guest_ram_range(pa, sizeof(*value)))
		return -1;
	return guest_phys_read(pa, value, sizeof(*value));
}

static void vmfail_valid(struct vcpu *v, struct nvmx *n, uint32_t error, struct exit *e)
{
	v->state.rflags = (v->state.rflags & ~RFLAGS_ARITH) | RFLAGS_ZF;
	vmcs12_set(n, VMCS_VM_INSTRUCTION_ERROR, error);
	vcpu_skip_instruction(v, e);
}

static uint32_t adjusted(enum vmx_control_set set, uint32_t wanted)
{
	return vmx_adjust_controls(vmx_control_cap(&machine.caps.vmx_caps, set), wanted);
}

/* MSRs of the MSR-load area that VMCS02 holds (nvmx_msr_guest_field): loaded after the
 * guest state, as the CPU does (26.4 follows 26.3.2). */
#define MSR_OVERRIDES_MAX 8
struct msr_overrides {
	unsigned count;
	uint32_t field[MSR_OVERRIDES_MAX];
	uint64_t value[MSR_OVERRIDES_MAX];
};

static void override(struct msr_overrides *o, uint32_t field, uint64_t value)
{
	for (unsigned i = 0; i < o->count; i++)
		if (o->field[i] == field) {
			o->value[i] = value; /* a later entry wins */
			return;
		}
	if (o->count < MSR_OVERRIDES_MAX) {
		o->field[o->count] = field;
		o->value[o->count++] = value;
	}
}

/* 26.4: the VM-entry MSR-load area, loaded in order; returns 0, or the 1-based number of
 * the entry that fails. EFER goes into L2's state (*efer), the MSRs VMCS02 switches into
 * *o, the others to the CPU: the MSRs nestbed does not switch are shared by L1 and L2 as
 * on a real CPU. */
static uint32_t load_entry_msrs(struct vcpu *v, struct nvmx *n, uint64_t *efer, struct msr_overrides *o)
{
	uint32_t count = (uint32_t)vmcs12_get(n, VMCS_ENTRY_MSR_LOAD_COUNT);
	uint64_t addr = vmcs12_get(n, VMCS_ENTRY_MSR_LOAD_ADDR);
	o->count = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t entry[2];
		if (guest_phys_read(addr + (uint64_t)i * MSR_ENTRY_SIZE, entry, sizeof(entry)))
			return i + 1;
		uint32_t msr = (uint32_t)entry[0];
		if ((entry[0] >> 32) || (msr >> 8) == MSR_X2APIC_HIGH_BITS || msr == MSR_FS_BASE_INDEX ||
		    msr == MSR_GS_BASE_INDEX || msr == MSR_IA32_SMM_MONITOR_CTL)
			return i + 1;
		if (msr == MSR_EFER) {
			*efer = entry[1];
			continue;
		}
		uint32_t field = nvmx_msr_guest_field(msr);
		if (field && (field != VMCS_GUEST_IA32_PAT || n->vv02.load_pat)) {
			uint64_t old;
			/* the CPU's WRMSR checks still apply: try it, then put the value back */
			if (rdmsr_safe(msr, &old) || wrmsr_safe(msr, entry[1]))
				return i + 1;
			(void)wrmsr_safe(msr, old);
			override(o, field, entry[1]);
			continue;
		}
		if (msr == MSR_IA32_FEATURE_CONTROL || (msr >= NVMX_CAP_MSR_FIRST && msr <= NVMX_CAP_MSR_LAST) ||
		    guest_wrmsr(v, msr, entry[1]))
			return i + 1;
	}
	return 0;
}

/* The controls of VMCS02: L1's, with what nestbed needs for itself (EPT, unrestricted
 * guest, its VPID, its MSR and I/O intercepts, its exit controls), adjusted to the CPU. */
static void write_controls(struct vcpu *v, struct nvmx *n)
{
	struct vmx_vcpu *vv02 = &n->vv02;
	const struct nvmx_caps *c = &n->offer.caps;
	uint32_t pin12 = (uint32_t)vmcs12_get(n, VMCS_PIN_BASED_CTLS) & (uint32_t)(c->pinbased >> 32);
	uint32_t proc12 = (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS) & (uint32_t)(c->procbased >> 32);
	uint32_t proc2_12 = (proc12 & VMX_PROC_ACTIVATE_SECONDARY) ?
				    (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) & (uint32_t)(c->procbased2 >> 32) : 0;
	uint32_t exit12 = (uint32_t)vmcs12_get(n, VMCS_EXIT_CTLS);

	uint32_t proc02 = (proc12 & ~(VMX_PROC_USE_IO_BITMAPS | VMX_PROC_UNCOND_IO_EXITING)) |
			  VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_ACTIVATE_SECONDARY;
	nvmx_maps_for_entry(v, n, proc12, &proc02); /* the bitmaps, merged when L1 changed them */
	/* L1's VMCS shadowing is emulated (nvmx_l2_vmcs_shadow.c): VMCS02 lets L2's
	 * VMREAD/VMWRITE exit */
	uint32_t proc2_02 = (proc2_12 & ~(VMX_PROC2_ENABLE_VPID | VMX_PROC2_VMCS_SHADOWING)) | VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST |
			    (vv02->vpid ? VMX_PROC2_ENABLE_VPID : 0);
	vv02->pin = adjusted(VMX_CTLS_PIN, pin12);
	vv02->proc = adjusted(VMX_CTLS_PROC, proc02);
	vv02->proc2 = adjusted(VMX_CTLS_PROC2, proc2_02);
	/* L1's timer counts in VMCS02 and is saved at every exit, so that the exits nestbed
	 * handles itself continue the count and a reflected exit has it (25.5.1, 27.3.4).
	 * nestbed runs no timer of its own (VMCS01 never activates it); one that did would
	 * need the smaller count here and exit 52 split by whose count ran out. */
	uint32_t timer02 = (pin12 & VMX_PIN_PREEMPTION_TIMER) ? VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER : 0;
	vv02->exit_ctls = adjusted(VMX_CTLS_EXIT, n->vv01->exit_ctls | (exit12 & VMX_EXIT_CTL_ACK_INTR_ON_EXIT) |
					 timer02);
	vv02->mtf_after_skip = (proc12 & VMX_PROC_MONITOR_TRAP_FLAG) != 0;
	vv02->entry_ctls = n->vv01->entry_ctls; /* + IA-32e mode guest from L2's EFER.LMA at each entry */
	vmx_write_vm_controls(vv02);
	/* L2 with IF = 0 and external-interrupt exiting: polled with the preemption timer
	 * where the CPU may hold its interrupts (struct vmx_vcpu intr_poll), unless L1's
	 * own timer runs in VMCS02 */
	vv02->intr_poll = (vv02->pin & VMX_PIN_EXTERNAL_INTR_EXITING) && !(vv02->pin & VMX_PIN_PREEMPTION_TIMER) &&
			  ((machine.caps.vmx_caps.pinbased >> 32) & VMX_PIN_PREEMPTION_TIMER);
	vv02->intr_poll_armed = false; /* the pin-based controls were just written without it */
	vv02->intr_poll_ticks = INTR_POLL_TSC_TICKS >> (machine.caps.vmx_caps.misc & VMX_MISC_TIMER_RATE_MASK);

	if (timer02)
		nvmx_vmwrite(VMCS_PREEMPTION_TIMER_VALUE, vmcs12_get(n, VMCS_PREEMPTION_TIMER_VALUE));
	nvmx_vmwrite(VMCS_EXCEPTION_BITMAP, vmcs12_get(n, VMCS_EXCEPTION_BITMAP));
	nvmx_vmwrite(VMCS_PF_ERROR_CODE_MASK, vmcs12_get(n, VMCS_PF_ERROR_CODE_MASK));
	nvmx_vmwrite(VMCS_PF_ERROR_CODE_MATCH, vmcs12_get(n, VMCS_PF_ERROR_CODE_MATCH));
	nvmx_vmwrite(VMCS_CR3_TARGET_COUNT, vmcs12_get(n, VMCS_CR3_TARGET_COUNT));
	for (unsigned i = 0; i < 4; i++)
		nvmx_vmwrite(0x6008u + 2 * i, vmcs12_get(n, 0x6008u + 2 * i)); /* CR3-target values, B.4.1 */
	nvmx_vmwrite(VMCS_TSC_OFFSET, (proc12 & VMX_PROC_TSC_OFFSETTING) ? vmcs12_get(n, VMCS_TSC_OFFSET) : 0);
	if (vv02->proc2 & VMX_PROC2_ENABLE_XSAVES)
		nvmx_vmwrite(VMCS_XSS_EXIT_BITMAP, vmcs12_get(n, VMCS_XSS_EXIT_BITMAP));
	if (vv02->proc2 & VMX_PROC2_PAUSE_LOOP_EXITING) {
		nvmx_vmwrite(VMCS_PLE_GAP, vmcs12_get(n, VMCS_PLE_GAP));
		nvmx_vmwrite(VMCS_PLE_WINDOW, vmcs12_get(n, VMCS_PLE_WINDOW));
	}
	/* APIC virtualization: L1's pages as they are (checked to be L1's RAM at entry) */
	if (vv02->proc & VMX_PROC_TPR_SHADOW) {
		nvmx_vmwrite(VMCS_VIRTUAL_APIC_ADDR, vmcs12_get(n, VMCS_VIRTUAL_APIC_ADDR));
		nvmx_vmwrite(VMCS_TPR_THRESHOLD, vmcs12_get(n, VMCS_TPR_THRESHOLD));
	}
	if (vv02->proc2 & VMX_PROC2_VIRTUALIZE_APIC)
		nvmx_vmwrite(VMCS_APIC_ACCESS_ADDR, vmcs12_get(n, VMCS_APIC_ACCESS_ADDR));
	if (vv02->proc2 & VMX_PROC2_VIRTUAL_INTR_DELIVERY) {
		for (unsigned i = 0; i < 4; i++)
			nvmx_vmwrite(VMCS_EOI_EXIT_BITMAP(i), vmcs12_get(n, VMCS_EOI_EXIT_BITMAP(i)));
		nvmx_vmwrite(VMCS_GUEST_INTR_STATUS, vmcs12_get(n, VMCS_GUEST_INTR_STATUS));
	}
	if (vv02->proc2 & VMX_PROC2_ENABLE_VMFUNC)
		nvmx_vmwrite(VMCS_VMFUNC_CONTROLS, 0); /* none offered: the entry checks kept L1's 0 */
	nvmx_vmwrite(VMCS_EPT_POINTER, nvmx_ept12(n) ? nvmx_shadow_eptp(n) : n->vv01->eptp);
	nvmx_vmwrite(VMCS_ENTRY_INTR_INFO, vmcs12_get(n, VMCS_ENTRY_INTR_INFO));
	nvmx_vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmcs12_get(n, VMCS_ENTRY_EXCEPTION_ERROR_CODE));
	nvmx_vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmcs12_get(n, VMCS_ENTRY_INSTRUCTION_LEN));
}

/* CR0/CR4: a bit either of L1 (VMCS12's mask) or nestbed (the bits VMX forces) owns
 * exits; the read shadow has L1's shadow for L1's bits and L2's value for nestbed's
 * (24.6.6). */
static void write_cr(struct nvmx *n, struct vcpu_state *st, bool ug12)
{
	struct vmx_vcpu *vv02 = &n->vv02;
	vv02->fixed = n->vv01->fixed;
	vv02->fixed.unrestricted_guest = ug12;
	vv02->fixed.allow_vmxe = true;
	vv02->fixed.vmx_operation = false; /* L2 is not in VMX operation (VMX is not offered to it) */
	vv02->cr0_mask = vmx_cr0_forced(&vv02->fixed);
	vv02->cr4_mask = vmx_cr4_forced(&vv02->fixed);
	uint64_t cr0 = vmcs12_get(n, VMCS_GUEST_CR0), cr4 = vmcs12_get(n, VMCS_GUEST_CR4);
	uint64_t m0 = vmcs12_get(n, VMCS_CR0_GUEST_HOST_MASK), m4 = vmcs12_get(n, VMCS_CR4_GUEST_HOST_MASK);
	uint64_t s0 = vmcs12_get(n, VMCS_CR0_READ_SHADOW), s4 = vmcs12_get(n, VMCS_CR4_READ_SHADOW);
	nvmx_vmwrite(VMCS_GUEST_CR0, cr0 | vv02->cr0_mask);
	nvmx_vmwrite(VMCS_GUEST_CR4, cr4 | vv02->cr4_mask);
	nvmx_vmwrite(VMCS_CR0_GUEST_HOST_MASK, m0 | vv02->cr0_mask);
	nvmx_vmwrite(VMCS_CR4_GUEST_HOST_MASK, m4 | vv02->cr4_mask);
	nvmx_vmwrite(VMCS_CR0_READ_SHADOW, (s0 & m0) | (cr0 & ~m0));
	nvmx_vmwrite(VMCS_CR4_READ_SHADOW, (s4 & m4) | (cr4 & ~m4));
	st->cr0 = cr0;
	st->cr4 = cr4;
	st->cr3 = vmcs12_get(n, VMCS_GUEST_CR3);
}

static void write_guest_state(struct vcpu *v, struct nvmx *n, uint64_t efer, uint64_t dr7, uint64_t debugctl)
{
	struct vcpu_state *st = &v->state;
	for (unsigned w = 0; w < VMCS12_SLOT_WORDS; w++)
		for (uint64_t bits = n->dirty02[w] & n->plain02[w]; bits; bits &= bits - 1) {
			unsigned slot = w * 64 + (unsigned)__builtin_ctzll(bits);
			nvmx_vmwrite(vmcs12_field_encoding(slot), n->vmcs12.field[slot]);
		}
	nvmx_vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmcs12_get(n, VMCS_GUEST_INTERRUPTIBILITY));
	uint32_t entry12 = (uint32_t)vmcs12_get(n, VMCS_ENTRY_CTLS);
	bool load_debug = entry12 & VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS;
	nvmx_vmwrite(VMCS_GUEST_DR7, load_debug ? vmcs12_get(n, VMCS_GUEST_DR7) : dr7);
	nvmx_vmwrite(VMCS_GUEST_IA32_DEBUGCTL, load_debug ? vmcs12_get(n, VMCS_GUEST_IA32_DEBUGCTL) : debugctl);
	if (n->vv02.load_pat)
		nvmx_vmwrite(VMCS_GUEST_IA32_PAT, (entry12 & VMX_ENTRY_CTL_LOAD_IA32_PAT) ?
						       vmcs12_get(n, VMCS_GUEST_IA32_PAT) : n->l1_pat);
	nvmx_vmwrite(VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
	uint32_t proc2_12 = (vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY) ?
				    (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) : 0;
	write_cr(n, st, (proc2_12 & VMX_PROC2_UNRESTRICTED_GUEST) != 0);
	st->efer = efer;
	/* PAE paging takes its PDPTEs from the VMCS with EPT (26.3.2.4): L1's with its EPT,
	 * else loaded from L2's CR3 as a CPU without EPT would */
	bool pae = (st->cr0 & VMX_CR0_PG) && (st->cr4 & VMX_CR4_PAE) && !(efer & EFER_LMA);
	uint64_t pdpte[PDPTE_COUNT] = { 0 };
	if (nvmx_ept12(n)) {
		for (unsigned i = 0; i < PDPTE_COUNT; i++)
			pdpte[i] = vmcs12_get(n, VMCS_GUEST_PDPTE(i));
	} else if (pae) {
		(void)guest_phys_read(st->cr3 & CR3_PAE_PDPT_MASK, pdpte, sizeof(pdpte));
	}
	for (unsigned i = 0; i < PDPTE_COUNT; i++)
		nvmx_vmwrite(VMCS_GUEST_PDPTE(i), pdpte[i]);
	st->rip = vmcs12_get(n, VMCS_GUEST_RIP);
	st->rsp = vmcs12_get(n, VMCS_GUEST_RSP);
	st->rflags = vmcs12_get(n, VMCS_GUEST_RFLAGS);
	uint32_t cs_ar = (uint32_t)vmcs12_get(n, VMCS_GUEST_CS_AR);
	st->cs_base = vmcs12_get(n, VMCS_GUEST_CS_BASE);
	st->cs_long = (cs_ar & VMX_AR_L) != 0;
	st->cs_db = (cs_ar & VMX_AR_DB) != 0;
	st->cpl = (uint8_t)((vmcs12_get(n, VMCS_GUEST_SS_AR) >> VMX_AR_DPL_SHIFT) & VMX_AR_DPL_MASK);
}

/* L2's TLB tag: flushed when L1 changed what it maps or asked (INVVPID, INVEPT, another
 * VMCS), and at every entry when L1 runs L2 without a VPID, as a CPU flushes then
 * (28.3.3.3). */
static void flush_l2_tlb(struct nvmx *n, uint32_t proc2_12)
{
	uint16_t vpid12 = (proc2_12 & VMX_PROC2_ENABLE_VPID) ? (uint16_t)vmcs12_get(n, VMCS_VPID) : 0;
	bool flush = n->flush_l2 || !vpid12 || vpid12 != n->last_vpid12;
	n->last_vpid12 = vpid12;
	n->flush_l2 = false;
	if (!flush || !n->vv02.vpid)
		return;
	if (n->vv02.invvpid_single)
		(void)invvpid(VMX_INVVPID_SINGLE_CONTEXT, n->vv02.vpid, 0);
	else
		(void)invvpid(VMX_INVVPID_ALL_CONTEXT, 0, 0);
}

void nvmx_vmentry(struct vcpu *v, struct exit *e, bool launch)
{
	struct nvmx *n = nvmx_of(v);
	if (n->current_pa == NVMX_NO_VMCS) {
		v->state.rflags = (v->state.rflags & ~RFLAGS_ARITH) | RFLAGS_CF;
		vcpu_skip_instruction(v, e);
		return;
	}
	if (nvmx_vmread(VMCS_GUEST_INTERRUPTIBILITY) & VMX_INTERRUPTIBILITY_MOV_SS) {
		vmfail_valid(v, n, VMX_ERROR_ENTRY_MOV_SS_BLOCKING, e);
		return;
	}
	if (launch && n->vmcs12.launch_state != NVMX_LAUNCH_CLEAR) {
		vmfail_valid(v, n, VMX_ERROR_VMLAUNCH_NOT_CLEAR, e);
		return;
	}
	if (!launch && n->vmcs12.launch_state != NVMX_LAUNCH_LAUNCHED) {
		vmfail_valid(v, n, VMX_ERROR_VMRESUME_NOT_LAUNCHED, e);
		return;
	}
	/* a check that runs reads L2's whole state: the fields the last exit left in VMCS02
	 * come into VMCS12 first (unchanged in VMCS02, they need no check of their own) */
	if (vmcs12_check_cache_will_run(&n->checks))
		nvmx_sync_rare(v, n);
	struct vmcs12_view view = { view_read, view_read_phys, n };
	struct vmcs12_check_result r;
	memset(&r, 0, sizeof(r));
	if (vmcs12_check_entry_cached(&n->checks, &view, &n->offer.caps, (v->state.efer & EFER_LMA) != 0,
				      n->current_pa, &r)) {
		kprintf("nestbed: nested-vmx: %s of the VMCS at %#llx fails: %s (%s %u)\n",
			launch ? "VMLAUNCH" : "VMRESUME", (unsigned long long)n->current_pa,
			r.rule ? r.rule : "?", r.insn_error ? "VMfailValid" : "VM-entry failure, exit reason",
			r.insn_error ? r.insn_error : r.exit_reason);
		if (r.insn_error) {
			vmfail_valid(v, n, r.insn_error, e);
			return;
		}
		nvmx_entry_failure(v, n, r.exit_reason ? r.exit_reason : VMX_EXIT_REASON_INVALID_GUEST_STATE,
				   r.qualification);
		return;
	}

	/* The CPU reads and writes the virtual-APIC page of VMCS02 by its physical address,
	 * outside any EPT: it must be L1's own RAM, never nestbed's memory nor a device's
	 * registers (a virtual-APIC page on the APIC itself would send L2's virtualized ICR
	 * writes as real IPIs). nestbed refuses any other page as an invalid control. */
	if ((vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_TPR_SHADOW) &&
	    !guest_ram_range(vmcs12_get(n, VMCS_VIRTUAL_APIC_ADDR), 4096)) {
		kprintf("nestbed: nested-vmx: %s: the virtual-APIC page %#llx is not L1's RAM: "
			"VMfailValid 7\n", launch ? "VMLAUNCH" : "VMRESUME",
			(unsigned long long)vmcs12_get(n, VMCS_VIRTUAL_APIC_ADDR));
		vmfail_valid(v, n, VMX_ERROR_ENTRY_INVALID_CONTROL, e);
		return;
	}

	/* With "VMCS shadowing", nestbed reads and writes the shadow VMCS for L2
	 * (nvmx_l2_vmcs_shadow.c): it must be L1's RAM, never a device's registers (the
	 * local APIC's ICR would take L2's VMWRITEs). Anything else is a link pointer this
	 * CPU cannot use (26.3.1.5). */
	if (nvmx_l2_vmcs_shadow_link_bad(n)) {
		kprintf("nestbed: nested-vmx: %s: the shadow VMCS %#llx is not L1's RAM: VM-entry failure, "
			"exit reason 33, qualification 4\n", launch ? "VMLAUNCH" : "VMRESUME",
			(unsigned long long)vmcs12_get(n, VMCS_LINK_POINTER));
		nvmx_entry_failure(v, n, VMX_EXIT_REASON_INVALID_GUEST_STATE, VMX_ENTRY_QUAL_LINK_POINTER);
		return;
	}

	/* L2's EFER: its own when VMCS12 loads it, else L1's with LMA/LME from "IA-32e mode
	 * guest" (26.3.2.1); then the MSR-load area may change it */
	uint32_t entry12 = (uint32_t)vmcs12_get(n, VMCS_ENTRY_CTLS);
	uint64_t efer = v->state.efer;
	if (entry12 & VMX_ENTRY_CTL_LOAD_IA32_EFER)
		efer = vmcs12_get(n, VMCS_GUEST_IA32_EFER);
	else if (entry12 & VMX_ENTRY_CTL_IA32E_MODE_GUEST)
		efer |= EFER_LMA | EFER_LME;
	else
		efer &= ~(uint64_t)(EFER_LMA | EFER_LME);
	struct msr_overrides overrides;
	uint32_t bad_msr = load_entry_msrs(v, n, &efer, &overrides);
	if (bad_msr) {
		kprintf("nestbed: nested-vmx: VM entry: entry %u of the VM-entry MSR-load area cannot be "
			"loaded (26.4): VM-entry failure, exit reason 34\n", bad_msr);
		nvmx_entry_failure(v, n, VMX_EXIT_REASON_MSR_LOADING, bad_msr);
		return;
	}

	/* what L2 inherits of L1 when VMCS12 does not load it */
	uint64_t dr7 = nvmx_vmread(VMCS_GUEST_DR7), debugctl = nvmx_vmread(VMCS_GUEST_IA32_DEBUGCTL);
	n->l1_pat = n->vv01->load_pat ? nvmx_vmread(VMCS_GUEST_IA32_PAT) : 0;

	uint32_t proc2_12 = (vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY) ?
				    (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) : 0;
	if (nvmx_ept12(n)) {
		uint64_t eptp12 = vmcs12_get(n, VMCS_EPT_POINTER);
		if (eptp12 != n->shadow_eptp12)
			nvmx_shadow_drop(n);
		if (nvmx_shadow_ensure(n))
			guest_failure(v, "nested-vmx: out of memory for the shadow EPT");
		n->shadow_eptp12 = eptp12;
	}
	enum vmx_result rr = vmptrld(n->vv02.vmcs_pa);
	if (rr != VMX_OK) {
		vmx_report_failure("VMPTRLD of VMCS02", rr);
		guest_failure(v, "nested-vmx: cannot make VMCS02 current");
	}
	write_controls(v, n);
	write_guest_state(v, n, efer, dr7, debugctl);
	for (unsigned i = 0; i < overrides.count; i++)
		nvmx_vmwrite(overrides.field[i], overrides.value[i]);
	flush_l2_tlb(n, proc2_12);
	for (unsigned w = 0; w < VMCS12_SLOT_WORDS; w++)
		n->dirty02[w] = 0; /* VMCS02 now holds VMCS12 */
	n->vmcs12.launch_state = NVMX_LAUNCH_LAUNCHED;
	v->backend = &n->vv02;
	v->level = 2;
	v->insn_skipped = false;
	n->in_l2 = true;
}
