#include "core/acpi.h"

#define RSDP_V1_LENGTH 20
#define RSDP_ALIGN 16

static const char rsdp_signature[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };

uint64_t acpi_scan_rsdp(const uint8_t *mem, uint64_t phys, size_t len)
{
	for (size_t off = 0; off + RSDP_V1_LENGTH <= len; off += RSDP_ALIGN) {
		int match = 1;
		for (int i = 0; i < 8; i++)
			if (mem[off + i] != (uint8_t)rsdp_signature[i])
				match = 0;
		if (!match)
			continue;
		uint8_t sum = 0;
		for (int i = 0; i < RSDP_V1_LENGTH; i++)
			sum = (uint8_t)(sum + mem[off + i]);
		if (sum == 0)
			return phys + off;
	}
	return 0;
}
