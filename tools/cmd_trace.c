// SPDX-License-Identifier: MIT
/*
 * spapr-tce trace: run a program under the preload library with
 * SPAPR_TCE_TRACE set, so that every VFIO call it makes is printed with
 * its decoded arguments and result (strace for VFIO). Also where the CLI
 * finds its preload library (for trace, run and info).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char trace_usage[] =
	"usage: spapr-tce trace [-o FILE] [--] PROGRAM [ARGS...]\n"
	"Runs PROGRAM with the spapr-tce preload library and prints each VFIO\n"
	"call it makes (open, ioctl with decoded arguments, region access,\n"
	"close) on stderr, or appends them to FILE.\n"
	"Env: SPAPR_TCE_TOPOLOGY (the emulated machine), SPAPR_TCE_PRELOAD\n"
	"(the library to use instead of the one found next to this program).\n";

static bool readable(const char *path)
{
	return path && *path && access(path, R_OK) == 0;
}

/*
 * The library that belongs to this executable: $SPAPR_TCE_PRELOAD; the
 * build tree's when this is the build tree's CLI; else the installed one.
 */
const char *cli_preload_path(void)
{
	static char exe[PATH_MAX];
	const char *env = getenv("SPAPR_TCE_PRELOAD");
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		if (!strcmp(exe, STCE_PRELOAD_BUILD_DIR) &&
		    readable(STCE_PRELOAD_BUILD_PATH))
			return STCE_PRELOAD_BUILD_PATH;
	}
	if (readable(STCE_PRELOAD_INSTALL_PATH))
		return STCE_PRELOAD_INSTALL_PATH;
	if (readable(STCE_PRELOAD_BUILD_PATH))
		return STCE_PRELOAD_BUILD_PATH;
	return NULL;
}

/* LD_PRELOAD for a child: [sanitizer runtime:]library[:what was there]. */
int cli_preload_env(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	const char *rt = STCE_PRELOAD_ASAN_RUNTIME;
	size_t len = strlen(lib) + strlen(rt) + (old ? strlen(old) : 0) + 3;
	char *v = malloc(len);
	int ret;

	if (!v)
		return -ENOMEM;
	snprintf(v, len, "%s%s%s%s%s", rt, *rt ? ":" : "", lib,
		 old && *old ? ":" : "", old && *old ? old : "");
	ret = setenv("LD_PRELOAD", v, 1) ? -errno : 0;
	free(v);
	return ret;
}

/* See cli.h. */
int cmd_trace(int argc, char **argv)
{
	const char *out = "1";
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(trace_usage, stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "-o")) {
			if (i + 1 >= argc)
				return cli_usage_error("trace", "-o needs a file name");
			out = argv[i + 1];
			i += 2;
			continue;
		}
		return cli_usage_error("trace", "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return cli_usage_error("trace", "no program to run");
	return cli_exec_preloaded("trace", argv + i, out);
}
