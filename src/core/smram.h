/* The chipset's SMRAM control, as nestbed locks and guards it: the pure part, also
 * compiled for the host (smram.c; the boot-time lock and the port mediation are in
 * smram_lock.c).
 *
 * i440FX (82441FX PMC, 00:00.0) register 72h SMRAM and Q35 (3 Series MCH, 00:00.0)
 * register 9Dh SMRAM share one layout (82441FX datasheet 3.2.23; Intel 3 Series Express
 * Chipset Family datasheet 5.1.20): D_OPEN makes SMRAM visible outside SMM, D_CLS hides
 * it from SMM data accesses, D_LCK (set-once until reset) forces D_OPEN to 0 and makes
 * D_LCK, G_SMRAME and C_BASE_SEG read-only. Q35's ESMRAMC (9Eh, 5.1.21: H_SMRAME,
 * TSEG_SZ, T_EN) becomes read-only under the same lock.
 *
 * The PAM registers (i440FX 59h-5Fh, 82441FX 3.2.18; Q35 90h-96h, 3 Series MCH 5.1.14)
 * decide whether the BIOS shadow at C0000h-FFFFFh is writable RAM. SeaBIOS's SMI
 * handler runs from there, not from SMRAM (the code at SMBASE + 8000h jumps to
 * entry_smi in the F segment, which calls handle_smi there): a guest that made the
 * shadow writable would write the code SMM runs. So nestbed keeps the PAM registers as
 * the firmware left them too (SeaBIOS leaves the shadow read-only). */
#ifndef NESTBED_SMRAM_H
#define NESTBED_SMRAM_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_INTEL 0x8086
#define PCI_DEVICE_82441FX 0x1237  /* i440FX PMC: QEMU pc, Bochs i440fx */
#define PCI_DEVICE_Q35_MCH 0x29c0  /* 82G33/P35 MCH: QEMU q35 */

#define I440FX_REG_SMRAM 0x72
#define Q35_REG_SMRAM 0x9d
#define Q35_REG_ESMRAMC 0x9e

#define I440FX_REG_PAM0 0x59
#define Q35_REG_PAM0 0x90
#define PAM_REG_COUNT 7

#define SMRAM_D_OPEN 0x40u
#define SMRAM_D_CLS 0x20u
#define SMRAM_D_LCK 0x10u
#define SMRAM_G_SMRAME 0x08u
#define SMRAM_C_BASE_SEG 0x07u

/* PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): CONFIG_ADDRESS at
 * 0xCF8, CONFIG_DATA at 0xCFC-0xCFF. */
#define PCI_CFG_ADDRESS_PORT 0xcf8
#define PCI_CFG_DATA_PORT 0xcfc
#define PCI_CFG_PORT_COUNT 8 /* 0xcf8-0xcff */
#define PCI_CFG_ENABLE (1u << 31)

enum smram_chipset {
	SMRAM_CHIPSET_UNKNOWN = 0,
	SMRAM_CHIPSET_I440FX,
	SMRAM_CHIPSET_Q35,
};

enum smram_chipset smram_chipset_of(uint16_t vendor, uint16_t device);
const char *smram_chipset_name(enum smram_chipset c);
/* The SMRAM register's offset in 00:00.0's configuration space (0: none). */
uint8_t smram_register(enum smram_chipset c);

/* The value nestbed writes at boot to lock: D_OPEN cleared, D_LCK set, the rest kept. */
uint8_t smram_lock_value(uint8_t current);

/* What a write of `written` to configuration byte `reg` of 00:00.0 leaves there once the
 * lock is set (`current` is the byte now): the SMRAM register keeps its value, D_LCK set
 * and D_OPEN clear; Q35's ESMRAMC and the PAM registers keep theirs. Any other byte takes
 * the write. The datasheets leave D_CLS writable under the lock, for the SMI handler;
 * nestbed keeps it too: the guest is not SMM code, and with D_CLS set SMM's data
 * accesses to ASEG (the CPU's state save with them, on Bochs) would go to VGA memory the
 * guest writes. */
uint8_t smram_locked_write(enum smram_chipset c, uint8_t reg, uint8_t current, uint8_t written);

/* The configuration-space byte of 00:00.0 that byte `i` of a CONFIG_DATA access at `port`
 * writes when CONFIG_ADDRESS holds `cf8`; -1 when that byte is not 00:00.0's (mechanism
 * disabled, another function, a byte past 0xCFF). */
int pci_cfg1_host_bridge_byte(uint32_t cf8, uint16_t port, unsigned i);

/* Does an access of `size` bytes at `port` touch the PCI configuration ports? */
static inline bool smram_pci_port(uint16_t port, unsigned size) /* inline: every I/O exit asks */
{
	return port < PCI_CFG_ADDRESS_PORT + PCI_CFG_PORT_COUNT && PCI_CFG_ADDRESS_PORT < port + size;
}

#endif
