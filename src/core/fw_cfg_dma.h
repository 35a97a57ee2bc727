/* QEMU's fw_cfg DMA interface, as nestbed mediates it (QEMU docs/specs/fw_cfg.rst, "DMA
 * interface"): the pure part, also compiled for the host. A guest writes the physical
 * address of a 16-byte FWCfgDmaAccess, big-endian, to the DMA address register: the high
 * half to port 0x514, the low half to port 0x518; the low write starts the transfer. The
 * device reads the descriptor and moves `length` bytes between the selected item and
 * guest-physical `address` (physical: no IOMMU, no NPT/EPT), then writes the descriptor's
 * control field: 0 on success, the error bit on failure. */
#ifndef NESTBED_FW_CFG_DMA_H
#define NESTBED_FW_CFG_DMA_H

#include <stdbool.h>
#include <stdint.h>

#define FWCFG_PORT_SELECTOR 0x510  /* 16-bit item selector (fw_cfg.rst "Selector Register") */
#define FWCFG_PORT_DATA 0x511      /* 8-bit data port */
#define FWCFG_PORT_DMA 0x514       /* DMA address register: 0x514 high half, 0x518 low half */
#define FWCFG_PORT_DMA_HIGH 0x514
#define FWCFG_PORT_DMA_LOW 0x518
#define FWCFG_DMA_PORT_COUNT 8     /* 0x514-0x51b: every byte of the register is intercepted */

#define FWCFG_ITEM_SIGNATURE 0x0000 /* "QEMU" */
#define FWCFG_ITEM_ID 0x0001        /* feature bitmap, little-endian */
#define FWCFG_ID_DMA (1u << 1)      /* the DMA interface is present */
#define FWCFG_SIGNATURE 0x554d4551u /* "QEMU" read as a little-endian dword */

/* FWCfgDmaAccess.control (fw_cfg.rst "DMA interface"): bits 31:16 the selector with
 * SELECT. */
#define FWCFG_DMA_CTL_ERROR 0x01u
#define FWCFG_DMA_CTL_READ 0x02u
#define FWCFG_DMA_CTL_SKIP 0x04u
#define FWCFG_DMA_CTL_SELECT 0x08u
#define FWCFG_DMA_CTL_WRITE 0x10u

#define FWCFG_DMA_DESC_SIZE 16u

/* A descriptor in host byte order. */
struct fwcfg_dma_desc {
	uint32_t control;
	uint32_t length;
	uint64_t address;
};

/* What nestbed keeps per vCPU (fw_cfg.c): the high half of the DMA address the guest
 * wrote, and the copy of the guest's descriptor that nestbed hands to the device. */
struct fwcfg_dma_vcpu {
	uint8_t desc[FWCFG_DMA_DESC_SIZE] __attribute__((aligned(16)));
	uint32_t high;
	uint32_t refusals; /* reported on the console up to a few times */
};

/* The 16 big-endian bytes of an FWCfgDmaAccess. */
void fwcfg_dma_decode(const uint8_t raw[FWCFG_DMA_DESC_SIZE], struct fwcfg_dma_desc *d);

/* The big-endian control word written back into a descriptor's bytes 0-3. */
void fwcfg_dma_encode_control(uint8_t raw[4], uint32_t control);

enum fwcfg_dma_verdict {
	FWCFG_DMA_FORWARD,      /* hand the transfer to the device */
	FWCFG_DMA_REFUSE,       /* perform nothing; the guest's descriptor gets the error bit */
	FWCFG_DMA_REFUSE_QUIET, /* perform nothing; the descriptor is not the guest's memory,
				   so nothing can be written back */
};

/* Does any byte of [pa, pa + len) belong to nestbed? (nestbed_owns_range in L0.) */
typedef bool (*fwcfg_owns_fn)(uint64_t pa, uint64_t len);

/* Whether the descriptor at desc_pa may be the guest's: its 16 bytes must not wrap
 * and not touch nestbed's memory (else FWCFG_DMA_REFUSE_QUIET). */
enum fwcfg_dma_verdict fwcfg_dma_check_descriptor(uint64_t desc_pa, fwcfg_owns_fn owns);

/* Whether the transfer a (copied) descriptor asks for may run: a transfer that moves
 * data (READ writes the buffer, WRITE reads it; QEMU lets READ win over WRITE, nestbed
 * checks either) must have a buffer [address, address + length) that does not wrap
 * past 2^64 and touches none of nestbed's memory. SKIP, SELECT and a zero length move
 * nothing and pass. */
enum fwcfg_dma_verdict fwcfg_dma_check_transfer(const struct fwcfg_dma_desc *d, fwcfg_owns_fn owns);

/* Does an access of `size` bytes at `port` touch the DMA address register? */
static inline bool fwcfg_dma_port(uint16_t port, unsigned size) /* inline: every I/O exit asks */
{
	return port < FWCFG_PORT_DMA + FWCFG_DMA_PORT_COUNT && FWCFG_PORT_DMA < port + size;
}

#endif
