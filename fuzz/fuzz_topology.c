// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the topology parser. The input is the text as is.
 * A topology that parses must write back (stce_topology_write) to text
 * that parses to the same topology, and a platform must be buildable
 * from it (and torn down without a trace).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/device.h>
#include <spapr_tce/topology.h>

#include "../tests/lib/invariants.h"

static void die(const char *what)
{
	fprintf(stderr, "fuzz_topology: %s\n", what);
	abort();
}

static bool caps_equal(const struct stce_pe_caps *a,
		       const struct stce_pe_caps *b)
{
	return a->pgsizes == b->pgsizes && a->max_windows == b->max_windows &&
	       a->max_levels == b->max_levels &&
	       a->dma32_start == b->dma32_start &&
	       a->dma32_size == b->dma32_size &&
	       a->dma32_page_shift == b->dma32_page_shift &&
	       a->ddw_base == b->ddw_base &&
	       a->host_page_shift == b->host_page_shift &&
	       a->refuse_16m == b->refuse_16m;
}

/* Field by field: the declaring line numbers may differ. */
static const char *topo_diff(const struct stce_topology *a,
			     const struct stce_topology *b)
{
	if (a->host_page_shift != b->host_page_shift)
		return "host_page";
	if (a->nr_phbs != b->nr_phbs || a->nr_pes != b->nr_pes ||
	    a->nr_devices != b->nr_devices)
		return "object counts";
	for (unsigned int i = 0; i < a->nr_phbs; i++)
		if (a->phbs[i].index != b->phbs[i].index)
			return "phb index";
	for (unsigned int i = 0; i < a->nr_pes; i++)
		if (a->pes[i].group != b->pes[i].group ||
		    a->pes[i].phb != b->pes[i].phb ||
		    !caps_equal(&a->pes[i].caps, &b->pes[i].caps))
			return "pe";
	for (unsigned int i = 0; i < a->nr_devices; i++) {
		const struct stce_device_desc *x = &a->devices[i];
		const struct stce_device_desc *y = &b->devices[i];

		if (strcmp(x->name, y->name) || x->domain != y->domain ||
		    x->bus != y->bus || x->slot != y->slot ||
		    x->function != y->function ||
		    x->vendor_id != y->vendor_id ||
		    x->device_id != y->device_id || x->group != y->group)
			return "device";
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stce_topology *topo = NULL, *again = NULL;
	struct stce_platform *plat = NULL;
	char err[256], why[256], *text, *out = NULL;
	size_t out_len = 0;
	const char *diff;
	FILE *f;
	int ret;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	err[0] = 0;
	ret = stce_topology_parse(text, &topo, err, sizeof(err));
	free(text);
	if (ret) {
		if (ret == -EINVAL && !err[0])
			die("refused without a message");
		if (topo)
			die("refused but returned a topology");
		return 0;
	}
	f = open_memstream(&out, &out_len);
	if (!f)
		abort();
	stce_topology_write(topo, f);
	fclose(f);
	ret = stce_topology_parse(out, &again, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "written:\n%s\nrefused: %s\n", out, err);
		die("the written topology does not parse back");
	}
	diff = topo_diff(topo, again);
	if (diff) {
		fprintf(stderr, "written:\n%s\n", out);
		fprintf(stderr, "fuzz_topology: round trip changed the %s\n", diff);
		abort();
	}
	ret = stce_platform_create(topo, &plat);
	if (ret && ret != -ENOMEM) {
		fprintf(stderr, "written:\n%s\nplatform_create: %d\n", out, ret);
		die("a parsed topology cannot be instantiated");
	}
	stce_platform_destroy(plat);
	if (inv_check_teardown(why, sizeof(why)))
		die(why);
	free(out);
	stce_topology_free(topo);
	stce_topology_free(again);
	return 0;
}
