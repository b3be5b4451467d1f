/* SPDX-License-Identifier: MIT */
/*
 * v1 MAP (which pins per call) of memory that is only partly usable: a hole,
 * a PROT_NONE or a read-only page after writable ones; unmapped, kernel and
 * wrapping addresses; memory munmapped while mapped. Memory lives in one
 * PROT_NONE reservation; addresses print as offsets from W, its start.
 */
#include "../../lib/conf.h"

#define RESERVE	(64 * SZ_1M)
#define RWSIZE	(16 * SZ_1M)

static uint8_t *W;

static void map(int c, const char *what, const void *va, uint64_t iova, uint64_t size,
		uint32_t flags)
{
	long before = vmlck_kb();

	do_map(c, MAPSZ, flags, va, iova, size);
	show(lbl("MAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

static void unmap(int c, const char *what, uint64_t iova, uint64_t size)
{
	long before = vmlck_kb();

	do_unmap(c, UNMAPSZ, 0, iova, size);
	show(lbl("UNMAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

#define MAPW(c, what, off, iova, size) map(c, what, W + (off), iova, size, RW)

int main(void)
{
	int c, g;
	long base;

	conf_init();
	W = reserve(RESERVE, RWSIZE);
	/* W+1M: a hole; W+2M: PROT_NONE; W+3M: read-only (64K each). */
	if (munmap(W + SZ_1M, SZ_64K) ||
	    mprotect(W + 2 * SZ_1M, SZ_64K, PROT_NONE) ||
	    mprotect(W + 3 * SZ_1M, SZ_64K, PROT_READ))
		die("spoil");
	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g);
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show("ENABLE", NULL);
	base = vmlck_kb();

	note("a bad 64K page after 64K of writable memory (4K IOMMU pages)");
	MAPW(c, "W+1M-64K size=128K iova=0 (hole second)", SZ_1M - SZ_64K, 0, 2 * SZ_64K);
	MAPW(c, "W+1M-64K size=64K iova=0 (the good part)", SZ_1M - SZ_64K, 0, SZ_64K);
	MAPW(c, "W+1M size=64K iova=0x10000 (the hole)", SZ_1M, SZ_64K, SZ_64K);
	MAPW(c, "W+2M-64K size=128K iova=0x100000 (PROT_NONE second)", 2 * SZ_1M - SZ_64K,
	     SZ_1M, 2 * SZ_64K);
	MAPW(c, "W+2M size=4K iova=0x100000 (PROT_NONE)", 2 * SZ_1M, SZ_1M, SZ_4K);
	MAPW(c, "W+3M-64K size=128K iova=0x200000 (read-only second)", 3 * SZ_1M - SZ_64K,
	     2 * SZ_1M, 2 * SZ_64K);
	map(c, "W+3M-64K size=128K iova=0x200000 flags=READ (read-only second)",
	    W + 3 * SZ_1M - SZ_64K, 2 * SZ_1M, 2 * SZ_64K, VFIO_DMA_MAP_FLAG_READ);
	map(c, "W+3M size=4K iova=0x200000 flags=READ (read-only)", W + 3 * SZ_1M,
	    2 * SZ_1M, SZ_4K, VFIO_DMA_MAP_FLAG_READ);
	unmap(c, "iova=0 size=4M", 0, 4 * SZ_1M);
	note("vmlck since ENABLE: %+ld", vmlck_kb() - base);

	note("addresses that are not the process's memory");
	map(c, "vaddr=0 size=4K", NULL, 0, SZ_4K, RW);
	map(c, "vaddr=W+16M size=4K (PROT_NONE reservation)", W + RWSIZE, 0, SZ_4K, RW);
	map(c, "vaddr=0xc000000000000000 size=4K (kernel)",
	    (void *)0xc000000000000000ULL, 0, SZ_4K, RW);
	map(c, "vaddr=0xfffffffffffff000 size=4K", (void *)0xfffffffffffff000ULL, 0,
	    SZ_4K, RW);
	map(c, "vaddr=0xfffffffffffff000 size=8K (wraps)", (void *)0xfffffffffffff000ULL,
	    0, 2 * SZ_4K, RW);
	map(c, "vaddr=0xffffffffffff0000 size=128K (wraps)", (void *)0xffffffffffff0000ULL,
	    0, 2 * SZ_64K, RW);
	map(c, "vaddr=W+16M-4K size=8K (runs into the reservation)", W + RWSIZE - SZ_4K,
	    0, 2 * SZ_4K, RW);
	unmap(c, "iova=0 size=64K", 0, SZ_64K);

	note("memory munmapped while mapped");
	MAPW(c, "W+8M size=1M iova=0x400000", 8 * SZ_1M, 4 * SZ_1M, SZ_1M);
	if (munmap(W + 8 * SZ_1M, SZ_1M))
		die("munmap");
	MAPW(c, "W+8M size=64K iova=0x500000 (after munmap)", 8 * SZ_1M, 5 * SZ_1M, SZ_64K);
	unmap(c, "iova=0x400000 size=1M (the old pages)", 4 * SZ_1M, SZ_1M);
	if (mmap(W + 8 * SZ_1M, SZ_1M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap again");
	MAPW(c, "W+8M size=64K iova=0x400000 (new memory there)", 8 * SZ_1M, 4 * SZ_1M, SZ_64K);
	unmap(c, "iova=0x400000 size=64K", 4 * SZ_1M, SZ_64K);
	note("vmlck since ENABLE: %+ld", vmlck_kb() - base);
	teardown(c, g);
	note("after closing: vmlck since ENABLE: %+ld", vmlck_kb() - base);
	return 0;
}
