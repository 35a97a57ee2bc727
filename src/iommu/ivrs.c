#include "iommu/ivrs.h"

#include "core/format.h"
#include "core/little_endian.h"

int ivrs_parse(const uint8_t *table, size_t len, struct ivrs_info *out, char *err,
	       size_t errlen)
{
	out->nr_units = 0;
	if (len < IVRS_BLOCKS_OFFSET) {
		format_buf(err, errlen, "IVRS is %zu bytes, shorter than its %u-byte header", len,
			   IVRS_BLOCKS_OFFSET);
		return -1;
	}
	if (table[0] != 'I' || table[1] != 'V' || table[2] != 'R' || table[3] != 'S') {
		format_buf(err, errlen, "not an IVRS table");
		return -1;
	}
	uint32_t declared = le16(table + 4) | le16(table + 6) << 16;
	if (declared != len) {
		format_buf(err, errlen, "IVRS length field %u, given %zu bytes", declared, len);
		return -1;
	}
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + table[i]);
	if (sum) {
		format_buf(err, errlen, "IVRS checksum is wrong (bytes sum to %#x)", sum);
		return -1;
	}
	for (size_t off = IVRS_BLOCKS_OFFSET; off < len;) {
		if (len - off < IVRS_BLOCK_HEADER) {
			format_buf(err, errlen, "IVRS: %zu stray bytes at offset %zu", len - off, off);
			return -1;
		}
		const uint8_t *b = table + off;
		uint32_t type = b[0], blen = le16(b + 2);
		if (blen < IVRS_BLOCK_HEADER || blen > len - off) {
			format_buf(err, errlen, "IVRS: block of type %#x at offset %zu has length %u "
				   "(%zu bytes left)", type, off, blen, len - off);
			return -1;
		}
		if (type == IVRS_IVHD_10 || type == IVRS_IVHD_11 || type == IVRS_IVHD_40) {
			if (blen < IVRS_IVHD_MIN_LENGTH) {
				format_buf(err, errlen, "IVRS: IVHD at offset %zu is %u bytes, expected "
					   "at least %u", off, blen, IVRS_IVHD_MIN_LENGTH);
				return -1;
			}
			uint64_t base = le64(b + IVRS_IVHD_BASE);
			if (!base || (base & (AMDVI_MMIO_SIZE - 1))) {
				format_buf(err, errlen, "IVRS: IVHD at offset %zu has IOMMU base %#llx",
					   off, (unsigned long long)base);
				return -1;
			}
			uint32_t i = 0;
			while (i < out->nr_units && out->units[i].reg_base != base)
				i++;
			if (i == out->nr_units) {   /* a new IOMMU, not one more view of one */
				if (i == IVRS_MAX_UNITS) {
					format_buf(err, errlen, "IVRS: more than %u IOMMUs", IVRS_MAX_UNITS);
					return -1;
				}
				out->units[i].reg_base = base;
				out->units[i].segment = (uint16_t)le16(b + IVRS_IVHD_SEGMENT);
				out->units[i].device_id = (uint16_t)le16(b + IVRS_IVHD_DEVICE_ID);
				out->nr_units++;
			}
		}
		off += blen;
	}
	if (!out->nr_units) {
		format_buf(err, errlen, "IVRS lists no IOMMU (IVHD)");
		return -1;
	}
	return 0;
}
