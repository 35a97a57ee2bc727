#include "core/bios_int15.h"

#include "core/string.h"
#include "core/units.h"
#include "core/x86.h"

#define KIB 1024ull
#define E801_HIGH_START (16ull * MIB)
#define E801_BLOCK (64ull * KIB)
#define E801_LIMIT (4096ull * MIB) /* 16-bit count of 64 KiB blocks, below 4 GiB */
#define STUB_MIN_BASE (64ull * KIB)
#define BIOS_MAX_BASE_KIB 640u

/* The stub (nasm, bits 16, org 0), byte for byte; offsets on the left:
 *   00 EB 04              jmp short entry
 *   02 00 00 00 00        old_vector: dd 0          ; old IVT[15h], offset then segment
 *   06 66 3D 20 E8 00 00  entry: cmp eax, 0xE820    ; E820h wants all of EAX
 *   0C 74 0F              je ask
 *   0E 3D 01 E8           cmp ax, 0xE801
 *   11 74 0A              je ask
 *   13 80 FC 88           cmp ah, 0x88
 *   16 74 05              je ask
 *   18 2E FF 2E 02 00     jmp far [cs:old_vector]   ; everything else: the BIOS
 *   1D 66 56              ask: push esi
 *   1F 66 57              push edi
 *   21 66 0F B7 FF        movzx edi, di
 *   25 66 31 F6           xor esi, esi
 *   28 8C C6              mov si, es
 *   2A 66 C1 E6 04        shl esi, 4
 *   2E 66 01 FE           add esi, edi              ; ESI = ES * 16 + DI
 *   31 66 5F              pop edi
 *   33 0F 01 D9           hypercall: vmmcall        ; or vmcall (0F 01 C1)
 *   36 66 5E              pop esi
 *   38 55                 push bp
 *   39 89 E5              mov bp, sp                ; [bp+6]: the FLAGS the INT pushed
 *   3B 72 06              jc carry
 *   3D 80 66 06 FE        and byte [bp+6], 0xFE     ; CF = 0
 *   41 5D                 pop bp
 *   42 CF                 iret
 *   43 80 4E 06 01        carry: or byte [bp+6], 1  ; CF = 1
 *   47 5D                 pop bp
 *   48 CF                 iret */
const uint8_t bios_int15_stub[] = {
	0xeb, 0x04, 0x00, 0x00, 0x00, 0x00, 0x66, 0x3d, 0x20, 0xe8, 0x00, 0x00,
	0x74, 0x0f, 0x3d, 0x01, 0xe8, 0x74, 0x0a, 0x80, 0xfc, 0x88, 0x74, 0x05,
	0x2e, 0xff, 0x2e, 0x02, 0x00, 0x66, 0x56, 0x66, 0x57, 0x66, 0x0f, 0xb7,
	0xff, 0x66, 0x31, 0xf6, 0x8c, 0xc6, 0x66, 0xc1, 0xe6, 0x04, 0x66, 0x01,
	0xfe, 0x66, 0x5f, 0x0f, 0x01, 0xd9, 0x66, 0x5e, 0x55, 0x89, 0xe5, 0x72,
	0x06, 0x80, 0x66, 0x06, 0xfe, 0x5d, 0xcf, 0x80, 0x4e, 0x06, 0x01, 0x5d,
	0xcf,
};
const uint32_t bios_int15_stub_size = sizeof(bios_int15_stub);
const uint32_t bios_int15_stub_hypercall = 0x33;

void bios_int15_stub_build(uint8_t *out, uint32_t old_vector, bool svm)
{
	static const uint8_t vmmcall[] = BIOS_INT15_VMMCALL, vmcall[] = BIOS_INT15_VMCALL;
	memcpy(out, bios_int15_stub, sizeof(bios_int15_stub));
	memcpy(out + BIOS_INT15_STUB_OLD_VECTOR, &old_vector, sizeof(old_vector));
	memcpy(out + bios_int15_stub_hypercall, svm ? vmmcall : vmcall, BIOS_INT15_HYPERCALL_LEN);
}

enum bios_int15_function bios_int15_function_of(uint32_t eax)
{
	if (eax == BIOS_E820_FUNCTION)
		return BIOS_INT15_E820;
	if ((eax & 0xffffu) == BIOS_E801_FUNCTION)
		return BIOS_INT15_E801;
	if (((eax >> 8) & 0xffu) == BIOS_88_FUNCTION)
		return BIOS_INT15_88;
	return BIOS_INT15_OTHER;
}

uint32_t bios_e820_type(uint32_t mem_type)
{
	return mem_type == MEM_NESTBED ? MEM_RESERVED : mem_type;
}

static void fail(struct bios_int15_regs *r)
{
	r->eax = (r->eax & 0xffff00ffu) | (BIOS_STATUS_UNSUPPORTED << 8);
	r->cf = true;
}

/* The end of the usable memory that runs on from 1 MiB without a gap (1 MiB if none). */
static uint64_t usable_end_from_1m(const struct mem_range *ranges, uint32_t count)
{
	uint64_t end = LOW_1M;
	for (bool grew = true; grew;) {
		grew = false;
		for (uint32_t i = 0; i < count; i++) {
			const struct mem_range *m = &ranges[i];
			if (m->type == MEM_USABLE && m->base <= end && m->base + m->length > end) {
				end = m->base + m->length;
				grew = true;
			}
		}
	}
	return end;
}

uint32_t bios_int15_answer(const struct mem_range *ranges, uint32_t count,
			   struct bios_int15_regs *r, struct bios_e820_entry *entry)
{
	r->cf = false;
	switch (bios_int15_function_of(r->eax)) {
	case BIOS_INT15_E820: {
		if (r->edx != BIOS_E820_SMAP || r->ecx < BIOS_E820_ENTRY_SIZE || r->ebx >= count) {
			fail(r);
			return 0;
		}
		const struct mem_range *m = &ranges[r->ebx];
		memset(entry, 0, sizeof(*entry));
		entry->base = m->base;
		entry->length = m->length;
		entry->type = bios_e820_type(m->type);
		entry->attributes = BIOS_E820_ATTR_ENABLED;
		uint32_t size = r->ecx >= BIOS_E820_ENTRY_SIZE_ACPI3 ? BIOS_E820_ENTRY_SIZE_ACPI3
								      : BIOS_E820_ENTRY_SIZE;
		r->eax = BIOS_E820_SMAP;
		r->ecx = size;
		r->ebx = r->ebx + 1 < count ? r->ebx + 1 : 0;
		return size;
	}
	case BIOS_INT15_E801: {
		uint64_t end = usable_end_from_1m(ranges, count);
		if (end > E801_LIMIT)
			end = E801_LIMIT;
		uint64_t low = (end < E801_HIGH_START ? end : E801_HIGH_START) - LOW_1M;
		uint64_t high = end > E801_HIGH_START ? (end - E801_HIGH_START) / E801_BLOCK : 0;
		if (high > 0xffffu)
			high = 0xffffu;
		r->eax = (r->eax & 0xffff0000u) | (uint32_t)(low / KIB);
		r->ecx = (r->ecx & 0xffff0000u) | (uint32_t)(low / KIB);
		r->ebx = (r->ebx & 0xffff0000u) | (uint32_t)high;
		r->edx = (r->edx & 0xffff0000u) | (uint32_t)high;
		return 0;
	}
	case BIOS_INT15_88: {
		uint64_t kib = (usable_end_from_1m(ranges, count) - LOW_1M) / KIB;
		if (kib > BIOS_88_MAX_KIB)
			kib = BIOS_88_MAX_KIB;
		r->eax = (r->eax & 0xffff0000u) | (uint32_t)kib;
		return 0;
	}
	case BIOS_INT15_OTHER:
		break;
	}
	fail(r);
	return 0;
}

int bios_int15_place(uint16_t base_kib, uint64_t usable_top, uint32_t stub_size,
		     uint64_t *stub_base, uint64_t *top, uint16_t *new_base_kib)
{
	uint64_t end = (uint64_t)base_kib * KIB;
	if (usable_top < end)
		end = usable_top;
	if (base_kib > BIOS_MAX_BASE_KIB || end < STUB_MIN_BASE + stub_size)
		return -1;
	uint64_t base = (end - stub_size) & ~(PAGE_SIZE - 1);
	if (base < STUB_MIN_BASE)
		return -1;
	*stub_base = base;
	*top = end;
	*new_base_kib = (uint16_t)(base / KIB);
	return 0;
}
