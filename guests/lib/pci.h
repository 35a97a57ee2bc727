/* PCI configuration space through the legacy mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2):
 * CONFIG_ADDRESS at port 0xCF8, CONFIG_DATA at 0xCFC. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u

/* Configuration header offsets (PCI 3.0, 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_CLASS_REV 0x08          /* class 31:24, subclass 23:16, prog-if 15:8 */
#define PCI_BAR5 0x24
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)

static inline uint32_t pci_address(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return PCI_CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc);
}

static inline uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	uint32_t v;
	__asm__ volatile("outl %0, %1" ::"a"(pci_address(bus, dev, fn, off)),
			 "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)PCI_CONFIG_DATA));
	return v;
}

static inline void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off,
			       uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(pci_address(bus, dev, fn, off)),
			 "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"((uint16_t)PCI_CONFIG_DATA));
}

#endif
