// SPDX-License-Identifier: MIT
/* The topology format: defaults, every key, every error message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <spapr_tce/topology.h>

#include "common/alloc.h"

static void default_topology(void **state)
{
	struct stce_topology *t = NULL;
	const struct stce_device_desc *d;

	(void)state;
	assert_int_equal(stce_topology_default(&t), 0);
	assert_int_equal(t->host_page_shift, 16);
	assert_int_equal(t->nr_phbs, 1);
	assert_int_equal(t->nr_pes, 2);
	assert_int_equal(t->nr_devices, 2);
	for (unsigned int i = 0; i < 2; i++) {
		struct stce_pe_caps c;

		stce_pe_caps_default(&c);
		assert_int_equal(t->pes[i].group, i);
		assert_int_equal(t->pes[i].phb, 0);
		assert_int_equal(t->pes[i].caps.pgsizes, c.pgsizes);
		assert_int_equal(t->pes[i].caps.ddw_base, c.ddw_base);
		assert_int_equal(t->pes[i].caps.dma32_size, c.dma32_size);
		assert_true(t->pes[i].caps.refuse_16m);
	}
	d = stce_topology_find_device(t, "0030:02:00.0");
	assert_non_null(d);
	assert_int_equal(d->group, 1);
	assert_int_equal(d->domain, 0x30);
	assert_int_equal(d->bus, 2);
	assert_int_equal(d->slot, 0);
	assert_int_equal(d->vendor_id, STCE_DMATEST_VENDOR);
	assert_int_equal(d->device_id, STCE_DMATEST_DEVICE);
	assert_null(stce_topology_find_device(t, "0000:00:00.0"));	/* not the PC host bridge */
	assert_null(stce_topology_find_device(t, "junk"));
	assert_non_null(stce_topology_find_pe(t, 0));
	assert_null(stce_topology_find_pe(t, 2));
	stce_topology_free(t);

	stce_fault_arm(STCE_FAULT_ALLOC, 1);
	assert_int_equal(stce_topology_default(&t), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 1);
	assert_int_equal(stce_topology_parse("phb 0\npe 0\n", &t, NULL, 0), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
}

static void assert_same_topology(const struct stce_topology *a,
				 const struct stce_topology *b)
{
	assert_int_equal(a->host_page_shift, b->host_page_shift);
	assert_int_equal(a->nr_phbs, b->nr_phbs);
	assert_int_equal(a->nr_pes, b->nr_pes);
	assert_int_equal(a->nr_devices, b->nr_devices);
	for (unsigned int i = 0; i < a->nr_phbs; i++)
		assert_int_equal(a->phbs[i].index, b->phbs[i].index);
	for (unsigned int i = 0; i < a->nr_pes; i++) {
		const struct stce_pe_caps *x = &a->pes[i].caps, *y = &b->pes[i].caps;

		assert_int_equal(a->pes[i].group, b->pes[i].group);
		assert_int_equal(a->pes[i].phb, b->pes[i].phb);
		assert_int_equal(x->pgsizes, y->pgsizes);
		assert_int_equal(x->max_windows, y->max_windows);
		assert_int_equal(x->max_levels, y->max_levels);
		assert_int_equal(x->dma32_start, y->dma32_start);
		assert_int_equal(x->dma32_size, y->dma32_size);
		assert_int_equal(x->dma32_page_shift, y->dma32_page_shift);
		assert_int_equal(x->ddw_base, y->ddw_base);
		assert_int_equal(x->host_page_shift, y->host_page_shift);
		assert_int_equal(x->refuse_16m, y->refuse_16m);
	}
	for (unsigned int i = 0; i < a->nr_devices; i++) {
		const struct stce_device_desc *x = &a->devices[i], *y = &b->devices[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->domain, y->domain);
		assert_int_equal(x->bus, y->bus);
		assert_int_equal(x->slot, y->slot);
		assert_int_equal(x->function, y->function);
		assert_int_equal(x->vendor_id, y->vendor_id);
		assert_int_equal(x->device_id, y->device_id);
		assert_int_equal(x->group, y->group);
	}
}

static const char full[] =
	"# two PHBs\n"
	"host_page 4K\n"
	"phb 0\n"
	"phb 3   # trailing comment\n"
	"\n"
	"pe 5 phb=0 pgsizes=4K,64K max_windows=1 max_levels=3 \\\n"
	"pe 6 pgsizes=0x1001000 dma32_start=1G dma32_size=1G dma32_page=64K "
	"ddw_base=0x100000000000 refuse_16m=no\n"
	"\tdevice 0001:02:1f.7 pe=6 vendor=0x1234 device=0xabcd\r\n"
	"device 0000:00:00.0 pe=5";

static void parse_every_key(void **state)
{
	struct stce_topology *t = NULL, *again = NULL;
	const struct stce_topo_pe *pe;
	const struct stce_device_desc *d;
	char err[256] = "x", *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* The backslash is not a continuation: it is a bad word. */
	assert_int_equal(stce_topology_parse(full, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 6: expected key=value, got '\\'");

	const char *fixed = "host_page 4K\nphb 0\nphb 3 # c\n\n"
		"pe 5 phb=0 pgsizes=4K,64K max_windows=1 max_levels=3\n"
		"pe 6 pgsizes=0x1001000 dma32_start=1G dma32_size=1G dma32_page=64K "
		"ddw_base=0x100000000000 refuse_16m=no\n"
		"\tdevice 0001:02:1F.7 pe=6 vendor=0x1234 device=0xabcd\r\n"
		"device 0000:00:00.0 pe=5";
	assert_int_equal(stce_topology_parse(fixed, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(t->host_page_shift, 12);
	assert_int_equal(t->nr_phbs, 2);
	assert_int_equal(t->phbs[1].index, 3);
	pe = stce_topology_find_pe(t, 5);
	assert_int_equal(pe->phb, 0);
	assert_int_equal(pe->caps.pgsizes, 0x11000);
	assert_int_equal(pe->caps.max_windows, 1);
	assert_int_equal(pe->caps.max_levels, 3);
	/* A pe line does not take the host page: the platform applies the
	 * topology's, in one place (tests/device platform_host_page). */
	assert_int_equal(pe->caps.host_page_shift, 16);
	assert_int_equal(pe->line, 5);
	pe = stce_topology_find_pe(t, 6);
	assert_int_equal(pe->phb, 3);	/* the last phb declared */
	assert_int_equal(pe->caps.pgsizes, 0x1001000);
	assert_int_equal(pe->caps.dma32_start, 1ULL << 30);
	assert_int_equal(pe->caps.dma32_size, 1ULL << 30);
	assert_int_equal(pe->caps.dma32_page_shift, 16);
	assert_int_equal(pe->caps.ddw_base, 0x100000000000ULL);
	assert_false(pe->caps.refuse_16m);
	d = stce_topology_find_device(t, "0001:02:1f.7");
	assert_non_null(d);
	assert_string_equal(d->name, "0001:02:1f.7");
	assert_int_equal(d->domain, 1);
	assert_int_equal(d->bus, 2);
	assert_int_equal(d->slot, 0x1f);
	assert_int_equal(d->function, 7);
	assert_int_equal(d->vendor_id, 0x1234);
	assert_int_equal(d->device_id, 0xabcd);
	assert_int_equal(d->group, 6);

	/* Written out, it parses back to the same thing. */
	f = open_memstream(&text, &len);
	stce_topology_write(t, f);
	fclose(f);
	assert_int_equal(stce_topology_parse(text, &again, err, sizeof(err)), 0);
	assert_same_topology(t, again);
	free(text);
	stce_topology_free(again);
	stce_topology_free(t);
}

static void every_error_message(void **state)
{
	static char long_line[STCE_TOPO_MAX_LINE + 8];
	static char many_words[200];
	static const struct { const char *text, *msg; } bad[] = {
		{ "", "line 1: end of input: no pe declared" },
		{ "# nothing\nphb 0\n", "line 3: end of input: no pe declared" },
		{ "bus 0", "line 1: unknown object 'bus' (expected host_page, phb, pe or device)" },
		{ "host_page", "line 1: host_page needs a size" },
		{ "host_page 64K x", "line 1: unexpected 'x' after host_page" },
		{ "host_page 64K\nhost_page 64K", "line 2: host_page given twice" },
		{ "phb 0\npe 0\nhost_page 4K", "line 3: host_page must come before the first pe" },
		{ "host_page 8K", "line 1: host_page must be 4K or 64K, got '8K'" },
		{ "host_page big", "line 1: host_page must be 4K or 64K, got 'big'" },
		{ "phb", "line 1: phb needs a number" },
		{ "phb x", "line 1: bad phb number 'x'" },
		{ "phb 0x100000000", "line 1: bad phb number '0x100000000'" },
		{ "phb 1 fast", "line 1: unexpected 'fast' after phb 1" },
		{ "phb 1\nphb 1", "line 2: phb 1 declared twice" },
		{ "pe", "line 1: pe needs a group number" },
		{ "phb 0\npe -1", "line 2: bad pe group number '-1'" },
		{ "pe 0", "line 1: pe 0 before any phb" },
		{ "phb 0\npe 0\npe 0", "line 3: pe 0 declared twice" },
		{ "phb 0\npe 0 levels=2", "line 2: unknown key 'levels' for pe" },
		{ "phb 0\npe 0 max_levels", "line 2: expected key=value, got 'max_levels'" },
		{ "phb 0\npe 0 =2", "line 2: expected key=value, got '=2'" },
		{ "phb 0\npe 0 max_levels=2 max_levels=3", "line 2: key 'max_levels' given twice" },
		{ "phb 0\npe 0 phb=1", "line 2: pe 0: phb 1 not declared" },
		{ "phb 0\npe 0 phb=x", "line 2: bad value 'x' for phb" },
		{ "phb 0\npe 0 pgsizes=8K", "line 2: bad value '8K' for pgsizes" },
		{ "phb 0\npe 0 pgsizes=4K,,64K", "line 2: bad value '4K,,64K' for pgsizes" },
		{ "phb 0\npe 0 pgsizes=0", "line 2: bad value '0' for pgsizes" },
		{ "phb 0\npe 0 max_windows=9999999999", "line 2: bad value '9999999999' for max_windows" },
		{ "phb 0\npe 0 dma32_page=8K", "line 2: bad value '8K' for dma32_page" },
		{ "phb 0\npe 0 dma32_size=lots", "line 2: bad value 'lots' for dma32_size" },
		{ "phb 0\npe 0 refuse_16m=maybe", "line 2: bad value 'maybe' for refuse_16m" },
		{ "phb 0\npe 0 max_windows=3", "line 2: pe 0: max_windows must be 1 or 2" },
		{ "phb 0\npe 0 max_windows=0", "line 2: pe 0: max_windows must be 1 or 2" },
		{ "phb 0\npe 0 max_levels=6", "line 2: pe 0: max_levels must be 1..5" },
		{ "phb 0\npe 0 dma32_size=3G", "line 2: pe 0: dma32_size must be a power of two of at least one dma32_page" },
		{ "phb 0\npe 0 dma32_start=0x800", "line 2: pe 0: dma32_start must be aligned to dma32_page" },
		{ "phb 0\npe 0 ddw_base=0x1000000001000", "line 2: pe 0: ddw_base must be aligned to the largest page size" },
		{ "phb 0\npe 0 ddw_base=1G", "line 2: pe 0: the dma32 window runs into ddw_base" },
		{ "phb 0\npe 0 dma32_size=32P ddw_base=64P", "line 2: pe 0: no TCE table can hold the dma32 window" },
		{ "phb 0\npe 0\ndevice", "line 3: device needs a PCI address" },
		{ "phb 0\npe 0\ndevice 00:00.0 pe=0", "line 3: bad PCI address '00:00.0' (expected dddd:bb:dd.f)" },
		{ "phb 0\npe 0\ndevice 0000:00:20.0 pe=0", "line 3: bad PCI address '0000:00:20.0' (expected dddd:bb:dd.f)" },
		{ "phb 0\npe 0\ndevice 0000:00:00.8 pe=0", "line 3: bad PCI address '0000:00:00.8' (expected dddd:bb:dd.f)" },
		{ "phb 0\npe 0\ndevice 0000:0g:00.0 pe=0", "line 3: bad PCI address '0000:0g:00.0' (expected dddd:bb:dd.f)" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0", "line 3: device 0000:00:00.0 needs pe=<group>" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0 pe=1", "line 3: device 0000:00:00.0: pe 1 not declared" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0 pe=0 vendor=0x10000", "line 3: bad value '0x10000' for vendor" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0 pe=0 device=x", "line 3: bad value 'x' for device" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0 pe=0 irq=1", "line 3: unknown key 'irq' for device" },
		{ "phb 0\npe 0\ndevice 0000:00:00.0 pe=0\ndevice 0000:00:00.0 pe=0",
		  "line 4: device 0000:00:00.0 declared twice" },
		{ long_line, "line 2: line too long (at most 1024 bytes)" },
		{ many_words, "line 1: too many words (at most 32)" },
	};
	char err[256];

	(void)state;
	strcpy(long_line, "phb 0\n");
	memset(long_line + 6, '#', STCE_TOPO_MAX_LINE + 1);
	strcpy(many_words, "phb 0");
	for (int i = 0; i < 32; i++)
		strcat(many_words, " x");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct stce_topology *t = NULL;

		assert_int_equal(stce_topology_parse(bad[i].text, &t, err,
						     sizeof(err)), -EINVAL);
		assert_null(t);
		if (strcmp(err, bad[i].msg))
			fail_msg("input %zu: got \"%s\", want \"%s\"", i, err,
				 bad[i].msg);
		/* No buffer, a tiny one: still refused, no overflow. */
		assert_int_equal(stce_topology_parse(bad[i].text, &t, NULL, 0), -EINVAL);
		assert_int_equal(stce_topology_parse(bad[i].text, &t, err, 4), -EINVAL);
		assert_int_equal(strlen(err), 3);
	}
}

static void limits(void **state)
{
	struct stce_topology *t = NULL;
	char err[256], *text = malloc(64 * 1024);

	(void)state;
	text[0] = '\0';
	for (int i = 0; i <= STCE_TOPO_MAX_PHBS; i++)
		sprintf(text + strlen(text), "phb %d\n", i);
	assert_int_equal(stce_topology_parse(text, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 17: too many phbs (at most 16)");
	strcpy(text, "phb 0\n");
	for (int i = 0; i <= STCE_TOPO_MAX_PES; i++)
		sprintf(text + strlen(text), "pe %d\n", i);
	assert_int_equal(stce_topology_parse(text, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 66: too many pes (at most 64)");
	strcpy(text, "phb 0\npe 0\n");
	for (int i = 0; i <= STCE_TOPO_MAX_DEVICES; i++)
		sprintf(text + strlen(text), "device 0000:%02x:%02x.%d pe=0\n",
			i / 32, (i / 8) % 4, i % 8);
	assert_int_equal(stce_topology_parse(text, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 259: too many devices (at most 256)");
	free(text);
}

static void load_and_env(void **state)
{
	char path[] = "/tmp/stce-topo-XXXXXX", err[512], want[600];
	struct stce_topology *t = NULL;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("phb 0\npe 9\ndevice 0000:00:00.0 pe=9\n", f);
	fclose(f);
	assert_int_equal(stce_topology_load(path, &t, err, sizeof(err)), 0);
	assert_int_equal(t->pes[0].group, 9);
	stce_topology_free(t);

	setenv(STCE_TOPOLOGY_ENV, path, 1);
	assert_int_equal(stce_topology_from_env(&t, err, sizeof(err)), 0);
	assert_int_equal(t->nr_pes, 1);
	stce_topology_free(t);
	setenv(STCE_TOPOLOGY_ENV, "", 1);
	assert_int_equal(stce_topology_from_env(&t, err, sizeof(err)), 0);
	assert_int_equal(t->nr_pes, 2);
	stce_topology_free(t);
	unsetenv(STCE_TOPOLOGY_ENV);

	f = fopen(path, "w");
	fputs("phb 0\npe 9 max_levels=0\n", f);
	fclose(f);
	assert_int_equal(stce_topology_load(path, &t, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: line 2: pe 9: max_levels must be 1..5", path);
	assert_string_equal(err, want);

	f = fopen(path, "w");
	fwrite("phb 0\n\0pe 0\n", 1, 12, f);
	fclose(f);
	assert_int_equal(stce_topology_load(path, &t, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: NUL byte in file", path);
	assert_string_equal(err, want);

	unlink(path);
	assert_int_equal(stce_topology_load(path, &t, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	setenv(STCE_TOPOLOGY_ENV, path, 1);
	assert_int_equal(stce_topology_from_env(&t, err, sizeof(err)), -ENOENT);
	unsetenv(STCE_TOPOLOGY_ENV);
}

static void pci_addresses(void **state)
{
	uint16_t dom;
	uint8_t bus, slot, fn;

	(void)state;
	assert_int_equal(stce_pci_addr_parse("ffff:ff:1f.7", &dom, &bus, &slot, &fn), 0);
	assert_int_equal(dom, 0xffff);
	assert_int_equal(bus, 0xff);
	assert_int_equal(slot, 0x1f);
	assert_int_equal(fn, 7);
	assert_int_equal(stce_pci_addr_parse("0000:00:00.0 ", &dom, &bus, &slot, &fn), -EINVAL);
	assert_int_equal(stce_pci_addr_parse("0000-00:00.0", &dom, &bus, &slot, &fn), -EINVAL);
	assert_int_equal(stce_pci_addr_parse("+000:00:00.0", &dom, &bus, &slot, &fn), -EINVAL);
	assert_int_equal(stce_pci_addr_parse("", &dom, &bus, &slot, &fn), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_topology),
		cmocka_unit_test(parse_every_key),
		cmocka_unit_test(every_error_message),
		cmocka_unit_test(limits),
		cmocka_unit_test(load_and_env),
		cmocka_unit_test(pci_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
