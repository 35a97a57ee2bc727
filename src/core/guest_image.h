/* Recognises and checks a guest kernel image before anything is loaded: pure,
 * host-tested. A bad image gets a one-line reason. */
#ifndef NESTBED_GUEST_IMAGE_H
#define NESTBED_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Multiboot 1 (spec 0.6.96, 3.1): the header is 32-bit aligned in the first 8 KiB. */
#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_SEARCH_LIMIT 8192
#define MB1_FLAG_PAGE_ALIGN (1u << 0)
#define MB1_FLAG_MEMORY_INFO (1u << 1)
#define MB1_FLAG_VIDEO_MODE (1u << 2)
#define MB1_FLAG_ADDRESSES (1u << 16)
#define MB1_REQUIRED_MASK 0xFFFFu     /* bits a loader must understand or refuse */
#define MB1_SUPPORTED_REQUIRED 0x7u   /* page align, memory info, video (text mode given) */
#define MB1_ADDRESS_HEADER_SIZE 32    /* magic, flags, checksum and the five address fields */
#define MB1_ADDRESS_LIMIT (1ull << 32) /* Multiboot 1 and ELF32 addresses are 32-bit (3.1.3) */

/* Linux x86 boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202. */
#define LINUX_SETUP_HEADER_MAGIC_OFFSET 0x202
#define LINUX_SETUP_HEADER_MAGIC 0x53726448u

#define GUEST_MAX_SEGMENTS 16

enum guest_kind {
	GUEST_MULTIBOOT_AOUT = 1, /* Multiboot header with address fields */
	GUEST_MULTIBOOT_ELF32,    /* Multiboot header, loaded by its ELF32 program headers */
	GUEST_LINUX_BZIMAGE,
	GUEST_PVH_ELF64,          /* ELF64 with a PVH entry note (Linux vmlinux, Xen) */
};

/* PVH: the ELF note "Xen", type XEN_ELFNOTE_PHYS32_ENTRY, holds the 32-bit entry
 * (xen/include/public/elfnote.h; Linux Documentation/arch/x86/boot.rst "PVH"). */
#define PVH_NOTE_NAME "Xen"
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* The most PT_NOTE bytes walked looking for it (Linux's notes are ~500 bytes): bounds the
 * time a hostile image of many large PT_NOTE segments costs. */
#define GUEST_NOTES_LIMIT (1u << 20)

struct guest_segment {
	uint64_t file_offset;
	uint64_t file_size;
	uint64_t phys;
	uint64_t mem_size; /* >= file_size, > 0; the rest is zeroed */
	uint32_t phdr;     /* its ELF program header (0 for Multiboot address fields) */
};

struct guest_image {
	enum guest_kind kind;
	uint32_t mb_flags;
	uint64_t entry;
	uint32_t nr_segments;
	struct guest_segment segments[GUEST_MAX_SEGMENTS];
	uint64_t phys_lowest, phys_highest; /* extent of all segments, [lowest, highest) */
};

const char *guest_kind_name(enum guest_kind kind);

/* Returns 0 and fills *out, or -1 with a one-line reason in err. On success every
 * segment's file range [file_offset, +file_size) lies inside the image, its load range
 * [phys, +mem_size) does not wrap (nor pass 4 GiB for the 32-bit formats) and overlaps no
 * other segment, and the entry lies in a segment. All arithmetic on image fields is
 * overflow-checked. */
int guest_image_parse(const uint8_t *image, size_t size, struct guest_image *out, char *err,
		      size_t errlen);

#endif
