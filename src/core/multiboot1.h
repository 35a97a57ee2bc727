/* What a Multiboot 1 loader hands the kernel (Multiboot spec 0.6.96, 3.2-3.3): the magic
 * in EAX and the information structure's flags. nestbed receives them (boot/multiboot)
 * and gives them to its guest (core/guest_load.c). */
#ifndef NESTBED_MULTIBOOT1_H
#define NESTBED_MULTIBOOT1_H

#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MMAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)

#endif
