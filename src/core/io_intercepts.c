#include "core/io_intercepts.h"

#include "core/fw_cfg_dma.h"
#include "core/machine.h"
#include "core/platform.h"
#include "core/smram.h"

unsigned io_intercepted_ports(const struct machine *m, struct port_range *out)
{
	unsigned n = 0;
	out[n++] = (struct port_range){ QEMU_DEBUG_EXIT_PORT, 1 };
	out[n++] = (struct port_range){ BOCHS_SHUTDOWN_PORT, 1 };
	if (m->fwcfg_dma)
		out[n++] = (struct port_range){ FWCFG_PORT_DMA, FWCFG_DMA_PORT_COUNT };
	if (m->smram_chipset != SMRAM_CHIPSET_UNKNOWN)
		out[n++] = (struct port_range){ PCI_CFG_ADDRESS_PORT, PCI_CFG_PORT_COUNT };
	return n;
}
