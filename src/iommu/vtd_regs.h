/* Intel VT-d remapping unit registers and table formats (Intel Virtualization
 * Technology for Directed I/O, rev 3.x: chapter 10 registers, chapter 9 tables). */
#ifndef NESTBED_VTD_REGS_H
#define NESTBED_VTD_REGS_H

/* 10.4 register offsets */
#define VTD_REG_VER 0x00      /* 32 */
#define VTD_REG_CAP 0x08      /* 64 */
#define VTD_REG_ECAP 0x10     /* 64 */
#define VTD_REG_GCMD 0x18     /* 32 */
#define VTD_REG_GSTS 0x1c     /* 32 */
#define VTD_REG_RTADDR 0x20   /* 64 */
#define VTD_REG_CCMD 0x28     /* 64 */
#define VTD_REG_FSTS 0x34     /* 32 */

/* 10.4.2 Capability register */
#define VTD_CAP_RWBF (1ull << 4)              /* required write-buffer flushing */
#define VTD_CAP_CM (1ull << 7)                /* caching mode: DID 0 reserved */
#define VTD_CAP_SAGAW_SHIFT 8                 /* bits 12:8 */
#define VTD_CAP_SAGAW_MASK 0x1full
#define VTD_SAGAW_39 (1u << 1)                /* 3-level table */
#define VTD_SAGAW_48 (1u << 2)                /* 4-level table */
#define VTD_CAP_MGAW_SHIFT 16                 /* bits 21:16, value + 1 bits */
#define VTD_CAP_MGAW_MASK 0x3full
#define VTD_CAP_SLLPS_2M (1ull << 34)         /* second-level 2 MiB pages */
#define VTD_CAP_SLLPS_1G (1ull << 35)         /* second-level 1 GiB pages */

/* 10.4.3 Extended capability register */
#define VTD_ECAP_C (1ull << 0)                /* page-walk coherency */
#define VTD_ECAP_QI (1ull << 1)               /* queued invalidation */
#define VTD_ECAP_IRO_SHIFT 8                  /* bits 17:8, in 16-byte units */
#define VTD_ECAP_IRO_MASK 0x3ffull

/* 10.4.4 Global command and 10.4.5 global status (same bit positions) */
#define VTD_GCMD_TE (1u << 31)                /* translation enable */
#define VTD_GCMD_SRTP (1u << 30)              /* set root table pointer */
#define VTD_GCMD_WBF (1u << 27)               /* write buffer flush */
#define VTD_GCMD_QIE (1u << 26)               /* queued invalidation enable */
#define VTD_GCMD_IRE (1u << 25)               /* interrupt remapping enable */
/* 10.4.4: the status bits that may be written back to GCMD to keep their state; the
 * one-shot commands (SRTP, SFL, WBF, SIRTP) are masked out. */
#define VTD_GSTS_PRESERVE 0x96ffffffu

/* 10.4.9 Fault status: bit 1 primary pending fault, bits 15:8 the fault record index */
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_FRI_SHIFT 8
#define VTD_FSTS_FRI_MASK 0xffu
/* 10.4.2 CAP.FRO bits 33:24 (16-byte units) and CAP.NFR bits 47:40 (count - 1) */
#define VTD_CAP_FRO_SHIFT 24
#define VTD_CAP_FRO_MASK 0x3ffull
#define VTD_CAP_NFR_SHIFT 40
#define VTD_CAP_NFR_MASK 0xffull
/* 10.4.14 Fault recording register (16 bytes): low qword bits 63:12 the page address;
 * high qword bits 15:0 the source ID (bus:dev.fn), 39:32 the fault reason, bit 62 the
 * type (1 read, 0 write), bit 63 F (valid; written 1 to clear) */
#define VTD_FRCD_HI_SID_MASK 0xffffull
#define VTD_FRCD_HI_FR_SHIFT 32
#define VTD_FRCD_HI_FR_MASK 0xffull
#define VTD_FRCD_HI_READ (1ull << 62)
#define VTD_FRCD_HI_F (1ull << 63)

/* 10.4.7 Context command register */
#define VTD_CCMD_ICC (1ull << 63)             /* invalidate context cache (busy) */
#define VTD_CCMD_CIRG_GLOBAL (1ull << 61)     /* bits 62:61 = 01 */

/* 10.4.8 IOTLB registers: IVA at ECAP.IRO * 16, the IOTLB register 8 bytes after it */
#define VTD_IOTLB_REG_OFFSET 8
#define VTD_IOTLB_IVT (1ull << 63)            /* invalidate (busy) */
#define VTD_IOTLB_IIRG_GLOBAL (1ull << 60)    /* bits 61:60 = 01 */
#define VTD_IOTLB_DR (1ull << 49)             /* drain reads */
#define VTD_IOTLB_DW (1ull << 48)             /* drain writes */

/* 10.4.6 Root table address: bits 11:10 TTM = 00 (legacy root/context tables) */
#define VTD_RTADDR_MASK 0xfffffffffffff000ull

/* 9.1 root entry (16 bytes; 256 of them, one per bus): low qword bit 0 present,
 * bits 63:12 the context table. 9.3 context entry (16 bytes; 256 per bus, one per
 * devfn): low qword bit 0 present, bits 3:2 translation type (00: untranslated
 * requests walk the second-level table), bits 63:12 its root; high qword bits 2:0
 * address width (1: 39-bit 3-level, 2: 48-bit 4-level), bits 23:8 the domain ID. */
#define VTD_ENTRIES 256
#define VTD_ENTRY_PRESENT 1ull
#define VTD_CTX_AW_39 1ull
#define VTD_CTX_AW_48 2ull
#define VTD_CTX_DID_SHIFT 8
/* 9.8 second-level entries: bit 0 read, bit 1 write, bit 7 a large page (the x86-64
 * shape, so core/paging builds them); 3 levels reach 512 GiB. */
#define VTD_REACH_3LEVEL (1ull << 39)

#endif
