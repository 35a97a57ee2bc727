#include "core/guest_mem.h"

#include "core/console.h"
#include "core/guest_walk.h"
#include "core/insn_decode.h"
#include "core/machine.h"
#include "core/memmap.h"
#include "core/string.h"

#define RFLAGS_VM (1ull << 17)

static int guest_range_ok(uint64_t gpa, size_t len)
{
	const struct guest_memmap *g = &machine.guest_map;
	if (gpa + len < gpa)
		return 0;
	/* Anything nestbed owns is off limits; MMIO and firmware ranges are the guest's. */
	for (uint32_t i = 0; i < g->nr_ranges; i++)
		if (g->ranges[i].type == MEM_NESTBED && gpa < g->ranges[i].base + g->ranges[i].length &&
		    g->ranges[i].base < gpa + len)
			return 0;
	return 1;
}

int guest_phys_read(uint64_t gpa, void *buf, size_t len)
{
	if (!guest_range_ok(gpa, len))
		return -1;
	memcpy(buf, phys_to_virt(gpa), len);
	return 0;
}

int guest_phys_write(uint64_t gpa, const void *buf, size_t len)
{
	if (!guest_range_ok(gpa, len))
		return -1;
	memcpy(phys_to_virt(gpa), buf, len);
	return 0;
}

static int read_phys64(void *ctx, uint64_t gpa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(gpa, value, sizeof(*value));
}

size_t guest_linear_read(const struct vcpu *v, uint64_t linear, void *buf, size_t len)
{
	const struct vcpu_state *s = &v->state;
	struct guest_walk_ctx ctx = { s->cr0, s->cr3, s->cr4, s->efer, read_phys64, NULL };
	size_t done = 0;
	while (done < len) {
		uint64_t gpa, page_end;
		if (guest_walk(&ctx, linear + done, &gpa, &page_end) != WALK_OK)
			break;
		size_t chunk = len - done;
		if (page_end - (linear + done) < chunk)
			chunk = (size_t)(page_end - (linear + done));
		if (guest_phys_read(gpa, (uint8_t *)buf + done, chunk))
			break;
		done += chunk;
	}
	return done;
}

unsigned guest_insn_length(const struct vcpu *v)
{
	const struct vcpu_state *s = &v->state;
	uint8_t bytes[INSN_MAX_LENGTH];
	size_t got = guest_linear_read(v, s->cs_base + s->rip, bytes, sizeof(bytes));
	enum insn_mode mode = insn_mode_of(s->cr0 & CR0_PE, s->rflags & RFLAGS_VM,
					   s->efer & WALK_EFER_LMA, s->cs_long, s->cs_db);
	struct insn insn;
	int rc = insn_decode(bytes, got, mode,
			     machine.caps.vendor == CPU_VENDOR_AMD ? INSN_VENDOR_AMD : INSN_VENDOR_INTEL,
			     &insn);
	if (rc) {
		kprintf("nestbed: cannot decode the guest instruction at %#llx (%zu bytes readable): %s\n",
			(unsigned long long)(s->cs_base + s->rip), got, insn_error_name(rc));
		return 0;
	}
	return insn.length;
}
