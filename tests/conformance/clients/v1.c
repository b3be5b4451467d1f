/* SPDX-License-Identifier: MIT */
/*
 * The v1 (VFIO_SPAPR_TCE_IOMMU) flow: ENABLE/DISABLE and their locked-memory
 * charge, MAP/UNMAP of plain anonymous memory in the default 32-bit window
 * (4K IOMMU pages), every bad input, and the v2-only ioctls.
 */
#include "../../lib/conf.h"

static uint8_t *mem;	/* 4 MiB of anonymous memory, 64K aligned */

static void map(int c, const char *what, uint32_t argsz, uint32_t flags,
		uint64_t off, uint64_t iova, uint64_t size)
{
	long before = vmlck_kb();

	do_map(c, argsz, flags, mem + off, iova, size);
	show(lbl("MAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

static void unmap(int c, const char *what, uint32_t argsz, uint32_t flags,
		  uint64_t iova, uint64_t size)
{
	do_unmap(c, argsz, flags, iova, size);
	show(lbl("UNMAP %s", what), NULL);
}

static void ctl(int c, unsigned long cmd, const char *what)
{
	long before = vmlck_kb();

	TRY(ioctl(c, cmd));
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void bad_inputs(int c)
{
	uint8_t *ro = alloc_aligned(SZ_64K, SZ_64K, PROT_READ);
	uint8_t *none = alloc_aligned(SZ_64K, SZ_64K, PROT_NONE);
	static const uint32_t junk[] = { 0x4, 0x8, 0x80000000, RW | 0x100 };
	size_t i;

	map(c, "flags=0", MAPSZ, 0, 0, 0, SZ_64K);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		map(c, lbl("flags=0x%x", junk[i]), MAPSZ, junk[i], 0, 0, SZ_64K);
	map(c, "argsz=31", 31, RW, 0, 0, SZ_64K);
	map(c, "argsz=0", 0, RW, 0, 0, SZ_64K);
	map(c, "argsz=4096", 4096, RW, 0, 0, SZ_64K);
	unmap(c, "argsz=4096", 4096, 0, 0, SZ_64K);
	map(c, "iova=0x800", MAPSZ, RW, 0, 0x800, SZ_64K);
	map(c, "iova=0x10", MAPSZ, RW, 0, 0x10, SZ_4K);
	map(c, "vaddr=+0x800", MAPSZ, RW, 0x800, 0, SZ_64K);
	map(c, "size=0x1800", MAPSZ, RW, 0, 0, 0x1800);
	map(c, "size=0x800", MAPSZ, RW, 0, 0, 0x800);
	map(c, "size=0", MAPSZ, RW, 0, 0, 0);
	map(c, "iova=0x80000000 (window end)", MAPSZ, RW, 0, 0x80000000ULL, SZ_64K);
	map(c, "iova=1<<59", MAPSZ, RW, 0, WIN64, SZ_64K);
	map(c, "iova=0xfffffffffffff000", MAPSZ, RW, 0, 0xfffffffffffff000ULL, SZ_4K);
	map(c, "iova=0x7ffff000 size=4K (last page)", MAPSZ, RW, 0, 0x7ffff000ULL, SZ_4K);
	unmap(c, "iova=0x7ffff000 size=4K", UNMAPSZ, 0, 0x7ffff000ULL, SZ_4K);

	TRY(do_map(c, MAPSZ, VFIO_DMA_MAP_FLAG_READ, ro, 0, SZ_64K));
	show("MAP read-only memory flags=READ", NULL);
	unmap(c, "iova=0 size=64K", UNMAPSZ, 0, 0, SZ_64K);
	TRY(do_map(c, MAPSZ, RW, ro, 0, SZ_64K));
	show("MAP read-only memory flags=RW", NULL);
	unmap(c, "iova=0 size=64K", UNMAPSZ, 0, 0, SZ_64K);
	TRY(do_map(c, MAPSZ, RW, none, 0, SZ_64K));
	show("MAP PROT_NONE memory", NULL);
	unmap(c, "iova=0 size=64K", UNMAPSZ, 0, 0, SZ_64K);
	TRY(do_map(c, MAPSZ, RW, (void *)0x10000, 0, SZ_64K));
	show("MAP unmapped vaddr 0x10000", NULL);
	unmap(c, "iova=0 size=64K", UNMAPSZ, 0, 0, SZ_64K);

	unmap(c, "argsz=23", 23, 0, 0, SZ_64K);
	unmap(c, "argsz=0", 0, 0, 0, SZ_64K);
	unmap(c, "flags=1 (GET_DIRTY_BITMAP)", UNMAPSZ, 1, 0, SZ_64K);
	unmap(c, "flags=2 (ALL)", UNMAPSZ, 2, 0, SZ_64K);
	unmap(c, "flags=4 (VADDR)", UNMAPSZ, 4, 0, SZ_64K);
	unmap(c, "iova=0x800", UNMAPSZ, 0, 0x800, SZ_64K);
	unmap(c, "size=0x1800", UNMAPSZ, 0, 0, 0x1800);
	unmap(c, "size=0", UNMAPSZ, 0, 0, 0);
	unmap(c, "iova=0x80000000", UNMAPSZ, 0, 0x80000000ULL, SZ_64K);
	unmap(c, "iova=1<<59", UNMAPSZ, 0, WIN64, SZ_64K);
	unmap(c, "iova=0x100000 nothing mapped", UNMAPSZ, 0, SZ_1M, SZ_1M);
	munmap(ro, SZ_64K);
	munmap(none, SZ_64K);
}

static void v2_only(int c)
{
	uint64_t start;

	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, mem, SZ_1M);
	show("REGISTER_MEMORY on v1", NULL);
	do_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, REGSZ, 0, mem, SZ_1M);
	show("UNREGISTER_MEMORY on v1", NULL);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	show("TCE_CREATE on v1", NULL);
	do_remove(c, REMOVESZ, 0, 0);
	show("TCE_REMOVE(0) on v1", NULL);
}

int main(void)
{
	int c, g;

	conf_init();
	mem = alloc_aligned(4 * SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g);

	map(c, "before ENABLE", MAPSZ, RW, 0, 0, SZ_1M);
	unmap(c, "before ENABLE", UNMAPSZ, 0, 0, SZ_1M);
	ctl(c, VFIO_IOMMU_DISABLE, "DISABLE before ENABLE");
	v2_only(c);
	ctl(c, VFIO_IOMMU_ENABLE, "ENABLE");
	ctl(c, VFIO_IOMMU_ENABLE, "ENABLE again");

	map(c, "iova=0 size=1M", MAPSZ, RW, 0, 0, SZ_1M);
	map(c, "iova=0 size=1M again (live entries)", MAPSZ, RW, 0, 0, SZ_1M);
	map(c, "iova=0 size=1M other memory over live", MAPSZ, RW, SZ_1M, 0, SZ_1M);
	unmap(c, "iova=0 size=1M", UNMAPSZ, 0, 0, SZ_1M);
	unmap(c, "iova=0 size=1M again", UNMAPSZ, 0, 0, SZ_1M);
	map(c, "flags=READ", MAPSZ, VFIO_DMA_MAP_FLAG_READ, 0, 0, SZ_64K);
	map(c, "flags=WRITE", MAPSZ, VFIO_DMA_MAP_FLAG_WRITE, 0, SZ_64K, SZ_64K);
	unmap(c, "iova=0 size=128K", UNMAPSZ, 0, 0, 2 * SZ_64K);
	map(c, "iova=0x10000 size=64K", MAPSZ, RW, 0, SZ_64K, SZ_64K);
	unmap(c, "iova=0 size=1M (covers it)", UNMAPSZ, 0, 0, SZ_1M);
	bad_inputs(c);
	v2_only(c);

	map(c, "iova=0 size=1M (kept over DISABLE)", MAPSZ, RW, 0, 0, SZ_1M);
	ctl(c, VFIO_IOMMU_DISABLE, "DISABLE");
	ctl(c, VFIO_IOMMU_DISABLE, "DISABLE again");
	map(c, "after DISABLE", MAPSZ, RW, 0, 0, SZ_64K);
	unmap(c, "after DISABLE", UNMAPSZ, 0, 0, SZ_1M);
	ctl(c, VFIO_IOMMU_ENABLE, "ENABLE after DISABLE");
	map(c, "iova=0 size=1M after re-ENABLE", MAPSZ, RW, 0, 0, SZ_1M);
	unmap(c, "iova=0 size=1M after re-ENABLE", UNMAPSZ, 0, 0, SZ_1M);
	ctl(c, VFIO_IOMMU_DISABLE, "DISABLE");

	{
		long before = vmlck_kb();

		teardown(c, g);
		note("close group+container: vmlck%+ld", vmlck_kb() - before);
	}
	return 0;
}
