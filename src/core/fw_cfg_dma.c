/* The pure part of the fw_cfg DMA mediation (see fw_cfg_dma.h and fw_cfg.c). */
#include "core/fw_cfg_dma.h"

static uint64_t be_bytes(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void fwcfg_dma_decode(const uint8_t raw[FWCFG_DMA_DESC_SIZE], struct fwcfg_dma_desc *d)
{
	d->control = (uint32_t)be_bytes(raw, 4);
	d->length = (uint32_t)be_bytes(raw + 4, 4);
	d->address = be_bytes(raw + 8, 8);
}

void fwcfg_dma_encode_control(uint8_t raw[4], uint32_t control)
{
	for (unsigned i = 0; i < 4; i++)
		raw[i] = (uint8_t)(control >> (8 * (3 - i)));
}

static bool range_wraps(uint64_t base, uint64_t len)
{
	return len && base + (len - 1) < base;
}

enum fwcfg_dma_verdict fwcfg_dma_check_descriptor(uint64_t desc_pa, fwcfg_owns_fn owns)
{
	if (range_wraps(desc_pa, FWCFG_DMA_DESC_SIZE) || owns(desc_pa, FWCFG_DMA_DESC_SIZE))
		return FWCFG_DMA_REFUSE_QUIET;
	return FWCFG_DMA_FORWARD;
}

enum fwcfg_dma_verdict fwcfg_dma_check_transfer(const struct fwcfg_dma_desc *d, fwcfg_owns_fn owns)
{
	if (!(d->control & (FWCFG_DMA_CTL_READ | FWCFG_DMA_CTL_WRITE)) || d->length == 0)
		return FWCFG_DMA_FORWARD;
	if (range_wraps(d->address, d->length) || owns(d->address, d->length))
		return FWCFG_DMA_REFUSE;
	return FWCFG_DMA_FORWARD;
}

