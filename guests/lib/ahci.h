/* A minimal AHCI driver for probes that need bus-master DMA (Serial ATA AHCI 1.3.1):
 * finds the first AHCI controller on PCI bus 0 with an ATA disk on one of its ports,
 * takes that port over (its own command list and received-FIS area) and reads sectors
 * with READ DMA EXT into any physical address, through one PRDT entry. */
#ifndef GUEST_AHCI_H
#define GUEST_AHCI_H

#include <stdbool.h>
#include <stdint.h>

#define AHCI_SECTOR 512u
#define AHCI_MAX_SECTORS 8192u      /* one PRDT entry moves at most 4 MiB (AHCI 4.2.3.3) */

struct ahci_disk {
	unsigned dev, fn;           /* on bus 0 */
	uint64_t abar;              /* BAR5: the HBA's registers */
	unsigned port;
};

/* 0 and the disk, or -1 with why not in why (no controller, no disk, ...). */
int ahci_find_disk(struct ahci_disk *d, char *why, unsigned whylen);

/* Reads count sectors from lba to physical address buf. 0 when the command completed
 * without a task-file error; -1 otherwise; *status gets PxTFD, *moved the byte count
 * the HBA reports (PRDBC). */
int ahci_read(const struct ahci_disk *d, uint64_t lba, uint32_t count, uint64_t buf,
	      uint32_t *status, uint32_t *moved);

#endif
