#include "lib/ahci.h"

#include "core/format.h"
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/pci.h"

/* PCI class of an AHCI HBA: mass storage, SATA, AHCI 1.0 (AHCI 2.1) */
#define AHCI_CLASS 0x010601u
/* HBA registers (AHCI 3.1) */
#define HBA_GHC 0x04
#define HBA_PI 0x0c
#define HBA_GHC_AE (1u << 31)
/* Port registers at 0x100 + port * 0x80 (AHCI 3.3) */
#define PORT_BASE(p) (0x100u + (p) * 0x80u)
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0c
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SERR 0x30
#define PX_CI 0x38
#define PX_CMD_ST (1u << 0)
#define PX_CMD_FRE (1u << 4)
#define PX_CMD_FR (1u << 14)
#define PX_CMD_CR (1u << 15)
#define PX_IS_TFES (1u << 30)
#define PX_TFD_ERR 0x01u
#define PX_TFD_BSY 0x80u
#define PX_TFD_DRQ 0x08u
#define PX_SSTS_DET_PRESENT 3u      /* device present, PHY communication established */
#define PX_SIG_ATA 0x00000101u
/* The command header (AHCI 4.2.2), the H2D register FIS (SATA 3.x 10.5.5) and the PRDT
 * entry (4.2.3.3) */
#define CMD_FIS_DWORDS 5u
#define FIS_TYPE_H2D 0x27
#define FIS_H2D_COMMAND 0x80
#define ATA_READ_DMA_EXT 0x25       /* ACS-3 7.22 */
#define ATA_DEVICE_LBA 0x40
#define PRDT_OFFSET 0x80
#define POLL_LIMIT 50000000u

/* The port's structures: command list (1 KiB aligned), received FIS (256), one command
 * table (128). The probe owns them for the run; nothing else uses the HBA. */
static uint8_t cmd_list[1024] __attribute__((aligned(1024)));
static uint8_t rx_fis[256] __attribute__((aligned(256)));
static uint8_t cmd_table[PRDT_OFFSET + 16] __attribute__((aligned(128)));

static volatile uint32_t *reg(const struct ahci_disk *d, uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(d->abar + off);
}

static volatile uint32_t *preg(const struct ahci_disk *d, uint32_t off)
{
	return reg(d, PORT_BASE(d->port) + off);
}

static int wait_clear(volatile uint32_t *r, uint32_t bits)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++)
		if (!(*r & bits))
			return 0;
	return -1;
}

static int port_start(const struct ahci_disk *d)
{
	*preg(d, PX_CMD) &= ~PX_CMD_ST;
	if (wait_clear(preg(d, PX_CMD), PX_CMD_CR))
		return -1;
	*preg(d, PX_CMD) &= ~PX_CMD_FRE;
	if (wait_clear(preg(d, PX_CMD), PX_CMD_FR))
		return -1;
	memset(cmd_list, 0, sizeof(cmd_list));
	memset(rx_fis, 0, sizeof(rx_fis));
	*preg(d, PX_CLB) = (uint32_t)(uintptr_t)cmd_list;
	*preg(d, PX_CLBU) = (uint32_t)((uint64_t)(uintptr_t)cmd_list >> 32);
	*preg(d, PX_FB) = (uint32_t)(uintptr_t)rx_fis;
	*preg(d, PX_FBU) = (uint32_t)((uint64_t)(uintptr_t)rx_fis >> 32);
	*preg(d, PX_IE) = 0;                 /* polled: no interrupts */
	*preg(d, PX_SERR) = 0xffffffffu;
	*preg(d, PX_IS) = 0xffffffffu;
	*preg(d, PX_CMD) |= PX_CMD_FRE;
	if (wait_clear(preg(d, PX_TFD), PX_TFD_BSY | PX_TFD_DRQ))
		return -1;
	*preg(d, PX_CMD) |= PX_CMD_ST;
	return 0;
}

int ahci_find_disk(struct ahci_disk *d, char *why, unsigned whylen)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			if ((pci_read32(0, dev, fn, PCI_VENDOR_ID) & 0xffff) == 0xffff)
				continue;
			if (pci_read32(0, dev, fn, PCI_CLASS_REV) >> 8 != AHCI_CLASS)
				continue;
			uint64_t abar = pci_read32(0, dev, fn, PCI_BAR5) & ~0xfffull;
			if (!abar || abar >= 0x100000000ull) {
				format_buf(why, whylen, "AHCI controller 00:%02x.%u has ABAR %#llx, "
					   "not below 4 GiB", dev, fn, (unsigned long long)abar);
				return -1;
			}
			uint32_t cmd = pci_read32(0, dev, fn, PCI_COMMAND) & 0xffff;
			pci_write32(0, dev, fn, PCI_COMMAND,
				    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
			d->dev = dev;
			d->fn = fn;
			d->abar = abar;
			*reg(d, HBA_GHC) |= HBA_GHC_AE;
			uint32_t pi = *reg(d, HBA_PI);
			for (unsigned p = 0; p < 32; p++) {
				d->port = p;
				if (!(pi & (1u << p)) ||
				    (*preg(d, PX_SSTS) & 0xf) != PX_SSTS_DET_PRESENT ||
				    *preg(d, PX_SIG) != PX_SIG_ATA)
					continue;
				if (port_start(d)) {
					format_buf(why, whylen, "AHCI 00:%02x.%u port %u does not start",
						   dev, fn, p);
					return -1;
				}
				return 0;
			}
			format_buf(why, whylen, "AHCI controller 00:%02x.%u has no ATA disk", dev, fn);
			return -1;
		}
	}
	format_buf(why, whylen, "no AHCI controller on PCI bus 0");
	return -1;
}

int ahci_read(const struct ahci_disk *d, uint64_t lba, uint32_t count, uint64_t buf,
	      uint32_t *status, uint32_t *moved)
{
	*status = *moved = 0;
	if (!count || count > AHCI_MAX_SECTORS)
		return -1;
	uint32_t *hdr = (uint32_t *)cmd_list;         /* slot 0 */
	hdr[0] = CMD_FIS_DWORDS | 1u << 16;           /* CFL 5, read, PRDTL 1 */
	hdr[1] = 0;                                   /* PRDBC */
	hdr[2] = (uint32_t)(uintptr_t)cmd_table;
	hdr[3] = (uint32_t)((uint64_t)(uintptr_t)cmd_table >> 32);
	memset(cmd_table, 0, sizeof(cmd_table));
	uint8_t *fis = cmd_table;
	fis[0] = FIS_TYPE_H2D;
	fis[1] = FIS_H2D_COMMAND;
	fis[2] = ATA_READ_DMA_EXT;
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = ATA_DEVICE_LBA;
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	uint32_t *prd = (uint32_t *)(cmd_table + PRDT_OFFSET);
	prd[0] = (uint32_t)buf;
	prd[1] = (uint32_t)(buf >> 32);
	prd[3] = count * AHCI_SECTOR - 1;             /* DBC: bytes - 1, no interrupt */
	__asm__ volatile("mfence" ::: "memory");
	*preg(d, PX_IS) = 0xffffffffu;
	*preg(d, PX_CI) = 1;
	int failed = 0;
	for (uint32_t i = 0;; i++) {
		if (!(*preg(d, PX_CI) & 1))
			break;
		if (*preg(d, PX_IS) & PX_IS_TFES || i == POLL_LIMIT) {
			failed = 1;
			break;
		}
	}
	__asm__ volatile("mfence" ::: "memory");
	*status = *preg(d, PX_TFD);
	*moved = ((volatile uint32_t *)cmd_list)[1];
	if (failed || *status & PX_TFD_ERR || *preg(d, PX_IS) & PX_IS_TFES)
		return -1;
	return 0;
}
