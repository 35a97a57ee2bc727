/* Nested VT-x permission maps (nested/map_track.h): VMCS02's I/O bitmaps A and B and MSR
 * bitmap are L1's (VMCS12's) ORed with nestbed's own few bits, merged again only when L1
 * names other bitmaps or writes one (their pages are write-protected in L1's EPT
 * meanwhile). The CPU consults them at each IN/OUT and RDMSR/WRMSR (SDM vol.3C 25.1.3,
 * 25.6.4, 25.6.9): a write L1 makes while L2 runs takes effect at L2's next access.
 * VT-x has no kick here (nestbed takes neither NMIs nor interrupts on VT-x): a write by
 * another CPU reaches a running L2 at its next exit. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/string.h"
#include "nested/map_track_machine.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_ept.h"
#include "vmx/vmx_insn.h"
#include "core/x86.h"
#include "nested/map_track.h"
#include "nested/vmx/nvmx_reflect.h"

#define PAGE 4096u
#define MSR_RANGE 0x2000u
#define MSR_BITMAP_HIGH 1024u  /* 25.6.9: read low, read high, write low, write high */
#define MSR_BITMAP_WRITE 2048u

static struct map_cache *cache_of(struct vcpu *w)
{
	return &((struct nvmx *)w->nested_state)->maps;
}

/* nestbed's EPT for w's L1 (vmx_vmcs.c) */
static bool l1_table(struct vcpu *w, struct tdp *t)
{
	const struct nvmx *n = w->nested_state;
	if (!n || !n->vv01 || !n->vv01->ept.root)
		return false;
	*t = ept_as_tdp(&n->vv01->ept);
	return true;
}

static volatile uint32_t *tdp_sync(struct vcpu *w)
{
	return &((struct nvmx *)w->nested_state)->tdp_sync;
}

/* This CPU's translations of L1's EPT (28.3.3.1). */
static void flush_now(struct vcpu *v)
{
	const struct nvmx *n = v->nested_state;
	if (machine.caps.vmx_caps.ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE)
		(void)invept(VMX_INVEPT_SINGLE_CONTEXT, n->vv01->eptp);
	else
		(void)invept(VMX_INVEPT_ALL_CONTEXT, 0);
}

static const struct map_track_vendor vendor = { .name = "nested-vmx", .cache = cache_of, .l1_table = l1_table,
						.tdp_sync = tdp_sync, .flush_now = flush_now };

int nvmx_maps_init(struct machine *m, struct vcpu *v)
{
	struct nvmx *n = v->nested_state;
	const struct vmx_vcpu *vv = n->vv01;
	int msr = map_words_collect(phys_to_virt(vv->msr_bitmap_pa), PAGE / 8, n->own_msr, NVMX_OWN_WORDS);
	int a = map_words_collect(phys_to_virt(vv->io_bitmap_a_pa), PAGE / 8, n->own_io_a, NVMX_OWN_WORDS);
	int b = map_words_collect(phys_to_virt(vv->io_bitmap_b_pa), PAGE / 8, n->own_io_b, NVMX_OWN_WORDS);
	if (msr < 0 || a < 0 || b < 0) {
		kprintf("nestbed: nested-vmx: nestbed's own bitmaps have more than %u words\n", NVMX_OWN_WORDS);
		return -1;
	}
	n->nr_own_msr = (unsigned)msr;
	n->nr_own_io_a = (unsigned)a;
	n->nr_own_io_b = (unsigned)b;
	return map_track_machine_init(m);
}

static void fill_all(struct nvmx *n)
{
	memset(n->msr_bitmap02, 0xff, PAGE);
	memset(n->io_bitmap_a02, 0xff, PAGE);
	memset(n->io_bitmap_b02, 0xff, PAGE);
	n->maps.filled = true;
}

/* One of L1's bitmaps into a merged one: L1's where it can be read (*live set), all ones
 * where it cannot (every access exits: nestbed never reads its own memory as L1's). */
static void merge_one(uint64_t key, uint8_t *dst, const uint8_t **live, const struct map_word *own,
		      unsigned nr_own)
{
	*live = NULL;
	if (key == KEY_UNUSED) {
		memset(dst, 0, PAGE);
	} else if (guest_phys_read(key, dst, PAGE)) {
		memset(dst, 0xff, PAGE);
		return;
	} else {
		*live = phys_to_virt(key);
	}
	map_words_or((uint64_t *)dst, own, nr_own); /* nestbed's few words, not 4 KiB */
}

static void rebuild(struct vcpu *v, struct nvmx *n, const uint64_t key[3])
{
	uint64_t pages[MAP_CACHE_MAX_PAGES];
	unsigned nr = 0;
	for (unsigned i = 0; i < 3; i++)
		if (key[i] != KEY_UNUSED)
			pages[nr++] = key[i];
	/* protected first, then read: a write after this point marks the merge stale */
	map_track_begin_rebuild(v, &vendor, pages, nr, key);
	merge_one(key[0], n->msr_bitmap02, &n->msr12_live, n->own_msr, n->nr_own_msr);
	merge_one(key[1], n->io_bitmap_a02, &n->io_a12_live, n->own_io_a, n->nr_own_io_a);
	merge_one(key[2], n->io_bitmap_b02, &n->io_b12_live, n->own_io_b, n->nr_own_io_b);
}

static void key_of(const struct nvmx *n, uint32_t proc12, uint64_t key[3])
{
	bool msr = proc12 & VMX_PROC_USE_MSR_BITMAPS, io = proc12 & VMX_PROC_USE_IO_BITMAPS;
	key[0] = msr ? vmcs12_get(n, VMCS_MSR_BITMAP) & ~PAGE_MASK : KEY_UNUSED;
	key[1] = io ? vmcs12_get(n, VMCS_IO_BITMAP_A) & ~PAGE_MASK : KEY_UNUSED;
	key[2] = io ? vmcs12_get(n, VMCS_IO_BITMAP_B) & ~PAGE_MASK : KEY_UNUSED;
}

void nvmx_maps_for_entry(struct vcpu *v, struct nvmx *n, uint32_t proc12, uint32_t *proc02)
{
	uint64_t key[3];
	key_of(n, proc12, key);
	if (!map_cache_reusable(&n->maps, key))
		rebuild(v, n, key);
	/* VMCS02 always uses the MSR bitmap; I/O: L1's bitmaps merged, L1's unconditional
	 * exiting, or nestbed's ports alone */
	if (!(proc12 & VMX_PROC_USE_IO_BITMAPS) && (proc12 & VMX_PROC_UNCOND_IO_EXITING))
		*proc02 = (*proc02 & ~VMX_PROC_USE_IO_BITMAPS) | VMX_PROC_UNCOND_IO_EXITING;
	else
		*proc02 |= VMX_PROC_USE_IO_BITMAPS;
}

static void copy_byte(uint8_t *dst, const uint8_t *live, unsigned offset)
{
	dst[offset] = live ? __atomic_load_n(&live[offset], __ATOMIC_RELAXED) : 0xff;
}

/* Before the "does L1 want it" decision of an I/O or MSR exit: the bytes it reads, from
 * L1's bitmaps as they are now. */
void nvmx_maps_refresh(struct nvmx *n, const struct exit *e)
{
	if (e->kind == EXIT_IO) {
		for (unsigned p = e->u.io.port; p < (unsigned)e->u.io.port + e->u.io.size && p <= 0xffff; p++) {
			if (p < 0x8000)
				copy_byte(n->io_bitmaps12, n->io_a12_live, p / 8);
			else
				copy_byte(n->io_bitmaps12 + PAGE, n->io_b12_live, (p - 0x8000) / 8);
		}
	} else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE) {
		uint32_t msr = e->u.msr;
		unsigned high;
		if (msr < MSR_RANGE)
			high = 0;
		else if (msr - MSR_HIGH_BASE < MSR_RANGE)
			high = MSR_BITMAP_HIGH, msr -= MSR_HIGH_BASE;
		else
			return; /* outside the bitmap: always exits */
		copy_byte(n->msr_bitmap12, n->msr12_live, high + msr / 8);
		copy_byte(n->msr_bitmap12, n->msr12_live, MSR_BITMAP_WRITE + high + msr / 8);
	}
}

static bool own_bit(const uint8_t *bitmap, unsigned bit)
{
	return (bitmap[bit / 8] >> (bit % 8)) & 1;
}

/* An I/O or MSR exit L1 does not want: while the merged bitmaps are all ones (stale), one
 * nestbed's own bitmaps do not ask for either is the stale merge's: merged again now (the
 * write that made it stale has retired), and the instruction runs again (true). */
bool nvmx_maps_retry(struct vcpu *v, struct nvmx *n, const struct exit *e)
{
	if (!n->maps.filled)
		return false;
	const struct vmx_vcpu *vv = n->vv01;
	if (e->kind == EXIT_IO) {
		if (e->u.io.string)
			return false; /* the same rules; kept to the simple case */
		for (unsigned p = e->u.io.port; p < (unsigned)e->u.io.port + e->u.io.size; p++) {
			if (p > 0xffff)
				return false;
			const uint8_t *own = phys_to_virt(p < 0x8000 ? vv->io_bitmap_a_pa : vv->io_bitmap_b_pa);
			if (own_bit(own, p & 0x7fff))
				return false;
		}
	} else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE) {
		uint32_t msr = e->u.msr;
		unsigned base = e->kind == EXIT_MSR_WRITE ? MSR_BITMAP_WRITE * 8 : 0;
		if (msr < MSR_RANGE)
			;
		else if (msr - MSR_HIGH_BASE < MSR_RANGE)
			base += MSR_BITMAP_HIGH * 8, msr -= MSR_HIGH_BASE;
		else
			return false;
		if (own_bit(phys_to_virt(vv->msr_bitmap_pa), base + msr))
			return false;
	} else {
		return false;
	}
	uint64_t key[3];
	uint32_t proc12 = (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS);
	key_of(n, proc12, key);
	rebuild(v, n, key);
	return true;
}

bool nvmx_maps_tracked_write(struct vcpu *v, uint64_t l1_gpa)
{
	return map_track_write_fault(v, &vendor, l1_gpa);
}

/* A write fault in L1's own EPT: a tracked page's, or a spurious one
 * (map_track_l1_write_fault). */
bool nvmx_maps_write_fault(struct vcpu *v, uint64_t l1_gpa)
{
	return map_track_l1_write_fault(v, &vendor, l1_gpa);
}

void nvmx_maps_before_entry(struct vcpu *v)
{
	struct nvmx *n = v->nested_state;
	if (__atomic_load_n(&n->tdp_sync, __ATOMIC_ACQUIRE)) {
		/* L1's EPT changed: the CPU's cached translations and L2's shadow EPT go */
		__atomic_store_n(&n->tdp_sync, 0, __ATOMIC_RELEASE);
		flush_now(v);
		if (n->shadow.root) {
			uint64_t eptp12 = n->shadow_eptp12;
			nvmx_shadow_drop(n);
			if (n->in_l2 && nvmx_ept12(n)) {
				if (nvmx_shadow_ensure(n))
					fatal("nested-vmx: out of memory for the shadow EPT");
				n->shadow_eptp12 = eptp12;
				vmcs_write(VMCS_EPT_POINTER, nvmx_shadow_eptp(n)); /* VMCS02 is current */
			}
		}
	}
	if (n->in_l2 && !n->maps.filled && __atomic_load_n(&n->maps.stale, __ATOMIC_ACQUIRE))
		fill_all(n); /* every I/O and MSR access of L2 exits until the merge */
}
