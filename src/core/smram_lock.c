/* SMRAM locked. The firmware's SMI handler lives in SMRAM; a guest that can open SMRAM
 * (D_OPEN) writes its own handler there, raises an SMI and runs it in SMM, outside
 * VMX operation on VT-x, with physical memory: nestbed's too. QEMU's and Bochs'
 * firmware hand over with SMRAM unlocked.
 *
 * At boot nestbed reads 00:00.0's vendor and device ID; on an i440FX or a Q35 host
 * bridge it closes D_OPEN and sets D_LCK, as firmware does at the end of POST (D_LCK is
 * set-once until reset; with it the chipset forces D_OPEN to 0 and makes D_LCK,
 * G_SMRAME and C_BASE_SEG read-only: smram.h). Bochs implements the lock, QEMU's q35 too;
 * QEMU's i440fx stores D_LCK but does not enforce it ("XXX: implement SMRAM.D_LOCK" in
 * hw/pci-host/i440fx.c). So nestbed also intercepts the PCI configuration ports
 * (mechanism #1, 0xCF8-0xCFF) on those chipsets and applies the lock itself to every
 * byte a guest writes into the SMRAM control (and Q35's ESMRAMC): the same answer on
 * every platform, and on real hardware a no-op. The PAM registers, which decide whether
 * the BIOS shadow holding SeaBIOS's SMI handler is writable, keep the firmware's values
 * the same way (smram.h). Everything else passes through
 * unchanged. Q35's memory-mapped configuration space (PCIEXBAR) is not intercepted: there
 * the chipset's own lock holds (QEMU's q35 enforces it).
 *
 * With one vCPU the CONFIG_ADDRESS nestbed reads back is the one the guest's data access
 * will use; several vCPUs will need a lock around the pair. */
#include "core/smram_lock.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/machine.h"
#include "core/smram.h"

static uint32_t cfg_address(uint8_t reg)
{
	return PCI_CFG_ENABLE | (reg & 0xfcu); /* bus 0, device 0, function 0 */
}

static uint8_t host_bridge_read8(uint8_t reg)
{
	outl(PCI_CFG_ADDRESS_PORT, cfg_address(reg));
	return inb((uint16_t)(PCI_CFG_DATA_PORT + (reg & 3)));
}

static void host_bridge_write8(uint8_t reg, uint8_t value)
{
	outl(PCI_CFG_ADDRESS_PORT, cfg_address(reg));
	outb((uint16_t)(PCI_CFG_DATA_PORT + (reg & 3)), value);
}

void smram_lock_at_boot(struct machine *m)
{
	outl(PCI_CFG_ADDRESS_PORT, cfg_address(0));
	uint32_t id = inl(PCI_CFG_DATA_PORT);
	uint16_t vendor = (uint16_t)id, device = (uint16_t)(id >> 16);
	enum smram_chipset c = smram_chipset_of(vendor, device);
	m->smram_chipset = c;
	if (c == SMRAM_CHIPSET_UNKNOWN) {
		kprintf("nestbed: smram: unknown chipset %04x:%04x at 00:00.0, not locked\n", vendor, device);
		return;
	}
	uint8_t reg = smram_register(c), before = host_bridge_read8(reg);
	if (before & SMRAM_D_LCK) {
		kprintf("nestbed: smram: %s SMRAM (00:00.0 %#x) %#04x: already locked; SMRAM and PAM writes mediated\n",
			smram_chipset_name(c), reg, before);
		return;
	}
	/* D_OPEN closed first, then the lock (82441FX 3.2.23: D_LCK clears D_OPEN anyway) */
	host_bridge_write8(reg, (uint8_t)(before & ~SMRAM_D_OPEN));
	host_bridge_write8(reg, smram_lock_value(before));
	uint8_t after = host_bridge_read8(reg);
	kprintf("nestbed: smram: %s SMRAM (00:00.0 %#x) %#04x -> %#04x: %s; SMRAM and PAM writes mediated\n",
		smram_chipset_name(c), reg, before, after,
		(after & SMRAM_D_LCK) && !(after & SMRAM_D_OPEN) ? "locked" : "the chipset did not take the lock");
}

static uint32_t port_in(uint16_t port, unsigned size)
{
	return size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
}

static void port_out(uint16_t port, unsigned size, uint32_t value)
{
	if (size == 4)
		outl(port, value);
	else if (size == 2)
		outw(port, (uint16_t)value);
	else
		outb(port, (uint8_t)value);
}

static void pci_io_locked(struct vcpu *v, const struct exit_io *io);

void smram_pci_io(struct vcpu *v, const struct exit_io *io)
{
	spin_lock(&machine.pci_config_lock);
	pci_io_locked(v, io);
	spin_unlock(&machine.pci_config_lock);
}

static void pci_io_locked(struct vcpu *v, const struct exit_io *io)
{
	enum smram_chipset c = machine.smram_chipset;
	if (io->in) {
		uint32_t value = port_in(io->port, io->size);
		uint64_t mask = io->size == 2 ? 0xffffull : 0xffull;
		v->state.gpr.rax = io->size == 4 ? value : (v->state.gpr.rax & ~mask) | (value & mask);
		return;
	}
	uint32_t value = (uint32_t)v->state.gpr.rax;
	if (io->port < PCI_CFG_DATA_PORT && io->port + io->size > PCI_CFG_DATA_PORT)
		return; /* straddles CONFIG_ADDRESS and CONFIG_DATA: no chipset decodes it; dropped */
	if (io->port >= PCI_CFG_DATA_PORT) {
		uint32_t cf8 = inl(PCI_CFG_ADDRESS_PORT);
		for (unsigned i = 0; i < io->size; i++) {
			int reg = pci_cfg1_host_bridge_byte(cf8, io->port, i);
			if (reg < 0)
				continue;
			uint8_t written = (uint8_t)(value >> (8 * i));
			/* CONFIG_ADDRESS already selects this byte's dword: read it in place */
			uint8_t current = inb((uint16_t)(PCI_CFG_DATA_PORT + (reg & 3)));
			uint8_t kept = smram_locked_write(c, (uint8_t)reg, current, written);
			value = (value & ~(0xffu << (8 * i))) | (uint32_t)kept << (8 * i);
		}
	}
	port_out(io->port, io->size, value);
}
