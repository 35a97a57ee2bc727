/* Reading and writing guest memory from L0. The primary guest's physical addresses are
 * host physical addresses (identity NPT/EPT) except nestbed's own memory, which no
 * guest address reaches. */
#ifndef NESTBED_GUEST_MEM_H
#define NESTBED_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/insn_decode.h"
#include "core/vcpu.h"

/* Does any byte of [pa, pa + len) belong to nestbed (its image or heap)? A nested layer
 * asks before it maps an L2 page where L1's tables point. */
bool nestbed_owns_range(uint64_t pa, uint64_t len);

/* Does [gpa, gpa + len) lie in one usable RAM range of the guest's memory map (not
 * nestbed's, not MMIO, not firmware)? */
bool guest_ram_range(uint64_t gpa, uint64_t len);

/* 0, or -1 if any byte lies outside guest memory. */
int guest_phys_read(uint64_t gpa, void *buf, size_t len);
int guest_phys_write(uint64_t gpa, const void *buf, size_t len);

/* Guest-physical access as the vCPU's current level sees memory (L2: through L1's
 * nested page tables); 0, or -1 if any byte is unreachable. */
int vcpu_phys_read(const struct vcpu *v, uint64_t gpa, void *buf, size_t len);
int vcpu_phys_write(const struct vcpu *v, uint64_t gpa, const void *buf, size_t len);

/* The host address of [gpa, gpa + len) as the vCPU's level sees memory, when the range
 * lies in one page that vcpu_phys_read/write would accept; NULL otherwise (nothing
 * reachable there). For structures read or written field by field in place (a VMCB's
 * VMLOAD/VMSAVE state); valid while the vCPU is in nestbed. */
void *vcpu_phys_ptr(const struct vcpu *v, uint64_t gpa, size_t len);

/* Reads through the guest's own paging; returns the number of bytes read (stops at
 * the first page that is not present or not guest memory). */
size_t guest_linear_read(const struct vcpu *v, uint64_t linear, void *buf, size_t len);

/* Writes for the guest as its own code at CPL 0 would (nestbed's hypercalls): through
 * its paging, each page present and writable for a supervisor write (CR0.WP honoured;
 * SMAP not modelled), canonical, and guest RAM (a usable range of its memory map, not
 * its APIC's register page). All or nothing: 0, or -1 and nothing written. Accessed and
 * dirty bits are not set. For the primary guest (L1) only. */
int guest_linear_write_supervisor(const struct vcpu *v, uint64_t linear, const void *buf, size_t len);

/* Decodes the instruction at the guest's CS:RIP: 0, or -1 with a reason printed. */
int guest_insn_decode(const struct vcpu *v, struct insn *insn);

/* The length of the instruction at the guest's CS:RIP, or 0 with a reason printed. */
unsigned guest_insn_length(const struct vcpu *v);

#endif
