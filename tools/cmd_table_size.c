// SPDX-License-Identifier: MIT
/*
 * spapr-tce table-size: what a DMA window's TCE table costs, by the
 * kernel's formula, and whether the kernel would build it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/size.h>
#include <spapr_tce/table.h>

#include "cli.h"

static const char table_size_usage[] =
	"usage: spapr-tce table-size --window SIZE --page SIZE [--levels N]\n"
	"                            [--host-page 4K|64K] [--json]\n"
	"Sizes take K/M/G/T suffixes. --levels defaults to 1, --host-page to\n"
	"64K (the emulated host page the formula rounds chunks to).\n";

struct table_size_args {
	uint64_t window;
	uint64_t page;
	uint64_t host_page;
	unsigned int levels;
	bool json;
	unsigned int page_shift, host_shift;	/* set by check_args() */
};

static int parse_levels(const char *text, unsigned int *levels)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 ||
	    v > STCE_TABLE_MAX_LEVELS)
		return cli_usage_error("table-size",
				       "--levels: '%s' is not a number from 1 to %d",
				       text, STCE_TABLE_MAX_LEVELS);
	*levels = (unsigned int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct table_size_args *a)
{
	static const struct option opts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "page", required_argument, NULL, 'p' },
		{ "levels", required_argument, NULL, 'l' },
		{ "host-page", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct table_size_args){ .levels = 1,
				       .host_page = 1ULL << STCE_HOST_PAGE_SHIFT_DEFAULT };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (cli_parse_size("table-size", "--window", optarg, &a->window))
				return CLI_USAGE;
			break;
		case 'p':
			if (cli_parse_size("table-size", "--page", optarg, &a->page))
				return CLI_USAGE;
			break;
		case 'H':
			if (cli_parse_size("table-size", "--host-page", optarg, &a->host_page))
				return CLI_USAGE;
			break;
		case 'l':
			if (parse_levels(optarg, &a->levels))
				return CLI_USAGE;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			fputs(table_size_usage, stdout);
			return -1;
		default:
			return cli_usage_error("table-size", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("table-size", "unexpected argument '%s'", argv[optind]);
	if (!a->window || !a->page)
		return cli_usage_error("table-size", "--window and --page are required");
	return 0;
}

/* Refuse what no table can have; then note the page shifts. */
static int check_args(struct table_size_args *a)
{
	int page_shift = stce_size_shift(a->page);
	char b[32];

	if (page_shift < 0 || !stce_page_shift_supported((unsigned int)page_shift))
		return cli_usage_error("table-size",
				       "--page: %s is not an IOMMU page size (4K 64K 2M 16M 256M 1G)",
				       stce_format_size(a->page, b, sizeof(b)));
	if (a->host_page != 4096 && a->host_page != 65536)
		return cli_usage_error("table-size", "--host-page: %s is neither 4K nor 64K",
				       stce_format_size(a->host_page, b, sizeof(b)));
	if (stce_size_shift(a->window) < 0)
		return cli_usage_error("table-size", "--window: %s is not a power of two",
				       stce_format_size(a->window, b, sizeof(b)));
	if (a->window < a->page)
		return cli_usage_error("table-size", "--window: smaller than one IOMMU page");
	a->page_shift = (unsigned int)page_shift;
	a->host_shift = (unsigned int)stce_size_shift(a->host_page);
	return 0;
}

/* Would the kernel build this table? Tells why not in *why. */
static bool table_buildable(const struct table_size_args *a, const char **why)
{
	struct stce_table_params p = {
		.window_size = a->window,
		.page_shift = a->page_shift,
		.levels = a->levels,
		.host_page_shift = a->host_shift,
	};
	struct stce_table *t;
	int ret;

	/* Every check the library makes runs before it allocates anything
	 * but the top chunk, so asking it is cheap and cannot disagree. */
	ret = stce_table_create(&p, &t);
	if (ret == -EINVAL) {
		*why = "levels x per-level bits + page shift reach 55 bits";
		return false;
	}
	if (ret) {
		*why = "out of memory";
		return false;
	}
	stce_table_destroy(t);
	*why = "";
	return true;
}

/* See cli.h. */
int cmd_table_size(int argc, char **argv)
{
	struct table_size_args a;
	uint64_t total, entries;
	const char *why;
	bool buildable;
	char w[32], pg[32], hp[32];
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret < 0 ? CLI_OK : ret;
	ret = check_args(&a);
	if (ret)
		return ret;

	total = stce_table_size_hp(a.page_shift, a.window, a.levels, a.host_shift);
	entries = a.window >> a.page_shift;
	buildable = table_buildable(&a, &why);

	if (a.json) {
		printf("{\"window\": %llu, \"page\": %llu, \"levels\": %u, "
		       "\"host_page\": %llu, \"entries\": %llu, "
		       "\"table_bytes\": %llu, \"userspace_bytes\": %llu, "
		       "\"total_bytes\": %llu, \"buildable\": %s}\n",
		       (unsigned long long)a.window, (unsigned long long)a.page,
		       a.levels, (unsigned long long)a.host_page,
		       (unsigned long long)entries,
		       (unsigned long long)(total / 2),
		       (unsigned long long)(total / 2),
		       (unsigned long long)total, buildable ? "true" : "false");
		return CLI_OK;
	}
	printf("window %s, IOMMU page %s, %u level%s, host page %s\n",
	       stce_format_size(a.window, w, sizeof(w)),
	       stce_format_size(a.page, pg, sizeof(pg)), a.levels,
	       a.levels > 1 ? "s" : "",
	       stce_format_size(a.host_page, hp, sizeof(hp)));
	printf("  entries          %llu\n", (unsigned long long)entries);
	printf("  table bytes      %llu\n", (unsigned long long)(total / 2));
	printf("  userspace bytes  %llu\n", (unsigned long long)(total / 2));
	printf("  total bytes      %llu (charged to locked_vm)\n",
	       (unsigned long long)total);
	if (!buildable)
		printf("  the kernel refuses this table: %s\n", why);
	return CLI_OK;
}
