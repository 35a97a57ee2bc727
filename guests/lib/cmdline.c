#include "lib/cmdline.h"

#include "core/format.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* The part after the last '/'. */
static const char *base_name(const char *path)
{
	const char *base = path;
	for (; *path; path++)
		if (*path == '/')
			base = path + 1;
	return base;
}

static char *find_char(char *s, char c)
{
	for (; *s; s++)
		if (*s == c)
			return s;
	return NULL;
}

static int classify(struct guest_cmdline *out, char *word, char *error, size_t error_size)
{
	char *equals = find_char(word, '=');
	if (equals) {
		if (equals == word) {
			format_buf(error, error_size, "option '%s' has no key", word);
			return -1;
		}
		if (out->nr_options == CMDLINE_MAX_OPTIONS) {
			format_buf(error, error_size, "more than %d options", CMDLINE_MAX_OPTIONS);
			return -1;
		}
		*equals = '\0';
		out->options[out->nr_options++] = (struct cmdline_option){ word, equals + 1 };
		return 0;
	}
	if (same(word, "list")) {
		out->list = true;
		return 0;
	}
	if (out->nr_globs == CMDLINE_MAX_GLOBS) {
		format_buf(error, error_size, "more than %d probe globs", CMDLINE_MAX_GLOBS);
		return -1;
	}
	out->globs[out->nr_globs++] = word;
	return 0;
}

int cmdline_parse(struct guest_cmdline *out, const char *line, char *error, size_t error_size)
{
	*out = (struct guest_cmdline){ .image = "" };
	if (error_size)
		error[0] = '\0';

	size_t len = 0;
	while (line[len]) {
		if (len == CMDLINE_MAX - 1) {
			format_buf(error, error_size, "longer than %d characters", CMDLINE_MAX - 1);
			return -1;
		}
		out->words[len] = line[len];
		len++;
	}
	out->words[len] = '\0';

	unsigned index = 0;
	char *p = out->words;
	for (;;) {
		while (is_space(*p))
			*p++ = '\0';
		if (!*p)
			return 0;
		char *word = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
		if (index == 0) {
			out->image = word;
		} else if (index == 1 && same(base_name(word), base_name(out->image))) {
			/* QEMU -kernel puts the image's path before the -append text, which
			 * itself starts with the image name: take the pair as one name. */
		} else if (classify(out, word, error, error_size) < 0) {
			return -1;
		}
		index++;
	}
}

static bool value_allowed(const struct cmdline_key *key, const char *value)
{
	if (!key->values)
		return *value != '\0';
	for (const char *const *v = key->values; *v; v++)
		if (same(*v, value))
			return true;
	return false;
}

static void describe_values(const struct cmdline_key *key, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	if (!key->values) {
		format_buf(buf, size, "a non-empty value");
		return;
	}
	for (const char *const *v = key->values; *v && used < size; v++) {
		int n = format_buf(buf + used, size - used, "%s%s", v == key->values ? "" : "|", *v);
		used += (size_t)n;
	}
}

int cmdline_check_options(const struct guest_cmdline *cmd, const struct cmdline_key *known,
			  unsigned nr_known, char *error, size_t error_size)
{
	for (unsigned i = 0; i < cmd->nr_options; i++) {
		const struct cmdline_option *opt = &cmd->options[i];
		const struct cmdline_key *key = NULL;
		for (unsigned k = 0; k < nr_known && !key; k++)
			if (same(known[k].key, opt->key))
				key = &known[k];
		if (!key) {
			char keys[96];
			size_t used = 0;
			keys[0] = '\0';
			for (unsigned k = 0; k < nr_known && used < sizeof(keys); k++)
				used += (size_t)format_buf(keys + used, sizeof(keys) - used, "%s%s",
							   k ? ", " : "", known[k].key);
			format_buf(error, error_size, "unknown option '%s=%s' (known: %s)", opt->key,
				   opt->value, nr_known ? keys : "none");
			return -1;
		}
		if (!value_allowed(key, opt->value)) {
			char values[96];
			describe_values(key, values, sizeof(values));
			format_buf(error, error_size, "bad value '%s=%s' (%s: %s)", opt->key, opt->value,
				   key->help, values);
			return -1;
		}
	}
	return 0;
}

const char *cmdline_option(const struct guest_cmdline *cmd, const char *key,
			   const char *fallback)
{
	const char *value = fallback;
	for (unsigned i = 0; i < cmd->nr_options; i++)
		if (same(cmd->options[i].key, key))
			value = cmd->options[i].value;
	return value;
}
