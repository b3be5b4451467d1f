/* SPDX-License-Identifier: MIT */
/*
 * Test helper (libc only: the conformance, oracle, preload and DPDK clients
 * use it as the unit tests do): this process's VmLck from /proc/self/status
 * in kB, -1 if there is none. Under the preload library or the conformance
 * shim that file is served and VmLck is the emulated locked_vm; in a unit
 * test it is the real kernel's (what the process has mlocked).
 */
#ifndef STCE_TEST_VMLCK_H
#define STCE_TEST_VMLCK_H

#include <stdio.h>

static inline long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#endif /* STCE_TEST_VMLCK_H */
