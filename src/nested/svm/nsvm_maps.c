/* Nested AMD-V permission maps (nested/map_track.h): VMCB02's IOPM and MSRPM are L1's
 * (VMCB12's) ORed with nestbed's own few bits, rebuilt only when L1 names other maps or
 * writes one (its pages are write-protected in L1's NPT meanwhile). The IOPM is consulted
 * at each IN/OUT and the MSRPM at each RDMSR/WRMSR (APM vol.2 15.10.1, 15.11): a write L1
 * makes while L2 runs takes effect at L2's next access. */
#include "nested/svm/nsvm.h"

#include "core/apic_emulation.h"
#include "core/console.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/run.h"
#include "core/string.h"
#include "nested/map_track_machine.h"
#include "nested/svm/nsvm_reflect.h"
#include "nested/svm/vmcb12_clean.h"
#include "core/x86.h"
#include "nested/map_track.h"
#include "svm/vmcb.h"

static struct map_cache *cache_of(struct vcpu *w)
{
	return &((struct nsvm *)w->nested_state)->maps;
}

/* nestbed's NPT for w's L1 (svm_npt.c) */
static bool l1_table(struct vcpu *w, struct tdp *t)
{
	const struct svm_vcpu *sv = w->backend;
	if (!sv || !w->nested_state || !sv->npt_root)
		return false;
	struct paging npt = { .fa = &nestbed_frames, .frame_ptr = identity_frame_ptr, .root = sv->npt_root };
	*t = paging_as_tdp(&npt);
	return true;
}

static volatile uint32_t *tdp_sync(struct vcpu *w)
{
	return &((struct nsvm *)w->nested_state)->tdp_sync;
}

static void flush_now(struct vcpu *v)
{
	struct nsvm *n = v->nested_state;
	n->vmcb01->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	if (n->in_l2)
		n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
}

static void kick(struct vcpu *w)
{
	apic_kick(w->cpu);
}

static const struct map_track_vendor vendor = { .name = "nested-svm", .cache = cache_of, .l1_table = l1_table,
						.tdp_sync = tdp_sync, .flush_now = flush_now, .kick = kick };

int nsvm_maps_init(struct machine *m, struct vcpu *v)
{
	struct nsvm *n = v->nested_state;
	const struct svm_vcpu *sv = v->backend;
	int io = map_words_collect((const uint64_t *)sv->iopm, IOPM_BYTES / 8, n->own_io, NSVM_OWN_WORDS);
	int msr = map_words_collect((const uint64_t *)sv->msrpm, MSRPM_BYTES / 8, n->own_msr, NSVM_OWN_WORDS);
	if (io < 0 || msr < 0) {
		kprintf("nestbed: nested-svm: nestbed's own I/O or MSR map has more than %u words\n",
			NSVM_OWN_WORDS);
		return -1;
	}
	n->nr_own_io = (unsigned)io;
	n->nr_own_msr = (unsigned)msr;
	return map_track_machine_init(m);
}

static void fill_all(struct nsvm *n)
{
	memset(n->iopm02, 0xff, IOPM_BYTES);
	memset(n->msrpm02, 0xff, MSRPM_BYTES);
	n->maps.filled = true;
}

/* VMCB02's maps from L1's current ones: 0, or -1 when a map L1 uses is not in its
 * memory. */
static int rebuild(struct vcpu *v, struct nsvm *n, const uint64_t key[3])
{
	uint64_t pages[MAP_CACHE_MAX_PAGES];
	unsigned nr = 0;
	if (key[0] != KEY_UNUSED)
		for (unsigned i = 0; i < SVM_IOPM_PAGES; i++)
			pages[nr++] = key[0] + i * 4096ull;
	if (key[1] != KEY_UNUSED)
		for (unsigned i = 0; i < SVM_MSRPM_PAGES; i++)
			pages[nr++] = key[1] + i * 4096ull;
	/* protected first, then read: a write after this point marks the merge stale */
	map_track_begin_rebuild(v, &vendor, pages, nr, key);
	n->l1_exits.iopm = n->l1_exits.msrpm = NULL;
	if (key[0] != KEY_UNUSED) {
		if (guest_phys_read(key[0], n->iopm02, IOPM_BYTES))
			goto unreadable;
		n->l1_exits.iopm = phys_to_virt(key[0]);
	} else {
		memset(n->iopm02, 0, IOPM_BYTES);
	}
	if (key[1] != KEY_UNUSED) {
		if (guest_phys_read(key[1], n->msrpm02, MSRPM_BYTES))
			goto unreadable;
		n->l1_exits.msrpm = phys_to_virt(key[1]);
	} else {
		memset(n->msrpm02, 0, MSRPM_BYTES);
	}
	/* nestbed's own intercepts always hold: its few words, not a loop over 20 KiB */
	map_words_or((uint64_t *)n->iopm02, n->own_io, n->nr_own_io);
	map_words_or((uint64_t *)n->msrpm02, n->own_msr, n->nr_own_msr);
	return 0;
unreadable:
	map_track_forget(v, &vendor);
	n->l1_exits.iopm = n->l1_exits.msrpm = NULL;
	fill_all(n);
	return -1;
}

static void key_of(const struct nsvm *n, uint64_t key[3])
{
	const struct vmcb_control *c = &n->vmcb12.control;
	key[0] = (c->intercept_misc1 & SVM_INTERCEPT_IOIO) ? c->iopm_base_pa & ~PAGE_MASK : KEY_UNUSED;
	key[1] = (c->intercept_misc1 & SVM_INTERCEPT_MSR) ? c->msrpm_base_pa & ~PAGE_MASK : KEY_UNUSED;
	key[2] = 0;
}

int nsvm_maps_for_vmrun(struct vcpu *v, struct nsvm *n)
{
	/* L1 kept the intercepts and the map addresses clean: they are the last successful
	 * VMRUN's (vmcb12_clean.h), for which this function (or nsvm_maps_retry since) made
	 * the cache match them, so its key is theirs; only a write to a map matters. */
	const uint32_t same_key = VMCB_CLEAN_I | VMCB_CLEAN_IOPM;
	if ((n->clean_keep & same_key) == same_key && n->maps.valid && !n->maps.filled &&
	    !__atomic_load_n(&n->maps.stale, __ATOMIC_ACQUIRE))
		return 0;
	uint64_t key[3];
	key_of(n, key);
	if (map_cache_reusable(&n->maps, key))
		return 0; /* nothing to copy or merge */
	return rebuild(v, n, key);
}

/* Bit `bit` of an L1 map where it lives (read at the exit, so always L1's current
 * value). */
/* An I/O or MSR exit of L2 that L1 does not want: while the merged maps are all ones
 * (stale), one nestbed's own map does not ask for either is the stale merge's: rebuilt
 * now (the write that made it stale has retired), and the instruction runs again. */
bool nsvm_maps_retry(struct vcpu *v, struct nsvm *n, const struct exit *e)
{
	if (!n->maps.filled)
		return false;
	const struct svm_vcpu *sv = v->backend;
	if (e->kind == EXIT_IO) {
		for (unsigned p = e->u.io.port; p < (unsigned)e->u.io.port + e->u.io.size; p++)
			if ((sv->iopm[(p & 0xffff) / 8] >> (p % 8)) & 1)
				return false;
	} else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE) {
		int64_t bit = nsvm_msrpm_bit(e->u.msr, e->kind == EXIT_MSR_WRITE);
		if (bit < 0 || ((sv->msrpm[bit / 8] >> (bit % 8)) & 1))
			return false;
	} else {
		return false;
	}
	uint64_t key[3];
	key_of(n, key);
	if (rebuild(v, n, key))
		guest_failure(v, "nested: L1's permission maps left its memory while L2 ran");
	return true;
}

/* A write to a tracked page (either level): stale merges, the page writable again. */
bool nsvm_maps_tracked_write(struct vcpu *v, uint64_t l1_gpa)
{
	return map_track_write_fault(v, &vendor, l1_gpa);
}

/* A write fault in L1's own NPT (L1, or an L2 on L1's NPT): a tracked page's, or a
 * spurious one (map_track_l1_write_fault). */
bool nsvm_maps_write_fault(struct vcpu *v, uint64_t l1_gpa)
{
	return map_track_l1_write_fault(v, &vendor, l1_gpa);
}

void nsvm_maps_before_entry(struct vcpu *v)
{
	struct nsvm *n = v->nested_state;
	if (__atomic_load_n(&n->tdp_sync, __ATOMIC_ACQUIRE)) {
		/* L1's NPT changed: drop what the TLB and L2's shadow table hold of it */
		__atomic_store_n(&n->tdp_sync, 0, __ATOMIC_RELEASE);
		n->vmcb01->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
		nsvm_shadow_flush(n);
	}
	if (n->in_l2 && !n->maps.filled && __atomic_load_n(&n->maps.stale, __ATOMIC_ACQUIRE))
		fill_all(n); /* every I/O and MSR access of L2 exits until the rebuild */
}
