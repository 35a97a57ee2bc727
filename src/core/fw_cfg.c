/* fw_cfg DMA mediation. QEMU's fw_cfg DMA engine writes wherever its descriptor says, in
 * physical memory, past NPT/EPT and past any IOMMU: left to the guest, one descriptor
 * overwrites nestbed's code. So nestbed intercepts the DMA address register (ports
 * 0x514-0x51b) and runs each transfer itself:
 *
 * - A 4-byte write to 0x514 (the high half) is only remembered, per vCPU; QEMU keeps it
 *   in the device and clears it after every transfer, and nestbed does the same.
 * - A 4-byte write to 0x518 (the low half) starts a transfer of the descriptor at
 *   high:low. nestbed copies the 16 bytes into its own memory (the vCPU's struct) and
 *   decides on the COPY: the descriptor must be guest memory (else nothing happens: there
 *   is nowhere to report), and a transfer that moves data must have its buffer
 *   [address, address + length) clear of nestbed's memory and not wrapping (else the
 *   guest's descriptor gets the error bit, as the device reports a failed transfer, and
 *   nothing is performed: no SELECT either).
 * - A transfer that passes is started with the address of nestbed's copy: the device
 *   reads the descriptor nestbed checked, never the guest's. Another CPU of the guest
 *   that rewrites its descriptor after the check changes nothing the device sees (the
 *   time-of-check/time-of-use door). QEMU runs the transfer inside the OUT, so when the
 *   OUT returns the device has written its result (0 or the error bit) into the copy's
 *   control field; nestbed writes that control word back into the guest's descriptor,
 *   the one field the device writes (fw_cfg.rst: "the control field is cleared, or the
 *   error bit set"). The buffer itself is the guest's, written or read by the device
 *   directly (its content may race, its place may not).
 * - Other writes to the register (1 or 2 bytes, or 4 bytes elsewhere) are dropped, as
 *   QEMU drops them (its DMA region accepts only those two 4-byte writes); reads return
 *   what the device returns (its "QEMU CFG" signature).
 *
 * Both halves go to the device from nestbed, back to back, on the vCPU that asked. With
 * one vCPU that is atomic; several vCPUs will need a device-wide lock around the pair.
 * The legacy data port (0x511) moves bytes through the CPU, not by DMA: not mediated.
 * Where fw_cfg has no DMA interface (Bochs), nothing is intercepted. */
#include "core/fw_cfg.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/machine.h"

#define REFUSALS_REPORTED 4

static uint32_t bswap32(uint32_t x)
{
	return __builtin_bswap32(x);
}

static uint32_t fwcfg_read_le32(uint16_t item)
{
	outw(FWCFG_PORT_SELECTOR, item);
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)inb(FWCFG_PORT_DATA) << (8 * i);
	return v;
}

void fwcfg_detect(struct machine *m)
{
	m->fwcfg_dma = false;
	uint32_t sig = fwcfg_read_le32(FWCFG_ITEM_SIGNATURE);
	if (sig != FWCFG_SIGNATURE) {
		kprintf("nestbed: fw_cfg: none (signature %#x)\n", sig);
		return;
	}
	uint32_t id = fwcfg_read_le32(FWCFG_ITEM_ID);
	outw(FWCFG_PORT_SELECTOR, FWCFG_ITEM_SIGNATURE);
	m->fwcfg_dma = (id & FWCFG_ID_DMA) != 0;
	kprintf("nestbed: fw_cfg: QEMU, features %#x, %s\n", id,
		m->fwcfg_dma ? "DMA interface at 0x514 mediated" : "no DMA interface");
}

static void refused(struct vcpu *v, const char *what, uint64_t desc_pa, const struct fwcfg_dma_desc *d)
{
	if (v->fwcfg.refusals++ >= REFUSALS_REPORTED)
		return;
	if (d)
		kprintf("nestbed: fw_cfg dma refused: %s (descriptor %#llx: control %#x length %#x address %#llx)\n",
			what, (unsigned long long)desc_pa, d->control, d->length,
			(unsigned long long)d->address);
	else
		kprintf("nestbed: fw_cfg dma refused: %s (descriptor %#llx)\n", what,
			(unsigned long long)desc_pa);
}

/* The physical address the device needs for a byte of nestbed's: the image is linked
 * high (boot_info image_virt), the heap is mapped 1:1. */
static uint64_t nestbed_phys_of(const void *p)
{
	uint64_t va = (uint64_t)(uintptr_t)p;
	const struct boot_info *bi = machine.bi;
	if (va >= bi->image_virt && va - bi->image_virt < bi->image_size)
		return va - bi->image_virt + bi->image_phys;
	return va;
}

static void start_transfer(struct vcpu *v, uint64_t desc_pa)
{
	struct fwcfg_dma_vcpu *f = &v->fwcfg;
	if (fwcfg_dma_check_descriptor(desc_pa, nestbed_owns_range) != FWCFG_DMA_FORWARD ||
	    guest_phys_read(desc_pa, f->desc, sizeof(f->desc))) {
		refused(v, "the descriptor is not guest memory", desc_pa, NULL);
		return;
	}
	struct fwcfg_dma_desc d;
	fwcfg_dma_decode(f->desc, &d);
	if (fwcfg_dma_check_transfer(&d, nestbed_owns_range) != FWCFG_DMA_FORWARD) {
		uint8_t control[4];
		fwcfg_dma_encode_control(control, FWCFG_DMA_CTL_ERROR);
		(void)guest_phys_write(desc_pa, control, sizeof(control));
		refused(v, "the buffer touches nestbed's memory or wraps", desc_pa, &d);
		return;
	}
	uint64_t copy_pa = nestbed_phys_of(f->desc);
	spin_lock(&machine.fwcfg_lock);
	outl(FWCFG_PORT_DMA_HIGH, bswap32((uint32_t)(copy_pa >> 32)));
	outl(FWCFG_PORT_DMA_LOW, bswap32((uint32_t)copy_pa));
	spin_unlock(&machine.fwcfg_lock);
	/* The device has written the result into the copy's control field. */
	(void)guest_phys_write(desc_pa, f->desc, 4);
}

void fwcfg_dma_io(struct vcpu *v, const struct exit_io *io)
{
	if (io->in) {
		uint32_t value = io->size == 4 ? inl(io->port) : io->size == 2 ? inw(io->port) : inb(io->port);
		uint64_t mask = io->size == 2 ? 0xffffull : 0xffull;
		/* IN EAX zero-extends into RAX; AL and AX keep the rest */
		v->state.gpr.rax = io->size == 4 ? value : (v->state.gpr.rax & ~mask) | (value & mask);
		return;
	}
	if (io->size != 4)
		return;
	uint32_t value = bswap32((uint32_t)v->state.gpr.rax); /* the register is big-endian */
	if (io->port == FWCFG_PORT_DMA_HIGH) {
		v->fwcfg.high = value;
	} else if (io->port == FWCFG_PORT_DMA_LOW) {
		uint64_t desc_pa = (uint64_t)v->fwcfg.high << 32 | value;
		v->fwcfg.high = 0;
		start_transfer(v, desc_pa);
	}
}
