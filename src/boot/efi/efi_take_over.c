/* The firmware's page tables, stack, GDT and IDT live in boot-services memory, which the
 * guest's memory map calls usable once boot services are gone (efi_memmap.c, the OS
 * view): the guest would overwrite them under nestbed. So nestbed moves everything it
 * runs on into its own heap, reserved in the guest's map, before the core starts. */
#include "boot/efi/efi_take_over.h"

#include <stdint.h>

#include "core/boot_paging.h"
#include "core/cpu.h"
#include "core/cpu_caps.h"
#include "core/main.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/paging.h"
#include "core/platform.h"

/* CR4.LA57, 5-level paging (SDM vol.3 2.5): nestbed's tables have 4 levels, and LA57
 * cannot change while paging is on, so such firmware is refused. */
#define FIRMWARE_CR4_LA57 (1ull << 12)

static struct paging efi_paging;

/* Switches to the new tables and stack in one go: nothing runs on the old stack after the
 * switch. FS and GS still hold the firmware's selectors, which nestbed's GDT does not
 * have: null them as the Multiboot entry does. */
static _Noreturn void enter_core(uint64_t cr3, uint64_t stack_top, struct boot_info *bi)
{
	void (*entry)(struct boot_info *) = nestbed_main;
	__asm__ volatile("mov %0, %%cr3\n\t"
			 "mov %1, %%rsp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "xor %%eax, %%eax\n\t"
			 "mov %%ax, %%fs\n\t"
			 "mov %%ax, %%gs\n\t"
			 "call *%2\n\t"
			 "ud2"
			 :
			 : "r"(cr3), "r"(stack_top), "r"(entry), "D"(bi)
			 : "rax", "memory");
	__builtin_unreachable();
}

_Noreturn void efi_take_over(struct boot_info *bi)
{
	/* No firmware interrupt handler may run any more; nestbed's IDT comes in the core. */
	__asm__ volatile("cli");
	if (read_cr4() & FIRMWARE_CR4_LA57)
		fatal("the firmware runs with 5-level paging (CR4.LA57), nestbed builds 4-level tables");
	struct paging *pg = &efi_paging;
	boot_identity_paging(bi, pg); /* the image stays where the firmware loaded it: 1:1 */

	uint64_t stack = frame_alloc_range(&nestbed_frames, EFI_TAKE_OVER_STACK / FRAME_SIZE,
					   FRAME_SIZE);
	if (!stack)
		fatal("out of memory for nestbed's stack");
	enter_core(pg->root, stack + EFI_TAKE_OVER_STACK, bi);
}
