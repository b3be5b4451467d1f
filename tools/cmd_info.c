// SPDX-License-Identifier: MIT
/*
 * spapr-tce info: the emulated machine a program would see (the topology
 * from $SPAPR_TCE_TOPOLOGY or the built-in one), what its IOMMU offers,
 * and what this process may lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include <spapr_tce/account.h>
#include <spapr_tce/device.h>
#include <spapr_tce/size.h>
#include <spapr_tce/table.h>
#include <spapr_tce/topology.h>

#include "cli.h"

static const char info_usage[] =
	"usage: spapr-tce info [--json]\n"
	"Shows the emulated topology ($SPAPR_TCE_TOPOLOGY, else the built-in\n"
	"one), each PE's DMA window capabilities, the VFIO extensions offered,\n"
	"the locked-memory limit and where the preload library is.\n";

/* "4K 64K 2M 1G" */
static void pgsizes_text(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;
	char b[32];

	buf[0] = 0;
	for (unsigned int s = 12; s < 64 && used < len; s++) {
		if (!(mask & (1ULL << s)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? " " : "",
					 stce_format_size(1ULL << s, b, sizeof(b)));
	}
}

static void print_text(const struct stce_topology *t)
{
	uint64_t limit = stce_account_limit_pages();
	const char *lib = cli_preload_path();
	char a[32], b[32], pg[96];

	printf("spapr-tce: emulated POWER host (%s)\n",
	       getenv(STCE_TOPOLOGY_ENV) && *getenv(STCE_TOPOLOGY_ENV) ?
	       getenv(STCE_TOPOLOGY_ENV) : "built-in topology");
	printf("  host page        %s\n",
	       stce_format_size(1ULL << t->host_page_shift, a, sizeof(a)));
	printf("  VFIO             API %d; IOMMU types: sPAPR TCE v1 (2), v2 (7); EEH\n",
	       VFIO_API_VERSION);
	printf("  locked memory    %s\n", limit == UINT64_MAX ? "unlimited (RLIMIT_MEMLOCK or CAP_IPC_LOCK)" :
	       stce_format_size(limit << t->host_page_shift, a, sizeof(a)));
	printf("  preload library  %s\n", lib ? lib : "(not found)");
	printf("\n%u PHB%s, %u PE%s, %u device%s\n", t->nr_phbs,
	       t->nr_phbs == 1 ? "" : "s", t->nr_pes, t->nr_pes == 1 ? "" : "s",
	       t->nr_devices, t->nr_devices == 1 ? "" : "s");
	for (unsigned int i = 0; i < t->nr_pes; i++) {
		const struct stce_topo_pe *pe = &t->pes[i];

		pgsizes_text(pe->caps.pgsizes, pg, sizeof(pg));
		printf("  PE %u (IOMMU group %u, /dev/vfio/%u) on PHB %u\n",
		       i, pe->group, pe->group, pe->phb);
		printf("    32-bit window  %s at 0x%llx, %s pages\n",
		       stce_format_size(pe->caps.dma32_size, a, sizeof(a)),
		       (unsigned long long)pe->caps.dma32_start,
		       stce_format_size(1ULL << pe->caps.dma32_page_shift, b, sizeof(b)));
		printf("    DDW            base 0x%llx, up to %u windows, %u levels\n",
		       (unsigned long long)pe->caps.ddw_base, pe->caps.max_windows,
		       pe->caps.max_levels);
		printf("    IOMMU pages    %s (pgsizes 0x%llx)\n", pg,
		       (unsigned long long)pe->caps.pgsizes);
		for (unsigned int d = 0; d < t->nr_devices; d++)
			if (t->devices[d].group == pe->group)
				printf("    device         %s  %04x:%04x  DMA test device\n",
				       t->devices[d].name, t->devices[d].vendor_id,
				       t->devices[d].device_id);
	}
}

static void print_json(const struct stce_topology *t)
{
	uint64_t limit = stce_account_limit_pages();
	const char *lib = cli_preload_path();
	char mlock[24] = "null";	/* unlimited or exempt */

	if (limit != UINT64_MAX)
		snprintf(mlock, sizeof(mlock), "%llu",
			 (unsigned long long)(limit << t->host_page_shift));
	printf("{\"host_page\": %llu, \"vfio_api\": %d, \"iommu_types\": [2, 7], "
	       "\"eeh\": true, \"memlock_limit_bytes\": %s, "
	       "\"preload\": \"%s\", \"pes\": [",
	       1ULL << t->host_page_shift, VFIO_API_VERSION, mlock,
	       lib ? lib : "");
	for (unsigned int i = 0; i < t->nr_pes; i++) {
		const struct stce_topo_pe *pe = &t->pes[i];
		bool first = true;

		printf("%s{\"group\": %u, \"phb\": %u, \"pgsizes\": %llu, "
		       "\"max_windows\": %u, \"max_levels\": %u, "
		       "\"dma32_start\": %llu, \"dma32_size\": %llu, "
		       "\"ddw_base\": %llu, \"devices\": [", i ? ", " : "",
		       pe->group, pe->phb, (unsigned long long)pe->caps.pgsizes,
		       pe->caps.max_windows, pe->caps.max_levels,
		       (unsigned long long)pe->caps.dma32_start,
		       (unsigned long long)pe->caps.dma32_size,
		       (unsigned long long)pe->caps.ddw_base);
		for (unsigned int d = 0; d < t->nr_devices; d++) {
			if (t->devices[d].group != pe->group)
				continue;
			printf("%s{\"name\": \"%s\", \"vendor\": %u, \"device\": %u}",
			       first ? "" : ", ", t->devices[d].name,
			       t->devices[d].vendor_id, t->devices[d].device_id);
			first = false;
		}
		printf("]}");
	}
	printf("]}\n");
}

/* See cli.h. */
int cmd_info(int argc, char **argv)
{
	struct stce_topology *topo = NULL;
	struct stce_platform *plat;
	char err[256] = "";
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(info_usage, stdout);
			return CLI_OK;
		} else {
			return cli_usage_error("info", "unexpected argument '%s'", argv[i]);
		}
	}
	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "spapr-tce info: %s\n", err[0] ? err : "cannot read the topology");
		return ret == -ENOMEM ? CLI_FAILED : CLI_USAGE;
	}
	/*
	 * The machine as the preload library builds it: its host page
	 * becomes this process's, so the limit below is counted in the
	 * pages a program would be charged in.
	 */
	ret = stce_platform_create(topo, &plat);
	if (ret) {
		fprintf(stderr, "spapr-tce info: cannot build this machine: %s\n",
			strerror(-ret));
		stce_topology_free(topo);
		return CLI_FAILED;
	}
	if (json)
		print_json(topo);
	else
		print_text(topo);
	stce_platform_destroy(plat);
	stce_topology_free(topo);
	return CLI_OK;
}
