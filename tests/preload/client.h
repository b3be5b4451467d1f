/* SPDX-License-Identifier: MIT */
/*
 * What the preload clients share (programs that know nothing of
 * spapr-tce, run with LD_PRELOAD): a check that counts failures and goes
 * on, and a runner printing "ok|FAIL name" a test and "N failed".
 */
#ifndef STCE_TESTS_PRELOAD_CLIENT_H
#define STCE_TESTS_PRELOAD_CLIENT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/vmlck.h"

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("FAIL %s:%d: %s (errno %d %s)\n", __func__,	\
		       __LINE__, #cond, errno, strerror(errno));	\
		failures++;						\
	}								\
} while (0)

struct client_test {
	const char *name;
	void (*fn)(void);
};

/* Run @tests in order; the exit status. */
static inline int client_run(const struct client_test *tests, size_t n)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		int before = failures;

		tests[i].fn();
		printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
	}
	printf("%d failed\n", failures);
	return failures != 0;
}

#endif /* STCE_TESTS_PRELOAD_CLIENT_H */
