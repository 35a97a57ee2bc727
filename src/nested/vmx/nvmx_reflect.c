#include "nested/vmx/nvmx_reflect.h"

#include "vmx/vmcs.h"
#include "core/x86.h"

#define CR_QUAL_CR_MASK 0xfull                /* 27.2.1 table 27-3 */
#define CR_QUAL_TYPE_SHIFT 4
#define CR_QUAL_TYPE_MASK 3ull
#define CR_TYPE_MOV_TO 0
#define CR_TYPE_MOV_FROM 1
#define CR_TYPE_CLTS 2
#define CR_TYPE_LMSW 3
#define CR_QUAL_LMSW_SHIFT 16
#define LMSW_BITS 0xfull
#define IO_QUAL_SIZE_MASK 7ull               /* 27.2.1 table 27-5 */
#define IO_QUAL_PORT_SHIFT 16
#define MSR_LOW_END 0x1fffu                  /* 24.6.9 */
#define MSR_HIGH_END 0xc0001fffu
#define MSR_BITMAP_WRITE_OFFSET 2048
#define MSR_BITMAP_HIGH_OFFSET 1024

bool nvmx_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	unsigned offset = write ? MSR_BITMAP_WRITE_OFFSET : 0;
	if (msr <= MSR_LOW_END)
		;
	else if (msr >= MSR_HIGH_BASE && msr <= MSR_HIGH_END)
		offset += MSR_BITMAP_HIGH_OFFSET, msr -= MSR_HIGH_BASE;
	else
		return true;
	return (bitmap[offset + msr / 8] >> (msr % 8)) & 1;
}

static bool exception_wanted(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e)
{
	unsigned type = (e->intr_info >> VMX_INTR_INFO_TYPE_SHIFT) & VMX_INTR_INFO_TYPE_MASK;
	unsigned vector = e->intr_info & VMX_INTR_INFO_VECTOR_MASK;
	if (type == VMX_INTR_TYPE_NMI)
		return (c->pin & VMX_PIN_NMI_EXITING) != 0;
	bool bit = (c->exception_bitmap >> (vector & 31)) & 1;
	if (vector != VECTOR_PF)
		return bit;
	/* 25.2: a #PF exits by bit 14 when the error code matches, by its inverse otherwise */
	bool match = (e->error_code & c->pfec_mask) == c->pfec_match;
	return match ? bit : !bit;
}

static bool cr_access_wanted(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e)
{
	unsigned cr = (unsigned)(e->qualification & CR_QUAL_CR_MASK);
	unsigned type = (unsigned)((e->qualification >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK);
	switch (type) {
	case CR_TYPE_MOV_TO:
		switch (cr) {
		case 0: return ((e->cr_value ^ c->cr0_shadow) & c->cr0_mask) != 0;
		case 4: return ((e->cr_value ^ c->cr4_shadow) & c->cr4_mask) != 0;
		case 3:
			if (!(c->proc & VMX_PROC_CR3_LOAD_EXITING))
				return false;
			for (unsigned i = 0; i < c->cr3_target_count && i < 4; i++)
				if (c->cr3_targets[i] == e->cr_value)
					return false; /* 25.1.3: a CR3-target value does not exit */
			return true;
		case 8: return (c->proc & VMX_PROC_CR8_LOAD_EXITING) != 0;
		default: return true;
		}
	case CR_TYPE_MOV_FROM:
		if (cr == 3)
			return (c->proc & VMX_PROC_CR3_STORE_EXITING) != 0;
		if (cr == 8)
			return (c->proc & VMX_PROC_CR8_STORE_EXITING) != 0;
		return true;
	case CR_TYPE_CLTS:
		/* 25.1.3: CLTS exits when TS is owned and its shadow is 1 */
		return (c->cr0_mask & CR0_TS) && (c->cr0_shadow & CR0_TS);
	default: { /* LMSW: an owned bit of PE, MP, EM, TS that differs; PE only set, never cleared */
		uint64_t src = (e->qualification >> CR_QUAL_LMSW_SHIFT) & LMSW_BITS;
		uint64_t diff = (src ^ c->cr0_shadow) & c->cr0_mask & LMSW_BITS & ~CR0_PE;
		bool pe = (c->cr0_mask & CR0_PE) && (src & CR0_PE) && !(c->cr0_shadow & CR0_PE);
		return diff || pe;
	}
	}
}

static bool io_wanted(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e)
{
	if (c->proc & VMX_PROC_USE_IO_BITMAPS) {
		unsigned size = (unsigned)(e->qualification & IO_QUAL_SIZE_MASK) + 1;
		unsigned port = (unsigned)(e->qualification >> IO_QUAL_PORT_SHIFT) & 0xffffu;
		for (unsigned p = port; p < port + size; p++) {
			if (p > 0xffffu)
				return true; /* 25.1.3: wrapping around the port space exits */
			if (c->io_bitmaps && ((c->io_bitmaps[p / 8] >> (p % 8)) & 1))
				return true;
		}
		return false;
	}
	return (c->proc & VMX_PROC_UNCOND_IO_EXITING) != 0;
}

static bool msr_wanted(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e, bool write)
{
	if (!(c->proc & VMX_PROC_USE_MSR_BITMAPS) || !c->msr_bitmap)
		return true;
	return nvmx_msr_bitmap_exits(c->msr_bitmap, e->msr, write);
}

bool nvmx_l1_wants_exit(const struct nvmx_exit_controls *c, const struct nvmx_exit_event *e)
{
	switch (e->reason) {
	case VMX_EXIT_REASON_EXCEPTION_NMI: return exception_wanted(c, e);
	case VMX_EXIT_REASON_EXTERNAL_INTR: return (c->pin & VMX_PIN_EXTERNAL_INTR_EXITING) != 0;
	case VMX_EXIT_REASON_INTR_WINDOW: return (c->proc & VMX_PROC_INTR_WINDOW_EXITING) != 0;
	case VMX_EXIT_REASON_NMI_WINDOW: return (c->proc & VMX_PROC_NMI_WINDOW_EXITING) != 0;
	case VMX_EXIT_REASON_HLT: return (c->proc & VMX_PROC_HLT_EXITING) != 0;
	case VMX_EXIT_REASON_INVLPG: return (c->proc & VMX_PROC_INVLPG_EXITING) != 0;
	case VMX_EXIT_REASON_RDPMC: return (c->proc & VMX_PROC_RDPMC_EXITING) != 0;
	case VMX_EXIT_REASON_RDTSC:
	case VMX_EXIT_REASON_RDTSCP: return (c->proc & VMX_PROC_RDTSC_EXITING) != 0;
	case VMX_EXIT_REASON_CR_ACCESS: return cr_access_wanted(c, e);
	case VMX_EXIT_REASON_DR_ACCESS: return (c->proc & VMX_PROC_MOV_DR_EXITING) != 0;
	case VMX_EXIT_REASON_IO: return io_wanted(c, e);
	case VMX_EXIT_REASON_RDMSR: return msr_wanted(c, e, false);
	case VMX_EXIT_REASON_WRMSR: return msr_wanted(c, e, true);
	case VMX_EXIT_REASON_MWAIT: return (c->proc & VMX_PROC_MWAIT_EXITING) != 0;
	/* nestbed sets neither MTF nor the timer for itself: such exits are L1's, from its
	 * control or, for MTF, from a pending MTF VM exit it injected (26.7.8) */
	case VMX_EXIT_REASON_MONITOR_TRAP_FLAG: return true;
	case VMX_EXIT_REASON_PREEMPTION_TIMER: return (c->pin & VMX_PIN_PREEMPTION_TIMER) != 0;
	case VMX_EXIT_REASON_MONITOR: return (c->proc & VMX_PROC_MONITOR_EXITING) != 0;
	/* PAUSE exiting, or a PAUSE loop (PAUSE-loop exiting, 25.1.3): nestbed uses neither */
	case VMX_EXIT_REASON_PAUSE:
		return (c->proc & VMX_PROC_PAUSE_EXITING) || (c->proc2 & VMX_PROC2_PAUSE_LOOP_EXITING);
	case VMX_EXIT_REASON_GDTR_IDTR:
	case VMX_EXIT_REASON_LDTR_TR: return (c->proc2 & VMX_PROC2_DESC_TABLE_EXITING) != 0;
	case VMX_EXIT_REASON_WBINVD: return (c->proc2 & VMX_PROC2_WBINVD_EXITING) != 0;
	case VMX_EXIT_REASON_RDRAND: return (c->proc2 & (1u << 11)) != 0; /* RDRAND exiting, table 24-7 */
	case VMX_EXIT_REASON_RDSEED: return (c->proc2 & (1u << 16)) != 0; /* RDSEED exiting */
	case VMX_EXIT_REASON_INVPCID: return (c->proc & VMX_PROC_INVLPG_EXITING) != 0;
	case VMX_EXIT_REASON_EPT_VIOLATION:
	case VMX_EXIT_REASON_EPT_MISCONFIG:
		return false; /* the nested EPT decides (nvmx tdp_fault) */
	default:
		/* Instructions that always exit (CPUID, GETSEC, INVD, VMCALL, the VMX
		 * instructions, XSETBV, ...), triple fault, task switch, INIT, SIPI, VM-entry
		 * failures, and anything nestbed never enables for itself. */
		return true;
	}
}
