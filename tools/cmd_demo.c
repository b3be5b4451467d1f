// SPDX-License-Identifier: MIT
/*
 * spapr-tce demo. Until the full guest demo lands, it reports what the
 * default PE's windows cost, as the kernel would charge them.
 */
#include <stdio.h>

#include <spapr_tce/table.h>

#include "cli.h"

struct demo_window {
	const char *name;
	const char *window;
	const char *page;
	const char *levels;
};

static const struct demo_window demo_windows[] = {
	{ "default 32-bit window (bus 0)", "2G", "4K", "1" },
	{ "DDW 64-bit window, 64K pages, 1 TiB", "1T", "64K", "2" },
	{ "DDW 64-bit window, 2M pages, 256 GiB", "256G", "2M", "2" },
};

int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("spapr-tce demo: TCE table costs for the default PE (64K host pages)\n\n");
	for (size_t i = 0; i < sizeof(demo_windows) / sizeof(demo_windows[0]); i++) {
		const struct demo_window *d = &demo_windows[i];
		char *args[] = { "table-size", "--window", (char *)d->window,
				 "--page", (char *)d->page, "--levels",
				 (char *)d->levels, NULL };
		int ret;

		printf("%s\n", d->name);
		ret = cmd_table_size(7, args);
		if (ret)
			return ret;
		printf("\n");
	}
	return CLI_OK;
}
