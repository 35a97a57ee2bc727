/* The runtime's page tables for the UEFI build: the same identity map as entry.asm
 * builds for the Multiboot build (layout.h), built in C while the firmware's own
 * identity map is still in use. */
#ifndef GUEST_EFI_PAGING_H
#define GUEST_EFI_PAGING_H

#include <stdint.h>

/* Fills the tables and returns the PML4's physical address for CR3. The first 4 GiB
 * are mapped 1:1 in 2 MiB pages, page 0 and the 4 KiB page at stack_guard (the boot
 * stack's guard page, below 4 GiB) are left out (their 2 MiB regions through 4 KiB page
 * tables), nothing above 4 GiB is mapped. Pure: the tables are this file's own. */
uint64_t efi_paging_build(uint64_t stack_guard);

#endif
