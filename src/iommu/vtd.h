/* Programs one Intel VT-d remapping unit: root and context tables that send every
 * bus/device/function through one second-level table, invalidation, translation on. */
#ifndef NESTBED_VTD_H
#define NESTBED_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The domain every device is in. Not 0: with CAP.CM set, domain 0 is reserved (10.4.2). */
#define VTD_DOMAIN 1

/* Pure: the second-level table depth for a unit with capability cap, given the highest
 * address the table must reach: 4 (48-bit) when SAGAW offers it, else 3 (39-bit) when
 * offered and enough, else 0. */
unsigned vtd_levels(uint64_t cap, uint64_t must_reach);

/* Pure: the root entry for bus b (all share one context table) and the context entry
 * (lo, hi) for a device whose second-level table starts at slpt with `levels` levels. */
void vtd_context_entry(uint64_t slpt, unsigned levels, uint64_t out[2]);

/* The root table and the context table it points at for every bus, in fresh frames:
 * the root table's physical address or 0. */
uint64_t vtd_build_root(uint64_t slpt, unsigned levels);

/* Sets the unit's root table, invalidates its context cache and IOTLB (register-based:
 * queued invalidation is switched off if the firmware left it on) and enables
 * translation. 0, or -1 with a one-line reason in err. */
int vtd_enable(uint64_t reg_base, uint64_t root, char *err, size_t errlen);

/* A DMA request the unit blocked, from its first valid fault recording register. */
struct vtd_fault {
	uint64_t address;     /* the page */
	uint16_t source;      /* PCI requester ID: bus << 8 | dev << 3 | fn */
	uint8_t reason;       /* VT-d 7.1.3 fault reason */
	bool read;
};

/* Pure: decodes one fault recording register (lo, hi); false when F is clear. */
bool vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *out);

/* How many faults the unit has recorded (its valid fault recording registers), and the
 * first of them in *first. Reads the unit's registers. */
unsigned vtd_faults(uint64_t reg_base, struct vtd_fault *first);

#endif
