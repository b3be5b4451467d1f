// SPDX-License-Identifier: MIT
/*
 * spapr-tce: the command-line front end. One sub-command a job; each
 * lives in its own cmd_*.c file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <spapr_tce/size.h>

#include "cli.h"

static const struct cli_command commands[] = {
	{ "demo", "a simulated guest with a passthrough DMA device", cmd_demo },
	{ "info", "the emulated topology and its capabilities", cmd_info },
	{ "run", "run a program on the emulated POWER host (the preload library)",
	  cmd_run },
	{ "table-size", "TCE table bytes for a window (kernel formula)",
	  cmd_table_size },
	{ "trace", "run a program, printing each VFIO call (strace for VFIO)",
	  cmd_trace },
};

/* See cli.h. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "spapr-tce %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

/* See cli.h. */
int cli_parse_size(const char *cmd, const char *opt, const char *text,
		   uint64_t *out)
{
	int ret = stce_parse_size(text, out);

	if (!ret)
		return 0;
	cli_usage_error(cmd, "%s: '%s' is %s", opt, text ? text : "",
			ret == -ERANGE ? "too large" :
			"not a size (digits with an optional K/M/G/T suffix)");
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: spapr-tce COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'spapr-tce COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "spapr-tce: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
