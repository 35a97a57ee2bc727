/* What the boot code (entry.asm, guest.ld) sets up, for C code that relies on it.
 * entry.asm repeats these numbers: keep both in step. The UEFI build sets up the same
 * (guests/efi/: efi_entry.asm, efi_paging.c, conformance-efi.lds), except that the image
 * lies where the firmware loaded it and the stack guard page need not be in the first
 * 2 MiB. */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#include <stdint.h>

/* GDT selectors (boot_gdt in entry.asm). */
#define GDT_CODE32 0x08
#define GDT_DATA   0x10
#define GDT_CODE64 0x18
#define GDT_TSS    0x20 /* 16-byte system descriptor, filled in by tss.c */
#define GDT_TSS_INDEX (GDT_TSS / 8)

/* Paging: the first 4 GiB identity-mapped (2 MiB pages, the first 2 MiB in 4 KiB pages
 * with page 0 left out so that a NULL dereference faults, and the page below the boot
 * stack left out so that an overflow faults). Everything at or above IDENTITY_MAP_END
 * is not present. */
#define IDENTITY_MAP_END 0x100000000ull
#define NULL_GUARD_SIZE  0x1000ull

/* Linker symbols (guest.ld): the image as the Multiboot loader placed it. */
extern char guest_image_start[]; /* load_addr: 1 MiB (UEFI: ImageBase) */
extern char guest_load_end[];    /* end of the file-backed part */
extern char guest_bss_end[];     /* end of everything */
extern uint64_t boot_gdt[];
extern char boot_stack_guard[];  /* the unmapped page below the boot stack */

#endif
