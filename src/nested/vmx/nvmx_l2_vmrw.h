/* L2's VMREAD and VMWRITE when L1 runs it with "VMCS shadowing" (SDM vol.3C 25.1.3 and
 * 25.6.15, vol.2B VMREAD/VMWRITE "Operation"): the instruction exits to L1 when the
 * control is 0, when the field encoding has a bit above 14 set (bits 63:15 in 64-bit
 * mode, 31:15 otherwise) or when the encoding's bit is 1 in L1's VMREAD or VMWRITE
 * bitmap; otherwise #GP(0) at CPL > 0, VMfailInvalid when the VMCS link pointer is all
 * ones, VMfailValid 12 for a field the shadow VMCS does not have, VMfailValid 13 for a
 * VMWRITE to an exit-information field without IA32_VMX_MISC[29], and else the access
 * to the shadow VMCS the link pointer names. Pure, host-tested. */
#ifndef NESTBED_NVMX_L2_VMRW_H
#define NESTBED_NVMX_L2_VMRW_H

#include <stdbool.h>
#include <stdint.h>

#include "nested/vmx/vmcs12_fields.h"

#define NVMX_VMCS_BITMAP_BITS 0x8000u /* 25.6.15: 4 KiB, one bit per encoding 0-7FFFh */
#define NVMX_LINK_POINTER_NONE (~0ull) /* 25.4.2: no shadow VMCS */

enum nvmx_l2_vmrw_outcome {
	NVMX_L2_VMRW_EXIT,             /* VM exit to L1, reason 23 (VMREAD) or 25 (VMWRITE) */
	NVMX_L2_VMRW_GP,               /* #GP(0) in L2 */
	NVMX_L2_VMRW_FAIL_INVALID,     /* VMfailInvalid: no shadow VMCS */
	NVMX_L2_VMRW_FAIL_UNSUPPORTED, /* VMfailValid 12 */
	NVMX_L2_VMRW_FAIL_READ_ONLY,   /* VMfailValid 13 */
	NVMX_L2_VMRW_ACCESS,           /* read or write the field in the shadow VMCS */
};

struct nvmx_l2_vmrw {
	bool shadowing;        /* VMCS12: "activate secondary controls" and "VMCS shadowing" */
	bool write;            /* VMWRITE (else VMREAD) */
	bool long64;           /* L2 in 64-bit mode */
	uint64_t encoding;     /* the register that holds the field encoding, as L2 has it */
	uint64_t bitmap;       /* VMCS12's VMREAD-bitmap or VMWRITE-bitmap address */
	unsigned cpl;
	uint64_t link_pointer; /* VMCS12's VMCS link pointer */
	bool vmwrite_any;      /* IA32_VMX_MISC[29] as offered to L1 */
};

/* One byte of L1's memory: 0, or -1 where L1 has no memory (nestbed's own, or beyond
 * it). A bitmap byte that cannot be read counts as all ones: L2 exits to L1 and
 * nestbed's memory is never consulted. */
typedef int (*nvmx_read_byte_fn)(const void *ctx, uint64_t pa, uint8_t *byte);

/* The outcome, and for NVMX_L2_VMRW_ACCESS the field (*f). */
enum nvmx_l2_vmrw_outcome nvmx_l2_vmrw_decide(const struct nvmx_l2_vmrw *in, nvmx_read_byte_fn read_byte,
					      const void *ctx, struct vmcs12_field *f);

/* Does the bitmap bit of this encoding (at most 7FFFh) make the instruction exit? */
bool nvmx_vmcs_bitmap_exits(uint64_t bitmap, uint32_t encoding, nvmx_read_byte_fn read_byte, const void *ctx);

#endif
