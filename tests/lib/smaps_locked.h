/* SPDX-License-Identifier: MIT */
/*
 * Test helper (libc only, for the preload clients too): the smaps
 * "Locked:" figure of the mapping that holds @addr, in kB; -1 if none.
 */
#ifndef STCE_TEST_SMAPS_LOCKED_H
#define STCE_TEST_SMAPS_LOCKED_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline long smaps_locked_kb(const void *addr)
{
	char line[256];
	unsigned long long s, e;
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && sscanf(line, "Locked: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

#endif /* STCE_TEST_SMAPS_LOCKED_H */
