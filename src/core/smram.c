/* The pure part of the SMRAM lock (see smram.h). */
#include "core/smram.h"

enum smram_chipset smram_chipset_of(uint16_t vendor, uint16_t device)
{
	if (vendor != PCI_VENDOR_INTEL)
		return SMRAM_CHIPSET_UNKNOWN;
	if (device == PCI_DEVICE_82441FX)
		return SMRAM_CHIPSET_I440FX;
	if (device == PCI_DEVICE_Q35_MCH)
		return SMRAM_CHIPSET_Q35;
	return SMRAM_CHIPSET_UNKNOWN;
}

const char *smram_chipset_name(enum smram_chipset c)
{
	switch (c) {
	case SMRAM_CHIPSET_I440FX:
		return "i440fx";
	case SMRAM_CHIPSET_Q35:
		return "q35";
	default:
		return "unknown";
	}
}

uint8_t smram_register(enum smram_chipset c)
{
	switch (c) {
	case SMRAM_CHIPSET_I440FX:
		return I440FX_REG_SMRAM;
	case SMRAM_CHIPSET_Q35:
		return Q35_REG_SMRAM;
	default:
		return 0;
	}
}

uint8_t smram_lock_value(uint8_t current)
{
	return (uint8_t)((current & ~SMRAM_D_OPEN) | SMRAM_D_LCK);
}

uint8_t smram_locked_write(enum smram_chipset c, uint8_t reg, uint8_t current, uint8_t written)
{
	(void)written; /* only the bytes nestbed does not guard take it */
	if (c == SMRAM_CHIPSET_UNKNOWN)
		return written;
	if (reg == smram_register(c))
		return (uint8_t)((current & ~SMRAM_D_OPEN) | SMRAM_D_LCK);
	if (c == SMRAM_CHIPSET_Q35 && reg == Q35_REG_ESMRAMC)
		return current;
	uint8_t pam0 = c == SMRAM_CHIPSET_Q35 ? Q35_REG_PAM0 : I440FX_REG_PAM0;
	if (reg >= pam0 && reg < pam0 + PAM_REG_COUNT)
		return current;
	return written;
}

int pci_cfg1_host_bridge_byte(uint32_t cf8, uint16_t port, unsigned i)
{
	if (!(cf8 & PCI_CFG_ENABLE) || (cf8 & 0x00ffff00u)) /* bus 23:16, device 15:11, function 10:8 */
		return -1;
	if (port < PCI_CFG_DATA_PORT || port - PCI_CFG_DATA_PORT + i > 3)
		return -1;
	return (int)((cf8 & 0xfcu) + (port - PCI_CFG_DATA_PORT) + i);
}

