#include "core/options.h"

#include "core/format.h"
#include "core/trace.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool word_is(const char *w, size_t len, const char *lit)
{
	size_t i = 0;
	for (; i < len && lit[i]; i++)
		if (w[i] != lit[i])
			return false;
	return i == len && lit[i] == 0;
}

static int parse_uint(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int options_parse(const char *cmdline, struct nestbed_options *out, char *err, size_t errlen)
{
	out->selftest = false;
	out->quiet = false;
	out->trace = false;
	out->trace_kinds = TRACE_ALL_KINDS;
	out->nested = true;
	out->require_iommu = false;
	out->viommu = false;
	out->marks = false;
	out->heap_mib = OPTIONS_DEFAULT_HEAP_MIB;
	const char *p = cmdline ? cmdline : "";
	while (*p) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && !is_blank(*p))
			p++;
		size_t len = (size_t)(p - w);
		const char *eq = w;
		while (eq < p && *eq != '=')
			eq++;
		if (word_is(w, len, "selftest")) {
			out->selftest = true;
		} else if (word_is(w, len, "quiet")) {
			out->quiet = true;
		} else if (word_is(w, len, "trace")) {
			out->trace = true;
		} else if (eq < p && word_is(w, (size_t)(eq - w), "trace")) {
			char why[160];
			if (trace_parse_kinds(eq + 1, (size_t)(p - eq - 1), &out->trace_kinds, why,
					      sizeof(why))) {
				format_buf(err, errlen, "trace=%.*s: %s", (int)(p - eq - 1), eq + 1, why);
				return -1;
			}
			out->trace = true;
		} else if (word_is(w, len, "require-iommu")) {
			out->require_iommu = true;
		} else if (word_is(w, len, "viommu")) {
			out->viommu = true;
		} else if (word_is(w, len, "marks")) {
			out->marks = true;
		} else if (eq < p && word_is(w, (size_t)(eq - w), "heap")) {
			uint32_t mib;
			if (parse_uint(eq + 1, (size_t)(p - eq - 1), &mib) || mib == 0 ||
			    mib > OPTIONS_MAX_HEAP_MIB) {
				format_buf(err, errlen, "heap=%.*s: want MiB from 1 to %u",
					   (int)(p - eq - 1), eq + 1, OPTIONS_MAX_HEAP_MIB);
				return -1;
			}
			out->heap_mib = mib;
		} else if (eq < p && word_is(w, (size_t)(eq - w), "nested")) {
			if (word_is(eq + 1, (size_t)(p - eq - 1), "0"))
				out->nested = false;
			else if (word_is(eq + 1, (size_t)(p - eq - 1), "1"))
				out->nested = true;
			else {
				format_buf(err, errlen, "nested=%.*s: want 0 or 1", (int)(p - eq - 1), eq + 1);
				return -1;
			}
		} else {
			format_buf(err, errlen, "unknown option '%.*s' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)",
				   (int)len, w);
			return -1;
		}
	}
	return 0;
}

const char *cmdline_split_first(const char *s, char *name, size_t namelen)
{
	while (is_blank(*s))
		s++;
	const char *w = s;
	while (*s && !is_blank(*s))
		s++;
	if (name && namelen) {
		const char *base = w;
		for (const char *c = w; c < s; c++)
			if (*c == '/' || *c == '\\')
				base = c + 1;
		size_t n = (size_t)(s - base);
		if (n >= namelen)
			n = namelen - 1;
		for (size_t i = 0; i < n; i++)
			name[i] = base[i];
		name[n] = 0;
	}
	while (is_blank(*s))
		s++;
	return s;
}

const char *cmdline_skip_image_path(const char *s)
{
	const char *p = s;
	while (is_blank(*p))
		p++;
	for (const char *c = p; *c && !is_blank(*c); c++)
		if (*c == '/' || *c == '\\' || *c == '.')
			return cmdline_split_first(p, NULL, 0);
	return p;
}
