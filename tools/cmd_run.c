// SPDX-License-Identifier: MIT
/*
 * spapr-tce run: start any program on the emulated POWER host without
 * spelling out LD_PRELOAD (and the sanitizer runtime an instrumented
 * library needs), optionally on another topology and with the VFIO
 * trace on. spapr-tce trace is run with the trace on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spapr_tce/topology.h>

#include "cli.h"

static const char run_usage[] =
	"usage: spapr-tce run [--topology FILE] [--trace[=FILE]] [--] PROGRAM [ARGS...]\n"
	"Runs PROGRAM with the spapr-tce preload library: its /dev/vfio, /dev/iommu\n"
	"and the VFIO sysfs are an emulated POWER host's.\n"
	"  --topology FILE  the emulated machine (docs/topology.md; checked first)\n"
	"  --trace[=FILE]   print each VFIO call on stderr, or append them to FILE\n"
	"Env: SPAPR_TCE_PRELOAD (the library to use instead of the one found\n"
	"next to this program).\n";

/*
 * Put the preload library (after the sanitizer runtime it needs) in
 * LD_PRELOAD, the trace destination in SPAPR_TCE_TRACE when @trace is
 * set, and exec @argv. Returns only on failure: the exit code.
 */
int cli_exec_preloaded(const char *cmd, char **argv, const char *trace)
{
	const char *lib = cli_preload_path();

	if (!lib) {
		fprintf(stderr, "spapr-tce %s: the preload library is neither "
			"in the build tree nor installed (%s); set SPAPR_TCE_PRELOAD\n",
			cmd, STCE_PRELOAD_INSTALL_PATH);
		return CLI_FAILED;
	}
	if (cli_preload_env(lib) ||
	    (trace && setenv("SPAPR_TCE_TRACE", trace, 1))) {
		fprintf(stderr, "spapr-tce %s: %s\n", cmd, strerror(errno));
		return CLI_FAILED;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "spapr-tce %s: %s: %s\n", cmd, argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* The topology must parse: say why here rather than in the program. */
static int use_topology(const char *path)
{
	struct stce_topology *t;
	char err[512];

	if (stce_topology_load(path, &t, err, sizeof(err))) {
		fprintf(stderr, "spapr-tce run: %s\n", err);
		return CLI_USAGE;
	}
	stce_topology_free(t);
	if (setenv(STCE_TOPOLOGY_ENV, path, 1)) {
		perror("spapr-tce run");
		return CLI_FAILED;
	}
	return CLI_OK;
}

/* See cli.h. */
int cmd_run(int argc, char **argv)
{
	const char *trace = NULL, *topology = NULL;
	int i = 1, ret;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(run_usage, stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "--topology")) {
			if (i + 1 >= argc)
				return cli_usage_error("run", "--topology needs a file");
			topology = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strcmp(argv[i], "--trace")) {
			trace = "1";
		} else if (!strncmp(argv[i], "--trace=", 8) && argv[i][8]) {
			trace = argv[i] + 8;
		} else {
			return cli_usage_error("run", "unknown option '%s'", argv[i]);
		}
		i++;
	}
	if (i >= argc)
		return cli_usage_error("run", "no program to run");
	if (topology && (ret = use_topology(topology)))
		return ret;
	return cli_exec_preloaded("run", argv + i, trace);
}
