/* Nested EPT (SDM vol.3 28.2-28.3): when L1 gives L2 an EPT, L2 runs on a shadow EPT
 * that maps L2-physical addresses straight to host-physical ones (L1's EPT composed
 * with nestbed's identity map, nestbed's own memory never reachable). It is filled at
 * EPT violations by the shared shadow-TDP algorithm (nested/shadow_tdp_fault.h) with
 * this file's hands: ept_walk.c's walker, EPT exits for L1, EPT-format entries built by
 * the paging engine. It is dropped on INVEPT, VMXOFF and a change of L1's EPTP. A
 * violation or misconfiguration of L1's tables is L1's exit (48 or 49). */
#include "nested/vmx/nvmx.h"
#include "nested/map_track_machine.h"

#include "core/console.h"
#include "core/guest_mem.h"
#include "core/memory.h"
#include "core/run.h"
#include "nested/ept_walk.h"
#include "nested/shadow_tdp_fault.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"
#include "core/x86.h"

#define EPT_CAP_EXEC_ONLY 1ull    /* A.10 bit 0 */
#define EPT_QUAL_NMI_UNBLOCKING (1ull << 12) /* 27.2.1 table 27-7, 27.2.3 */

/* An EPT violation nestbed handles itself came in an IRET that had already removed the
 * (virtual-)NMI blocking (qualification bit 12, meaningful when no event was being
 * delivered, 27.2.3): the IRET runs again when L2 resumes, so the blocking it started
 * with is put back, as the SDM asks of a VMM that resumes the guest; otherwise an NMI
 * (or L1's NMI window) would come before the IRET completes. */
static void restore_nmi_blocking(const struct exit *e)
{
	if (!(e->info1 & EPT_QUAL_NMI_UNBLOCKING) || (vmcs_read(VMCS_IDT_VECTORING_INFO) & VMX_INTR_INFO_VALID))
		return;
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) | VMX_INTERRUPTIBILITY_NMI);
}

#define APIC_ACCESS_TYPE_SHIFT 12 /* 28.2.1 table 28-6: bits 15:12 the access type */
#define APIC_ACCESS_LINEAR_READ 0u
#define APIC_ACCESS_LINEAR_WRITE 1u
#define APIC_ACCESS_LINEAR_FETCH 2u
#define APIC_ACCESS_DURING_DELIVERY 3u

static int read_l1_phys(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(pa, value, sizeof(*value));
}

/* L1's EPT, walked with what nestbed offers L1 (execute-only, 1 GiB pages) */
static struct ept_walk_ctx l1_ept(const struct nvmx *n)
{
	return (struct ept_walk_ctx){
		.eptp = vmcs12_get(n, VMCS_EPT_POINTER),
		.phys_addr_mask = ~n->phys_mask,
		.exec_only = (n->offer.caps.ept_vpid_cap & EPT_CAP_EXEC_ONLY) != 0,
		.page_1g = (n->offer.caps.ept_vpid_cap & VMX_EPT_CAP_1G_PAGES) != 0,
		.read_phys = read_l1_phys,
	};
}

static int walk_l1_ept(const struct nvmx *n, uint64_t gpa, unsigned access, struct ept_walk_result *r)
{
	struct ept_walk_ctx c = l1_ept(n);
	return ept_walk(&c, gpa, access, r);
}

uint64_t nvmx_shadow_eptp(const struct nvmx *n)
{
	return ept_pointer(n->shadow.root, EPT_MEMTYPE_WB);
}

void nvmx_shadow_drop(struct nvmx *n)
{
	if (!n->shadow.root)
		return;
	/* the CPU caches translations by EPTP (28.3.1): forget the old ones first */
	(void)invept(VMX_INVEPT_ALL_CONTEXT, 0);
	tdp_free(&n->shadow);
	n->shadow_eptp12 = 0;
}

int nvmx_shadow_ensure(struct nvmx *n)
{
	if (n->shadow.root)
		return 0;
	return tdp_init(&n->shadow, &tdp_format_ept, &nestbed_frames, identity_frame_ptr);
}

int nvmx_l2_gpa_to_hpa(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end)
{
	const struct nvmx *n = nvmx_of(v);
	*page_end = (gpa | PAGE_MASK) + 1;
	if (!n->in_l2 || !nvmx_ept12(n)) {
		*hpa = gpa;
		return 0;
	}
	struct ept_walk_result r;
	if (walk_l1_ept(n, gpa, EPT_ACCESS_READ, &r) != EPT_WALK_OK)
		return -1;
	*hpa = r.pa;
	return 0;
}

/* An L2 access to the page VMCS12 names as its APIC-access page is an APIC-access exit
 * to L1 (30.4), which has priority only below L1's own EPT violations (30.4.6.1; the
 * caller walked L1's EPT first). The CPU gives it itself unless nestbed's tables stop the
 * access first: the xAPIC page is read-only in them, so an L2 write to an APIC-access
 * page on the APIC comes here, and must not reach the APIC. l1_pa: the page L2's access
 * maps to in L1's physical memory. */
static bool apic_access_exit(struct vcpu *v, struct nvmx *n, struct exit *e, uint64_t l1_pa)
{
	if (!(vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY) ||
	    !(vmcs12_get(n, VMCS_PROC_BASED_CTLS2) & VMX_PROC2_VIRTUALIZE_APIC) ||
	    (l1_pa & ~PAGE_MASK) != (vmcs12_get(n, VMCS_APIC_ACCESS_ADDR) & ~PAGE_MASK))
		return false;
	unsigned type = (vmcs_read(VMCS_IDT_VECTORING_INFO) & VMX_INTR_INFO_VALID) ? APIC_ACCESS_DURING_DELIVERY
			: e->u.tdp.fetch ? APIC_ACCESS_LINEAR_FETCH
			: e->u.tdp.write ? APIC_ACCESS_LINEAR_WRITE : APIC_ACCESS_LINEAR_READ;
	e->native_code = VMX_EXIT_REASON_APIC_ACCESS;
	nvmx_vmexit(v, n, VMX_EXIT_REASON_APIC_ACCESS,
		    (l1_pa & PAGE_MASK) | ((uint64_t)type << APIC_ACCESS_TYPE_SHIFT));
	trace_reflected(&v->trace, e);
	return true;
}

bool nvmx_apic_access(struct vcpu *v, struct exit *e)
{
	struct nvmx *n = nvmx_of(v);
	if (!n->in_l2)
		return false;
	uint64_t l1_pa = e->u.tdp.gpa;
	if (nvmx_ept12(n)) {
		unsigned access = (e->u.tdp.read ? EPT_ACCESS_READ : 0) | (e->u.tdp.write ? EPT_ACCESS_WRITE : 0) |
				  (e->u.tdp.fetch ? EPT_ACCESS_FETCH : 0);
		struct ept_walk_result r;
		if (walk_l1_ept(n, l1_pa, access, &r) != EPT_WALK_OK)
			return false; /* L1's own EPT violation comes first: nvmx_tdp_fault */
		l1_pa = r.pa;
	}
	return apic_access_exit(v, n, e, l1_pa);
}

/* ---- the shadow-TDP algorithm's VT-x hands ---- */

static void ept12_walk(struct vcpu *v, const struct exit *e, struct shadow_tdp_walk *w)
{
	struct ept_walk_ctx c = l1_ept(nvmx_of(v));
	ept_walk_for_shadow(&c, e->u.tdp.gpa, shadow_tdp_access(e), e->info1, w);
}

static void ept12_reflect(struct vcpu *v, struct exit *e, const struct shadow_tdp_walk *w)
{
	e->native_code = (uint32_t)w->l1_exit;
	nvmx_vmexit(v, nvmx_of(v), (uint32_t)w->l1_exit, w->l1_info);
}

static bool ept12_after_walk(struct vcpu *v, struct exit *e, uint64_t l1_pa)
{
	return apic_access_exit(v, nvmx_of(v), e, l1_pa);
}

/* L1's rights as they are: an execute-only page stays execute-only (L1 is offered
 * execute-only entries only where the CPU has them), memory type and ignore-PAT L1's
 * (28.2.6: the guest's PAT combines with them as on bare metal). */
static uint64_t ept12_attrs(const struct shadow_tdp_leaf *leaf)
{
	return ((leaf->perms & TDP_R) ? EPT_READ : 0) | ((leaf->perms & TDP_W) ? EPT_WRITE : 0) |
	       ((leaf->perms & TDP_X) ? EPT_EXEC : 0) | leaf->extra;
}

static struct tdp *ept12_shadow(struct vcpu *v)
{
	struct nvmx *n = nvmx_of(v);
	n->shadow.fmt = &tdp_format_ept; /* set by nvmx_shadow_ensure at entry already */
	return &n->shadow;
}

static void ept12_new_root(struct vcpu *v)
{
	/* the CPU caches translations by EPTP (28.3.1): the old table's go */
	(void)invept(VMX_INVEPT_ALL_CONTEXT, 0);
	vmcs_write(VMCS_EPT_POINTER, nvmx_shadow_eptp(nvmx_of(v)));
}

static void ept12_resumed(struct vcpu *v, const struct exit *e)
{
	(void)v;
	restore_nmi_blocking(e);
}

static const struct shadow_tdp_ops ept12_ops = {
	.name = "nested-vmx",
	.walk = ept12_walk,
	.reflect = ept12_reflect,
	.after_walk = ept12_after_walk,
	.attrs = ept12_attrs,
	.tracked_write = nvmx_maps_tracked_write,
	.shadow = ept12_shadow,
	.new_root = ept12_new_root,
	.resumed = ept12_resumed,
};

bool nvmx_tdp_fault(struct vcpu *v, struct exit *e)
{
	struct nvmx *n = nvmx_of(v);
	if (n->in_l2 && !nvmx_ept12(n) && apic_access_exit(v, n, e, e->u.tdp.gpa))
		return true;
	if (!n->in_l2 || !nvmx_ept12(n)) {
		/* L2-physical is L1-physical: a write to a tracked permission map, or nestbed's
		 * own business */
		return e->u.tdp.present && e->u.tdp.write && nvmx_maps_write_fault(v, e->u.tdp.gpa);
	}
	return shadow_tdp_fault(v, e, &ept12_ops);
}
