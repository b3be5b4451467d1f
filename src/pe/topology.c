// SPDX-License-Identifier: MIT
/*
 * The topology text format: one object a line (host_page, phb, pe,
 * device), whitespace-separated words, key=value options. See
 * docs/topology.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/size.h>
#include <spapr_tce/topology.h>

#include "common/alloc.h"
#include "common/common.h"

#define MAX_WORDS	32

struct parser {
	struct stce_topology *topo;
	unsigned int line;
	bool host_page_seen;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u64(const char *text, uint64_t *out)
{
	return stce_parse_size(text, out);
}

static int parse_uint(const char *text, uint64_t max, unsigned int *out)
{
	uint64_t v;

	if (stce_parse_size(text, &v) || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* A page size given as a size ("64K") or a mask of sizes ("0x40211000"):
 * one bit set is the same thing either way. A list joins with commas. */
static int parse_pgsizes(const char *text, uint64_t *out)
{
	char buf[STCE_TOPO_MAX_LINE];
	uint64_t mask = 0;
	char *item = buf;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	for (;;) {
		char *comma = strchr(item, ',');
		uint64_t v;

		if (comma)
			*comma = '\0';
		if (stce_parse_size(item, &v) || !v)
			return -EINVAL;	/* empty items included */
		mask |= v;
		if (!comma)
			break;
		item = comma + 1;
	}
	if (mask & ~STCE_PAGE_SHIFTS_MASK)
		return -EINVAL;
	*out = mask;
	return 0;
}

static int parse_page_shift(const char *text, unsigned int *out)
{
	uint64_t v;

	if (stce_parse_size(text, &v) || !stce_is_pow2(v) ||
	    !stce_page_shift_supported(stce_ilog2(v)))
		return -EINVAL;
	*out = stce_ilog2(v);
	return 0;
}

static int parse_bool(const char *text, bool *out)
{
	if (!strcmp(text, "yes") || !strcmp(text, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(text, "no") || !strcmp(text, "0")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

int stce_pci_addr_parse(const char *text, uint16_t *domain, uint8_t *bus,
			uint8_t *slot, uint8_t *function)
{
	unsigned int d, b, s, f;
	int end = -1;

	if (strlen(text) != 12 ||
	    sscanf(text, "%4x:%2x:%2x.%1x%n", &d, &b, &s, &f, &end) != 4 ||
	    end != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.')
		return -EINVAL;
	for (int i = 0; i < 12; i++)
		if (i != 4 && i != 7 && i != 10 &&
		    !strchr("0123456789abcdefABCDEF", text[i]))
			return -EINVAL;
	if (s >= 0x20 || f >= 8)
		return -EINVAL;
	*domain = (uint16_t)d;
	*bus = (uint8_t)b;
	*slot = (uint8_t)s;
	*function = (uint8_t)f;
	return 0;
}

static struct stce_topo_phb *find_phb(struct stce_topology *t,
				      unsigned int index)
{
	for (unsigned int i = 0; i < t->nr_phbs; i++)
		if (t->phbs[i].index == index)
			return &t->phbs[i];
	return NULL;
}

const struct stce_topo_pe *stce_topology_find_pe(
	const struct stce_topology *t, unsigned int group)
{
	for (unsigned int i = 0; i < t->nr_pes; i++)
		if (t->pes[i].group == group)
			return &t->pes[i];
	return NULL;
}

const struct stce_topo_device *stce_topology_find_device(
	const struct stce_topology *t, const char *name)
{
	uint16_t domain;
	uint8_t bus, slot, fn;

	if (stce_pci_addr_parse(name, &domain, &bus, &slot, &fn))
		return NULL;
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		const struct stce_topo_device *d = &t->devices[i];

		if (d->domain == domain && d->bus == bus && d->slot == slot &&
		    d->function == fn)
			return d;
	}
	return NULL;
}

/* Split "key=value"; NULL value when there is no '='. */
static char *split_kv(char *word)
{
	char *eq = strchr(word, '=');

	if (!eq || eq == word)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

/* Each key of an object at most once: @seen is a bitmask over @keys. */
static int key_index(const char *const *keys, const char *key)
{
	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return i;
	return -1;
}

static int check_kv(struct parser *p, const char *object,
		    const char *const *keys, char *word, char **value,
		    int *index, unsigned int *seen)
{
	*value = split_kv(word);
	if (!*value)
		return fail(p, "expected key=value, got '%s'", word);
	*index = key_index(keys, word);
	if (*index < 0)
		return fail(p, "unknown key '%s' for %s", word, object);
	if (*seen & (1u << *index))
		return fail(p, "key '%s' given twice", word);
	*seen |= 1u << *index;
	return 0;
}

static int parse_host_page(struct parser *p, char **w, int n)
{
	uint64_t v;

	if (n < 2)
		return fail(p, "host_page needs a size");
	if (n > 2)
		return fail(p, "unexpected '%s' after host_page", w[2]);
	if (p->host_page_seen)
		return fail(p, "host_page given twice");
	if (p->topo->nr_pes)
		return fail(p, "host_page must come before the first pe");
	if (stce_parse_size(w[1], &v) || (v != 4096 && v != 65536))
		return fail(p, "host_page must be 4K or 64K, got '%s'", w[1]);
	p->topo->host_page_shift = stce_ilog2(v);
	p->host_page_seen = true;
	return 0;
}

static int parse_phb(struct parser *p, char **w, int n)
{
	struct stce_topology *t = p->topo;
	unsigned int index;

	if (n < 2)
		return fail(p, "phb needs a number");
	if (parse_uint(w[1], UINT32_MAX, &index))
		return fail(p, "bad phb number '%s'", w[1]);
	if (n > 2)
		return fail(p, "unexpected '%s' after phb %u", w[2], index);
	if (find_phb(t, index))
		return fail(p, "phb %u declared twice", index);
	if (t->nr_phbs == STCE_TOPO_MAX_PHBS)
		return fail(p, "too many phbs (at most %d)", STCE_TOPO_MAX_PHBS);
	t->phbs[t->nr_phbs++].index = index;
	return 0;
}

static const char *const pe_keys[] = {
	"phb", "pgsizes", "max_windows", "max_levels", "dma32_start",
	"dma32_size", "dma32_page", "ddw_base", "refuse_16m", NULL,
};

static int pe_option(struct stce_topo_pe *pe, int key, const char *v)
{
	struct stce_pe_caps *c = &pe->caps;

	switch (key) {
	case 0: return parse_uint(v, UINT32_MAX, &pe->phb);
	case 1: return parse_pgsizes(v, &c->pgsizes);
	case 2: return parse_uint(v, UINT32_MAX, &c->max_windows);
	case 3: return parse_uint(v, UINT32_MAX, &c->max_levels);
	case 4: return parse_u64(v, &c->dma32_start);
	case 5: return parse_u64(v, &c->dma32_size);
	case 6: return parse_page_shift(v, &c->dma32_page_shift);
	case 7: return parse_u64(v, &c->ddw_base);
	default: return parse_bool(v, &c->refuse_16m);
	}
}

static int parse_pe(struct parser *p, char **w, int n)
{
	struct stce_topology *t = p->topo;
	struct stce_topo_pe pe = { 0 };
	unsigned int seen = 0;
	const char *problem;

	if (n < 2)
		return fail(p, "pe needs a group number");
	if (parse_uint(w[1], UINT32_MAX, &pe.group))
		return fail(p, "bad pe group number '%s'", w[1]);
	if (stce_topology_find_pe(t, pe.group))
		return fail(p, "pe %u declared twice", pe.group);
	if (t->nr_pes == STCE_TOPO_MAX_PES)
		return fail(p, "too many pes (at most %d)", STCE_TOPO_MAX_PES);
	stce_pe_caps_default(&pe.caps);
	pe.caps.host_page_shift = t->host_page_shift;
	pe.line = p->line;
	if (!t->nr_phbs)
		return fail(p, "pe %u before any phb", pe.group);
	pe.phb = t->phbs[t->nr_phbs - 1].index;
	for (int i = 2; i < n; i++) {
		char *value;
		int key, ret;

		ret = check_kv(p, "pe", pe_keys, w[i], &value, &key, &seen);
		if (ret)
			return ret;
		if (pe_option(&pe, key, value))
			return fail(p, "bad value '%s' for %s", value, w[i]);
	}
	if (!find_phb(t, pe.phb))
		return fail(p, "pe %u: phb %u not declared", pe.group, pe.phb);
	problem = stce_pe_caps_problem(&pe.caps);
	if (problem)
		return fail(p, "pe %u: %s", pe.group, problem);
	t->pes[t->nr_pes++] = pe;
	return 0;
}

static const char *const device_keys[] = { "pe", "vendor", "device", NULL };

static int parse_device(struct parser *p, char **w, int n)
{
	struct stce_topology *t = p->topo;
	struct stce_topo_device d = { 0 };
	unsigned int seen = 0, v;

	if (n < 2)
		return fail(p, "device needs a PCI address");
	if (stce_pci_addr_parse(w[1], &d.domain, &d.bus, &d.slot, &d.function))
		return fail(p, "bad PCI address '%s' (expected dddd:bb:dd.f)",
			    w[1]);
	snprintf(d.name, sizeof(d.name), "%04x:%02x:%02x.%x", d.domain, d.bus,
		 d.slot, d.function);
	if (stce_topology_find_device(t, d.name))
		return fail(p, "device %s declared twice", d.name);
	if (t->nr_devices == STCE_TOPO_MAX_DEVICES)
		return fail(p, "too many devices (at most %d)",
			    STCE_TOPO_MAX_DEVICES);
	d.vendor_id = STCE_DMATEST_VENDOR;
	d.device_id = STCE_DMATEST_DEVICE;
	for (int i = 2; i < n; i++) {
		char *value;
		int key, ret;

		ret = check_kv(p, "device", device_keys, w[i], &value, &key,
			       &seen);
		if (ret)
			return ret;
		if (parse_uint(value, key ? 0xffff : UINT32_MAX, &v))
			return fail(p, "bad value '%s' for %s", value, w[i]);
		if (key == 0)
			d.group = v;
		else if (key == 1)
			d.vendor_id = (uint16_t)v;
		else
			d.device_id = (uint16_t)v;
	}
	if (!(seen & 1))
		return fail(p, "device %s needs pe=<group>", d.name);
	if (!stce_topology_find_pe(t, d.group))
		return fail(p, "device %s: pe %u not declared", d.name, d.group);
	t->devices[t->nr_devices++] = d;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *w[MAX_WORDS], *save, *word;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	for (word = strtok_r(line, " \t\r", &save); word;
	     word = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_WORDS)
			return fail(p, "too many words (at most %d)", MAX_WORDS);
		w[n++] = word;
	}
	if (!n)
		return 0;
	if (!strcmp(w[0], "host_page"))
		return parse_host_page(p, w, n);
	if (!strcmp(w[0], "phb"))
		return parse_phb(p, w, n);
	if (!strcmp(w[0], "pe"))
		return parse_pe(p, w, n);
	if (!strcmp(w[0], "device"))
		return parse_device(p, w, n);
	return fail(p, "unknown object '%s' (expected host_page, phb, pe or device)",
		    w[0]);
}

int stce_topology_parse(const char *text, struct stce_topology **out,
			char *err, size_t errlen)
{
	struct parser p = { .err = err, .errlen = errlen };
	char line[STCE_TOPO_MAX_LINE + 1];
	const char *s = text;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	p.topo = stce_zalloc(sizeof(*p.topo));
	if (!p.topo)
		return -ENOMEM;
	p.topo->host_page_shift = STCE_HOST_PAGE_SHIFT_DEFAULT;
	while (*s) {
		size_t len = strcspn(s, "\n");

		p.line++;
		if (len > STCE_TOPO_MAX_LINE) {
			ret = fail(&p, "line too long (at most %d bytes)",
				   STCE_TOPO_MAX_LINE);
			goto err;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		if (strlen(line) != len) {
			ret = fail(&p, "NUL byte in line");
			goto err;
		}
		ret = parse_line(&p, line);
		if (ret)
			goto err;
		s += len;
		if (*s == '\n')
			s++;
	}
	if (!p.topo->nr_pes) {
		p.line++;
		ret = fail(&p, "end of input: no pe declared");
		goto err;
	}
	*out = p.topo;
	return 0;
err:
	stce_free(p.topo);
	return ret;
}

int stce_topology_load(const char *path, struct stce_topology **out,
		       char *err, size_t errlen)
{
	char *text = NULL, msg[256];
	size_t cap = 0, len = 0;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	for (;;) {
		size_t n;

		if (len + 4096 + 1 > cap) {
			char *bigger = realloc(text, cap + 65536);

			if (!bigger) {
				ret = -ENOMEM;
				goto out;
			}
			text = bigger;
			cap += 65536;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		ret = -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		ret = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: NUL byte in file", path);
		goto out;
	}
	ret = stce_topology_parse(text, out, msg, sizeof(msg));
	if (ret && err && errlen)
		snprintf(err, errlen, "%s: %s", path, msg);
out:
	free(text);
	fclose(f);
	return ret;
}

int stce_topology_from_env(struct stce_topology **out, char *err,
			   size_t errlen)
{
	const char *path = getenv(STCE_TOPOLOGY_ENV);

	if (path && *path)
		return stce_topology_load(path, out, err, errlen);
	return stce_topology_default(out);
}

int stce_topology_default(struct stce_topology **out)
{
	struct stce_topology *t = stce_zalloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->host_page_shift = STCE_HOST_PAGE_SHIFT_DEFAULT;
	t->nr_phbs = 1;
	t->phbs[0].index = 0;
	t->nr_pes = 2;
	t->nr_devices = 2;
	for (unsigned int i = 0; i < 2; i++) {
		struct stce_topo_device *d = &t->devices[i];

		t->pes[i].group = i;
		t->pes[i].phb = 0;
		stce_pe_caps_default(&t->pes[i].caps);
		/* POWER-like addresses no x86 host has: chip 8's first PHB
		 * (domain 0030), one bus a PE below its root port. */
		d->domain = 0x0030;
		d->bus = (uint8_t)(i + 1);
		snprintf(d->name, sizeof(d->name), "0030:%02x:00.0", i + 1);
		d->vendor_id = STCE_DMATEST_VENDOR;
		d->device_id = STCE_DMATEST_DEVICE;
		d->group = i;
	}
	*out = t;
	return 0;
}

void stce_topology_free(struct stce_topology *t)
{
	stce_free(t);
}

void stce_topology_write(const struct stce_topology *t, FILE *f)
{
	char b1[32], b2[32];

	fprintf(f, "host_page %s\n",
		stce_format_size(1ULL << t->host_page_shift, b1, sizeof(b1)));
	for (unsigned int i = 0; i < t->nr_phbs; i++)
		fprintf(f, "phb %u\n", t->phbs[i].index);
	for (unsigned int i = 0; i < t->nr_pes; i++) {
		const struct stce_topo_pe *pe = &t->pes[i];
		const struct stce_pe_caps *c = &pe->caps;

		fprintf(f, "pe %u phb=%u pgsizes=0x%llx max_windows=%u "
			"max_levels=%u dma32_start=0x%llx dma32_size=%s "
			"dma32_page=%s ddw_base=0x%llx refuse_16m=%s\n",
			pe->group, pe->phb, (unsigned long long)c->pgsizes,
			c->max_windows, c->max_levels,
			(unsigned long long)c->dma32_start,
			stce_format_size(c->dma32_size, b1, sizeof(b1)),
			stce_format_size(1ULL << c->dma32_page_shift, b2,
					 sizeof(b2)),
			(unsigned long long)c->ddw_base,
			c->refuse_16m ? "yes" : "no");
	}
	for (unsigned int i = 0; i < t->nr_devices; i++) {
		const struct stce_topo_device *d = &t->devices[i];

		fprintf(f, "device %s pe=%u vendor=0x%04x device=0x%04x\n",
			d->name, d->group, d->vendor_id, d->device_id);
	}
}
