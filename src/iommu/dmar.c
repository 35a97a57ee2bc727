#include "iommu/dmar.h"

#include "core/acpi.h"
#include "core/format.h"
#include "core/little_endian.h"

int dmar_parse(const uint8_t *table, size_t len, struct dmar_info *out, char *err,
	       size_t errlen)
{
	out->nr_units = 0;
	out->nr_rmrr = 0;
	if (len < DMAR_STRUCTS_OFFSET) {
		format_buf(err, errlen, "DMAR is %zu bytes, shorter than its %u-byte header", len,
			   DMAR_STRUCTS_OFFSET);
		return -1;
	}
	if (table[0] != 'D' || table[1] != 'M' || table[2] != 'A' || table[3] != 'R') {
		format_buf(err, errlen, "not a DMAR table");
		return -1;
	}
	uint32_t declared = (uint32_t)le16(table + ACPI_SDT_LENGTH_OFFSET) |
			    (uint32_t)le16(table + ACPI_SDT_LENGTH_OFFSET + 2) << 16;
	if (declared != len) {
		format_buf(err, errlen, "DMAR length field %u, given %zu bytes", declared, len);
		return -1;
	}
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + table[i]);
	if (sum) {
		format_buf(err, errlen, "DMAR checksum is wrong (bytes sum to %#x)", sum);
		return -1;
	}
	out->host_address_width = (uint8_t)(table[DMAR_HAW_OFFSET] + 1);
	out->flags = table[DMAR_FLAGS_OFFSET];
	for (size_t off = DMAR_STRUCTS_OFFSET; off < len;) {
		if (len - off < DMAR_STRUCT_HEADER) {
			format_buf(err, errlen, "DMAR: %zu stray bytes at offset %zu", len - off, off);
			return -1;
		}
		uint32_t type = le16(table + off), slen = le16(table + off + 2);
		if (slen < DMAR_STRUCT_HEADER || slen > len - off) {
			format_buf(err, errlen, "DMAR: structure of type %u at offset %zu has length "
				   "%u (%zu bytes left)", type, off, slen, len - off);
			return -1;
		}
		const uint8_t *s = table + off;
		if (type == DMAR_TYPE_DRHD) {
			if (slen < DMAR_DRHD_LENGTH) {
				format_buf(err, errlen, "DMAR: DRHD at offset %zu is %u bytes, expected "
					   "at least %u", off, slen, DMAR_DRHD_LENGTH);
				return -1;
			}
			if (out->nr_units == DMAR_MAX_UNITS) {
				format_buf(err, errlen, "DMAR: more than %u remapping units",
					   DMAR_MAX_UNITS);
				return -1;
			}
			struct dmar_unit *u = &out->units[out->nr_units];
			u->reg_base = le64(s + DMAR_DRHD_BASE);
			u->reg_size = 4096ull << (s[DMAR_DRHD_SIZE] & DMAR_DRHD_SIZE_MASK);
			u->segment = (uint16_t)le16(s + DMAR_DRHD_SEGMENT);
			u->include_pci_all = s[DMAR_DRHD_FLAGS] & DMAR_DRHD_INCLUDE_PCI_ALL;
			if (!u->reg_base || (u->reg_base & 0xfff) ||
			    u->reg_base + u->reg_size < u->reg_base) {
				format_buf(err, errlen, "DMAR: unit %u has register base %#llx",
					   out->nr_units, (unsigned long long)u->reg_base);
				return -1;
			}
			out->nr_units++;
		} else if (type == DMAR_TYPE_RMRR) {
			out->nr_rmrr++;
		}
		off += slen;
	}
	if (!out->nr_units) {
		format_buf(err, errlen, "DMAR lists no remapping unit (DRHD)");
		return -1;
	}
	return 0;
}
