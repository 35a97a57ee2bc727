/* After ExitBootServices: nestbed's own page tables and stack, then the core. */
#ifndef NESTBED_EFI_TAKE_OVER_H
#define NESTBED_EFI_TAKE_OVER_H

#include "core/boot_info.h"

/* Heap that efi_take_over() uses before the core runs: page tables (1 MiB maps 254 GiB
 * even without 1 GiB pages, as on the Multiboot path) and the stack. */
#define EFI_TAKE_OVER_PAGE_TABLES (1ull << 20)
#define EFI_TAKE_OVER_STACK (64ull << 10)
#define EFI_TAKE_OVER_HEAP (EFI_TAKE_OVER_PAGE_TABLES + EFI_TAKE_OVER_STACK)

/* Called with boot services gone and bi complete (memory map, heap, modules): builds an
 * identity map of all memory in the heap, moves onto a stack in the heap and enters
 * nestbed_main(), which loads nestbed's GDT, TSS and IDT. */
_Noreturn void efi_take_over(struct boot_info *bi);

#endif
