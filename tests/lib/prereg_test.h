/* SPDX-License-Identifier: MIT */
/* Helpers the prereg, container and iommufd tests share. */
#ifndef STCE_PREREG_TEST_H
#define STCE_PREREG_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>

#include "vmlck.h"

#define KB	1024ULL
#define MB	(1024ULL * KB)
#define HP	(64 * KB)

/* Anonymous read-write memory aligned to @align (a power of two). */
static inline uint64_t map_aligned(uint64_t size, uint64_t align, int prot)
{
	uint64_t total = size + align, start, addr;
	void *p = mmap(NULL, total, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	start = (uint64_t)(uintptr_t)p;
	addr = (start + align - 1) & ~(align - 1);
	if (addr > start)
		munmap(p, addr - start);
	if (start + total > addr + size)
		munmap((void *)(uintptr_t)(addr + size), start + total - addr - size);
	return addr;
}

static inline uint64_t map_anon(uint64_t size)
{
	return map_aligned(size, HP, PROT_READ | PROT_WRITE);
}

static inline void unmap(uint64_t addr, uint64_t size)
{
	munmap((void *)(uintptr_t)addr, size);
}

/* Free 2M hugetlbfs pages (HugePages_Free in /proc/meminfo). */
static inline long huge_pages_free(void)
{
	char line[256];
	long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

#endif /* STCE_PREREG_TEST_H */
