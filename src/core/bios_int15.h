/* The BIOS memory-size services of INT 15h (E820h, E801h, 88h), answered from the guest's
 * memory map, and the real-mode stub that hooks the vector and asks nestbed for them.
 * Pure: also compiled for the host tests.
 *
 * A guest that asks the BIOS for the memory map in real mode (Xen does by default) must
 * hear what the Multiboot map says: nestbed's ranges reserved. nestbed takes a few KiB
 * of conventional memory the way memdisk does (it lowers the BIOS data area's base-memory
 * size and keeps the stub above the new top, reserved in the guest's map), points
 * IVT[15h] at the stub and keeps the old vector to chain to.
 *
 * The stub's register contract with nestbed (its hypercall, VMMCALL or VMCALL, only
 * answered in real mode at the stub's own hypercall instruction): the caller's EAX, EBX,
 * ECX, EDX as the BIOS interface defines them, and ESI = ES * 16 + DI, the linear (=
 * physical) address of the caller's buffer. nestbed returns EAX, EBX, ECX and the carry
 * flag in RFLAGS; the stub copies CF into the FLAGS image the INT pushed and IRETs, with
 * every other register as the caller left it. */
#ifndef NESTBED_BIOS_INT15_H
#define NESTBED_BIOS_INT15_H

#include <stdbool.h>
#include <stdint.h>

#include "core/boot_info.h"

/* ACPI 6.4, 15.1 "INT 15H, E820H - Query System Address Map". */
#define BIOS_E820_FUNCTION 0x0000E820u /* EAX */
#define BIOS_E820_SMAP 0x534D4150u     /* 'SMAP' in EDX on entry, EAX on return */
#define BIOS_E820_ENTRY_SIZE 20u       /* base, length, type */
#define BIOS_E820_ENTRY_SIZE_ACPI3 24u /* + extended attributes (ACPI 3.0) */
#define BIOS_E820_ATTR_ENABLED 1u      /* extended attribute bit 0: the entry counts */
/* INT 15h AX=E801h (Phoenix BIOS 4.0): AX = CX = KiB between 1 and 16 MiB (at most
 * 15 MiB), BX = DX = 64 KiB blocks above 16 MiB. AH=88h: AX = KiB above 1 MiB; SeaBIOS
 * caps it at 63 MiB as most real BIOSes do (RBIL lists 15 MiB for the oldest). */
#define BIOS_E801_FUNCTION 0xE801u
#define BIOS_88_FUNCTION 0x88u
#define BIOS_88_MAX_KIB (63u * 1024u)
/* AH on failure with CF set: "function not supported" (RBIL INT 15h status 86h). */
#define BIOS_STATUS_UNSUPPORTED 0x86u

/* The BIOS data area's base-memory size: word at 0040h:0013h, KiB (RBIL MEM 0040h:0013h). */
#define BDA_BASE_MEMORY_KIB 0x413u
#define IVT_INT15 (0x15u * 4u) /* real-mode IVT: offset, then segment */

enum bios_int15_function {
	BIOS_INT15_OTHER = 0, /* chained to the old vector */
	BIOS_INT15_E820,
	BIOS_INT15_E801,
	BIOS_INT15_88,
};

/* Which service the stub asks for these registers (the same tests the stub makes). */
enum bios_int15_function bios_int15_function_of(uint32_t eax);

struct bios_int15_regs {
	uint32_t eax, ebx, ecx, edx;
	uint32_t buffer; /* ESI from the stub: ES * 16 + DI */
	bool cf;         /* out: the carry flag */
};

/* One E820 entry as the caller's buffer receives it (20 or 24 bytes of it). */
struct bios_e820_entry {
	uint64_t base, length;
	uint32_t type, attributes;
} __attribute__((packed));

/* The E820 type nestbed reports for a guest-map range (its own ranges: reserved). */
uint32_t bios_e820_type(uint32_t mem_type);

/* Answers one call from the guest's map (sorted, as guest_memmap_build leaves it):
 * updates *r and, for E820, fills *entry and returns how many bytes of it go to
 * r->buffer (20 or 24); 0 when nothing is to be written. An error is CF set with AH =
 * 86h (bad signature, buffer under 20 bytes, continuation past the end). */
uint32_t bios_int15_answer(const struct mem_range *ranges, uint32_t count,
			   struct bios_int15_regs *r, struct bios_e820_entry *entry);

/* Where the stub goes: conventional memory ends at base_kib KiB by the BDA and at
 * usable_top by the memory map (the end of the usable memory from 0; Bochs' BIOS says
 * 639 KiB in the BDA and reserves from 0x9f000 in E820), whichever is lower: the top.
 * The stub takes the pages from the 4 KiB boundary at or below (top - stub_size) to the
 * top. Fills the new base-memory size, the stub's base and the top; -1 when that would
 * leave less than 64 KiB or base_kib is no BIOS's value (over 640). */
int bios_int15_place(uint16_t base_kib, uint64_t usable_top, uint32_t stub_size,
		     uint64_t *stub_base, uint64_t *top, uint16_t *new_base_kib);

/* The stub: real-mode code run at segment stub_base / 16, offset 0. */
#define BIOS_INT15_STUB_OLD_VECTOR 2u /* dword: the old IVT[15h] (offset, segment) */
#define BIOS_INT15_HYPERCALL_LEN 3u
#define BIOS_INT15_VMMCALL { 0x0F, 0x01, 0xD9 } /* APM vol.3 VMMCALL */
#define BIOS_INT15_VMCALL  { 0x0F, 0x01, 0xC1 } /* SDM vol.2 VMCALL */
extern const uint8_t bios_int15_stub[];
extern const uint32_t bios_int15_stub_size;
extern const uint32_t bios_int15_stub_hypercall; /* offset of the 3-byte hypercall */

/* The stub with the old vector and the vendor's hypercall written in; out holds
 * bios_int15_stub_size bytes. */
void bios_int15_stub_build(uint8_t *out, uint32_t old_vector, bool svm);

#endif
