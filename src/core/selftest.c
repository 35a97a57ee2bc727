/* L0 self-tests: the ground services checked on the real (emulated) machine, printed
 * as TAP 13 (`nestbed.elf selftest`). */
#include "core/console.h"
#include "core/cpu.h"
#include "core/exception.h"
#include "core/format.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/paging.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/vmm.h"
#include "core/x86.h"

#define SELFTEST_ALLOC_FRAMES 3

extern char selftest_ud_site[], selftest_ud_resume[];
extern char selftest_read_site[], selftest_read_resume[];
void selftest_trigger_ud(void);
uint64_t selftest_trigger_read(uint64_t address);

struct tap {
	int number;
	int failed;
};

static void tap_result(struct tap *t, bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void tap_result(struct tap *t, bool ok, const char *name, const char *fmt, ...)
{
	char why[200] = "";
	va_list ap;
	va_start(ap, fmt);
	format_buf_v(why, sizeof(why), fmt, ap);
	va_end(ap);
	t->number++;
	if (!ok)
		t->failed++;
	kprintf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", t->number, name, why[0] ? " # " : "", why);
}

static void tap_skip(struct tap *t, const char *name, const char *why)
{
	t->number++;
	kprintf("ok %d - %s # SKIP %s\n", t->number, name, why);
}

static void test_memory_map(struct tap *t, const struct boot_info *bi)
{
	uint64_t usable = 0;
	bool sorted = true;
	for (uint32_t i = 0; i < bi->nr_ranges; i++) {
		if (bi->ranges[i].type == MEM_USABLE)
			usable += bi->ranges[i].length;
		if (i && bi->ranges[i].base < bi->ranges[i - 1].base + bi->ranges[i - 1].length)
			sorted = false;
	}
	tap_result(t, bi->nr_ranges > 0 && sorted && usable >= (16ull << 20), "selftest/memory-map",
		   "ranges=%u sorted=%d usable=%llu KiB", bi->nr_ranges, sorted,
		   (unsigned long long)(usable / 1024));
}

static void test_own_region(struct tap *t, const struct machine *m)
{
	const struct boot_info *bi = m->bi;
	const struct guest_memmap *g = &m->guest_map;
	bool heap_in_ram = memmap_is_usable(bi->ranges, bi->nr_ranges, bi->heap_phys, bi->heap_size);
	bool heap_hidden = !memmap_is_usable(g->ranges, g->nr_ranges, bi->heap_phys, FRAME_SIZE) &&
			   !memmap_is_usable(g->ranges, g->nr_ranges,
					     bi->heap_phys + bi->heap_size - FRAME_SIZE, FRAME_SIZE);
	bool image_hidden = !memmap_is_usable(g->ranges, g->nr_ranges, bi->image_phys & ~0xfffull,
					      FRAME_SIZE);
	bool high = bi->path == BOOT_PATH_UEFI || bi->image_phys >= (64ull << 20) ||
		    bi->image_phys >= memmap_top(bi->ranges, bi->nr_ranges, MEM_USABLE) / 2;
	tap_result(t, heap_in_ram && heap_hidden && image_hidden && high, "selftest/own-region",
		   "image=%#llx heap=%#llx+%#llx in_ram=%d hidden_from_guest=%d/%d high=%d",
		   (unsigned long long)bi->image_phys, (unsigned long long)bi->heap_phys,
		   (unsigned long long)bi->heap_size, heap_in_ram, heap_hidden, image_hidden, high);
}

static void test_frame_alloc(struct tap *t, const struct boot_info *bi)
{
	uint64_t f[SELFTEST_ALLOC_FRAMES];
	bool ok = true;
	uint64_t free_before = nestbed_frames.nr_free;
	for (int i = 0; i < SELFTEST_ALLOC_FRAMES; i++) {
		f[i] = alloc_frames_zeroed(1, FRAME_SIZE);
		ok &= f[i] >= bi->heap_phys && f[i] + FRAME_SIZE <= bi->heap_phys + bi->heap_size;
		ok &= !(f[i] & (FRAME_SIZE - 1));
		for (int k = 0; k < i; k++)
			ok &= f[k] != f[i];
		const uint64_t *p = phys_to_virt(f[i]);
		for (int k = 0; k < 512; k++)
			ok &= p[k] == 0;
	}
	uint64_t big = frame_alloc_range(&nestbed_frames, 512, 2ull << 20);
	ok &= big && !(big & ((2ull << 20) - 1));
	if (big)
		frame_free_range(&nestbed_frames, big, 512);
	for (int i = 0; i < SELFTEST_ALLOC_FRAMES; i++)
		frame_free_range(&nestbed_frames, f[i], 1);
	ok &= nestbed_frames.nr_free == free_before;
	tap_result(t, ok, "selftest/frame-alloc", "frames %#llx %#llx %#llx, 2M block %#llx, free %llu",
		   (unsigned long long)f[0], (unsigned long long)f[1], (unsigned long long)f[2],
		   (unsigned long long)big, (unsigned long long)nestbed_frames.nr_free);
}

static void test_page_tables(struct tap *t, const struct boot_info *bi)
{
	struct paging live = { .fa = &nestbed_frames, .frame_ptr = identity_frame_ptr,
			       .root = read_cr3() & PTE_ADDR_MASK };
	uint64_t code_virt = (uint64_t)(uintptr_t)&test_page_tables, code_phys = 0;
	uint64_t heap_phys = 0, size = 0;
	bool code_ok = !paging_translate(&live, code_virt, &code_phys, &size) &&
		       code_phys == code_virt - bi->image_virt + bi->image_phys;
	bool heap_ok = !paging_translate(&live, bi->heap_phys, &heap_phys, &size) &&
		       heap_phys == bi->heap_phys;
	tap_result(t, code_ok && heap_ok, "selftest/page-tables",
		   "code %#llx -> %#llx (want %#llx), heap identity %d",
		   (unsigned long long)code_virt, (unsigned long long)code_phys,
		   (unsigned long long)(code_virt - bi->image_virt + bi->image_phys), heap_ok);
}

/* memmove in both directions over overlapping ranges, every length 0..40 and offsets
 * 0..9 (the backward copy goes 8 bytes at a time after its odd tail), against a byte loop. */
static void test_memmove(struct tap *t)
{
	uint64_t pa = alloc_frames_zeroed(2, FRAME_SIZE);
	if (!pa) {
		tap_result(t, false, "selftest/memmove", "no frames");
		return;
	}
	uint8_t *buf = phys_to_virt(pa), *ref = buf + FRAME_SIZE;
	bool ok = true;
	unsigned bad_len = 0, bad_shift = 0;
	for (unsigned len = 0; len <= 40 && ok; len++) {
		for (unsigned shift = 0; shift <= 9 && ok; shift++) {
			for (int dir = 0; dir < 2 && ok; dir++) {
				for (unsigned i = 0; i < 64; i++)
					buf[i] = ref[i] = (uint8_t)(i * 7 + 1);
				unsigned from = dir ? 8 : 8 + shift, to = dir ? 8 + shift : 8;
				memmove(buf + to, buf + from, len);
				uint8_t tmp[64];
				for (unsigned i = 0; i < len; i++)
					tmp[i] = ref[from + i];
				for (unsigned i = 0; i < len; i++)
					ref[to + i] = tmp[i];
				for (unsigned i = 0; i < 64; i++)
					if (buf[i] != ref[i])
						ok = false, bad_len = len, bad_shift = shift;
			}
		}
	}
	frame_free_range(&nestbed_frames, pa, 2);
	tap_result(t, ok, "selftest/memmove", ok ? "lengths 0-40, overlaps 0-9, both directions" :
		   "wrong bytes after a move of %u bytes by %u", bad_len, bad_shift);
}

static void test_exception_ud(struct tap *t)
{
	struct exception_record r = { 0 };
	exception_expect(VECTOR_UD, (uint64_t)(uintptr_t)selftest_ud_resume);
	selftest_trigger_ud();
	bool hit = exception_take(&r);
	tap_result(t, hit && r.vector == VECTOR_UD && r.rip == (uint64_t)(uintptr_t)selftest_ud_site,
		   "selftest/exception-ud", "hit=%d vector=%llu rip=%#llx want %#llx", hit,
		   (unsigned long long)r.vector, (unsigned long long)r.rip,
		   (unsigned long long)(uintptr_t)selftest_ud_site);
}

/* A canonical address the current page tables do not map. */
static uint64_t find_unmapped_address(void)
{
	static const uint64_t candidates[] = { 0x00007f0000000000ull, 0x0000400000000000ull,
					       0xffff900000000000ull, 0xffffc00000000000ull };
	struct paging live = { .frame_ptr = identity_frame_ptr, .root = read_cr3() & PTE_ADDR_MASK };
	for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		uint64_t phys;
		if (paging_translate(&live, candidates[i], &phys, NULL))
			return candidates[i];
	}
	return 0;
}

static void test_exception_pf(struct tap *t)
{
	uint64_t addr = find_unmapped_address();
	if (!addr) {
		tap_skip(t, "selftest/exception-pf", "every candidate address is mapped");
		return;
	}
	struct exception_record r = { 0 };
	exception_expect(VECTOR_PF, (uint64_t)(uintptr_t)selftest_read_resume);
	selftest_trigger_read(addr);
	bool hit = exception_take(&r);
	/* error code 0: not present, read, supervisor (SDM vol.3 4.7) */
	tap_result(t, hit && r.vector == VECTOR_PF && r.error_code == 0 && r.cr2 == addr &&
			      r.rip == (uint64_t)(uintptr_t)selftest_read_site,
		   "selftest/exception-pf", "hit=%d vector=%llu error=%#llx cr2=%#llx (want %#llx) rip ok=%d",
		   hit, (unsigned long long)r.vector, (unsigned long long)r.error_code,
		   (unsigned long long)r.cr2, (unsigned long long)addr,
		   r.rip == (uint64_t)(uintptr_t)selftest_read_site);
}

static void test_cpu_detect(struct tap *t, const struct cpu_caps *c)
{
	bool ok = (c->vendor == CPU_VENDOR_INTEL && c->vmx) || (c->vendor == CPU_VENDOR_AMD && c->svm);
	if (ok && c->svm)
		ok = c->svm_caps.nasid > 0;
	if (ok && c->vmx)
		ok = (c->vmx_caps.basic & 0x7fffffff) != 0; /* VMCS revision id, SDM vol.3 A.1 */
	tap_result(t, ok, "selftest/cpu-detect", "vendor=%s vmx=%d svm=%d", c->vendor_string, c->vmx,
		   c->svm);
}

static void test_modules(struct tap *t, const struct boot_info *bi)
{
	if (!bi->nr_modules) {
		tap_skip(t, "selftest/modules", "no module given");
		return;
	}
	/* Multiboot: copied into the heap, but for a guest kernel loaded in place (above
	 * 1 MiB, in the guest's memory: main.c). UEFI: in pages the entry path allocated. */
	bool ok = true;
	uint32_t in_place = 0;
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (m->in_place) {
			in_place++;
			ok &= i == 0 && !bi->firmware_active && m->phys >= LOW_1M &&
			      (m->phys + m->size <= bi->image_phys || m->phys >= bi->heap_phys + bi->heap_size);
			continue;
		}
		ok &= bi->firmware_active ? m->phys != 0 :
			m->phys >= bi->heap_phys && m->phys + m->size <= bi->heap_phys + bi->heap_size;
	}
	tap_result(t, ok, "selftest/modules", "%u module(s) in nestbed's memory, %u loaded in place",
		   bi->nr_modules - in_place, in_place);
}

static struct tap *backend_tap;

static void backend_result(bool ok, const char *why)
{
	tap_result(backend_tap, ok, "selftest/vm-entry-refused", "%s", why);
}

/* The backend's own check (VMX: a VMCS with an invalid control is refused with its
 * VM-instruction error), if it has one. */
static void test_backend(struct tap *t, struct machine *m)
{
	const struct vmm_ops *ops = vmm_select(m);
	if (!ops || !ops->selftest) {
		tap_skip(t, "selftest/vm-entry-refused",
			 ops ? "the backend has no self-test" : "no usable VT-x or AMD-V backend");
		return;
	}
	backend_tap = t;
	int before = t->number;
	ops->selftest(m, backend_result);
	if (t->number != before + 1)
		tap_result(t, false, "selftest/vm-entry-refused", "the backend reported %d results, not 1",
			   t->number - before);
}

_Noreturn void selftest_run(struct machine *m)
{
	struct tap t = { 0 };
	uint8_t saved_idt[10];
	kprintf("TAP version 13\n1..10\n");
	test_memory_map(&t, m->bi);
	test_own_region(&t, m);
	test_frame_alloc(&t, m->bi);
	test_page_tables(&t, m->bi);
	test_memmove(&t);
	/* While firmware runs, nestbed's IDT is borrowed with interrupts off, then given back. */
	uint64_t flags = read_rflags();
	__asm__ volatile("cli");
	if (m->bi->firmware_active)
		idt_swap_in(saved_idt);
	test_exception_ud(&t);
	test_exception_pf(&t);
	if (m->bi->firmware_active)
		idt_restore(saved_idt);
	if (flags & (1u << 9))
		__asm__ volatile("sti");
	test_cpu_detect(&t, &m->caps);
	test_modules(&t, m->bi);
	test_backend(&t, m);
	kprintf("# selftest: %d passed, %d failed\n", t.number - t.failed, t.failed);
	platform_exit(t.failed ? EXIT_CODE_FAILURES : EXIT_CODE_OK);
}
