/* SPDX-License-Identifier: MIT */
#ifndef STCE_CLI_H
#define STCE_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes: 0 done, 1 the operation failed, 2 bad usage or input. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Print "spapr-tce CMD: message" on stderr and return CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse a size option value; on failure print the error and return -1. */
int cli_parse_size(const char *cmd, const char *opt, const char *text,
		   uint64_t *out);

/* The sub-commands: each runs `spapr-tce NAME ARGS` (argv[0] is NAME) and
 * returns its exit code. */
int cmd_table_size(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* The preload library this CLI goes with (cmd_trace.c), or NULL. */
const char *cli_preload_path(void);
/* Put it (after a sanitizer runtime it needs) in front of LD_PRELOAD. */
int cli_preload_env(const char *lib);
/* Exec @argv with the library preloaded and SPAPR_TCE_TRACE=@trace (when
 * not NULL): returns only when that fails, with the exit code (cmd_run.c). */
int cli_exec_preloaded(const char *cmd, char **argv, const char *trace);

#endif /* STCE_CLI_H */
