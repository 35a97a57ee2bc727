/* covers: src/core/fw_cfg_dma.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fw_cfg_dma.h"

/* nestbed owns [0x1000000, 0x1200000) in these tests. */
#define OWN_BASE 0x1000000ull
#define OWN_END 0x1200000ull

static bool owns(uint64_t pa, uint64_t len)
{
	return pa < OWN_END && OWN_BASE < pa + len;
}

static void test_decode(void **state)
{
	(void)state;
	const uint8_t raw[16] = { 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x04,
				  0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x80 };
	struct fwcfg_dma_desc d;
	fwcfg_dma_decode(raw, &d);
	assert_int_equal(d.control, FWCFG_DMA_CTL_SELECT | FWCFG_DMA_CTL_READ);
	assert_int_equal(d.length, 4);
	assert_int_equal(d.address, 0x123456780ull);
	const uint8_t sel[16] = { 0x00, 0x19, 0x00, 0x08 };
	fwcfg_dma_decode(sel, &d);
	assert_int_equal(d.control >> 16, 0x19);
	uint8_t out[4];
	fwcfg_dma_encode_control(out, FWCFG_DMA_CTL_ERROR);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[3], 1);
	fwcfg_dma_encode_control(out, 0x12345678u);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[3], 0x78);
}

static void test_descriptor(void **state)
{
	(void)state;
	assert_int_equal(fwcfg_dma_check_descriptor(0x8000, owns), FWCFG_DMA_FORWARD);
	assert_int_equal(fwcfg_dma_check_descriptor(OWN_BASE - 16, owns), FWCFG_DMA_FORWARD);
	assert_int_equal(fwcfg_dma_check_descriptor(OWN_BASE - 15, owns), FWCFG_DMA_REFUSE_QUIET);
	assert_int_equal(fwcfg_dma_check_descriptor(OWN_BASE + 0x100, owns), FWCFG_DMA_REFUSE_QUIET);
	assert_int_equal(fwcfg_dma_check_descriptor(OWN_END - 1, owns), FWCFG_DMA_REFUSE_QUIET);
	assert_int_equal(fwcfg_dma_check_descriptor(OWN_END, owns), FWCFG_DMA_FORWARD);
	/* the 16 bytes wrap past 2^64 */
	assert_int_equal(fwcfg_dma_check_descriptor(~0ull - 7, owns), FWCFG_DMA_REFUSE_QUIET);
	assert_int_equal(fwcfg_dma_check_descriptor(~0ull - 15, owns), FWCFG_DMA_FORWARD);
}

static enum fwcfg_dma_verdict transfer(uint32_t control, uint32_t length, uint64_t address)
{
	struct fwcfg_dma_desc d = { control, length, address };
	return fwcfg_dma_check_transfer(&d, owns);
}

static void test_transfer(void **state)
{
	(void)state;
	const uint32_t rd = FWCFG_DMA_CTL_READ, wr = FWCFG_DMA_CTL_WRITE;
	assert_int_equal(transfer(rd, 4, 0x9000), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(wr, 4, 0x9000), FWCFG_DMA_FORWARD);
	/* a buffer in, overlapping the start or the end of, or around nestbed's memory */
	assert_int_equal(transfer(rd, 4, OWN_BASE), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(wr, 4, OWN_BASE + 0x1000), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(rd, 2, OWN_BASE - 1), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(rd, 1, OWN_BASE - 1), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(rd, 8, OWN_END - 4), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(rd, 8, OWN_END), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(rd, 0xffffffffu, 0x100000), FWCFG_DMA_REFUSE);
	/* READ and WRITE together: QEMU reads; either way the buffer is checked */
	assert_int_equal(transfer(rd | wr, 4, OWN_BASE), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(rd | FWCFG_DMA_CTL_SELECT | (0x19u << 16), 4, OWN_BASE),
			 FWCFG_DMA_REFUSE);
	/* a buffer that wraps past 2^64 is refused, whoever owns its pieces */
	assert_int_equal(transfer(rd, 0x20, ~0ull - 0xf), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(wr, 2, ~0ull), FWCFG_DMA_REFUSE);
	assert_int_equal(transfer(rd, 1, ~0ull), FWCFG_DMA_FORWARD);
	/* nothing moves: SKIP, SELECT alone, no direction, zero length */
	assert_int_equal(transfer(FWCFG_DMA_CTL_SKIP, 4, OWN_BASE), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(FWCFG_DMA_CTL_SELECT, 4, OWN_BASE), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(0, 0x1000, OWN_BASE), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(rd, 0, OWN_BASE), FWCFG_DMA_FORWARD);
	assert_int_equal(transfer(rd, 0, ~0ull), FWCFG_DMA_FORWARD);
}

static void test_ports(void **state)
{
	(void)state;
	assert_true(fwcfg_dma_port(0x514, 4));
	assert_true(fwcfg_dma_port(0x518, 4));
	assert_true(fwcfg_dma_port(0x51b, 1));
	assert_true(fwcfg_dma_port(0x513, 2)); /* straddles into the register */
	assert_false(fwcfg_dma_port(0x510, 4));
	assert_false(fwcfg_dma_port(0x511, 1));
	assert_false(fwcfg_dma_port(0x51c, 4));
	assert_false(fwcfg_dma_port(0xf4, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
