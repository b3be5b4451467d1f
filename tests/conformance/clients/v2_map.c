/* SPDX-License-Identifier: MIT */
/*
 * v2 MAP/UNMAP: the default 32-bit window (4K IOMMU pages, made by the first
 * MAP), a 64-bit window (64K pages), a 2M-page window, and every bad input.
 * R is a 16 MiB registered region aligned to 2 MiB; vaddrs print as R+offset.
 */
#include "../../lib/conf.h"

static uint8_t *R;

static void map(int c, const char *what, uint32_t argsz, uint32_t flags,
		int64_t off, uint64_t iova, uint64_t size)
{
	long before = vmlck_kb();

	do_map(c, argsz, flags, R + off, iova, size);
	show(lbl("MAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

static void unmap(int c, const char *what, uint32_t argsz, uint32_t flags,
		  uint64_t iova, uint64_t size)
{
	do_unmap(c, argsz, flags, iova, size);
	show(lbl("UNMAP %s", what), NULL);
}

static void reg(int c, unsigned long cmd, const char *what, int64_t off, uint64_t size)
{
	long before = vmlck_kb();

	do_reg(c, cmd, REGSZ, 0, R + off, size);
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

/* Bad inputs common to every window: base = window start, pg = IOMMU page. */
static void bad_inputs(int c, const char *w, uint64_t base, uint64_t pg, uint64_t wsize)
{
	static const uint32_t junk[] = { 0x4, 0x8, 0x80000000, RW | 0x100 };
	size_t i;

	map(c, lbl("%s flags=0", w), MAPSZ, 0, 0, base, pg);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		map(c, lbl("%s flags=0x%x", w, junk[i]), MAPSZ, junk[i], 0, base, pg);
	map(c, lbl("%s argsz=31", w), 31, RW, 0, base, pg);
	map(c, lbl("%s argsz=0", w), 0, RW, 0, base, pg);
	map(c, lbl("%s iova=+0x800", w), MAPSZ, RW, 0, base + 0x800, pg);
	map(c, lbl("%s iova=+0x10", w), MAPSZ, RW, 0, base + 0x10, pg);
	if (pg > SZ_4K)
		map(c, lbl("%s iova=+4K", w), MAPSZ, RW, 0, base + SZ_4K, pg);
	map(c, lbl("%s vaddr=R+0x800", w), MAPSZ, RW, 0x800, base, pg);
	if (pg > SZ_4K)
		map(c, lbl("%s vaddr=R+4K", w), MAPSZ, RW, SZ_4K, base, pg);
	map(c, lbl("%s size=page+0x800", w), MAPSZ, RW, 0, base, pg + 0x800);
	if (pg > SZ_4K)
		map(c, lbl("%s size=4K", w), MAPSZ, RW, 0, base, SZ_4K);
	map(c, lbl("%s size=0", w), MAPSZ, RW, 0, base, 0);
	map(c, lbl("%s vaddr=R+16M (past the registration)", w), MAPSZ, RW,
	    SZ_16M, base, pg);
	map(c, lbl("%s vaddr=R+16M-page size=2 pages (runs past it)", w), MAPSZ, RW,
	    SZ_16M - pg, base, 2 * pg);
	unmap(c, lbl("%s 2 pages (rollback left nothing)", w), UNMAPSZ, 0, base, 2 * pg);
	map(c, lbl("%s vaddr=R-page (before the registration)", w), MAPSZ, RW,
	    -(int64_t)pg, base, pg);
	map(c, lbl("%s iova=end (one past)", w), MAPSZ, RW, 0, base + wsize, pg);
	if (base)
		map(c, lbl("%s iova=start-page", w), MAPSZ, RW, 0, base - pg, pg);
	map(c, lbl("%s iova=end-page (last page)", w), MAPSZ, RW, 0, base + wsize - pg, pg);
	unmap(c, lbl("%s iova=end-page", w), UNMAPSZ, 0, base + wsize - pg, pg);

	unmap(c, lbl("%s argsz=23", w), 23, 0, base, pg);
	unmap(c, lbl("%s flags=1", w), UNMAPSZ, 1, base, pg);
	unmap(c, lbl("%s flags=2", w), UNMAPSZ, 2, base, pg);
	unmap(c, lbl("%s flags=4", w), UNMAPSZ, 4, base, pg);
	unmap(c, lbl("%s iova=+0x800", w), UNMAPSZ, 0, base + 0x800, pg);
	unmap(c, lbl("%s size=page+0x800", w), UNMAPSZ, 0, base, pg + 0x800);
	unmap(c, lbl("%s size=0", w), UNMAPSZ, 0, base, 0);
	unmap(c, lbl("%s iova=end (one past)", w), UNMAPSZ, 0, base + wsize, pg);
	unmap(c, lbl("%s nothing mapped", w), UNMAPSZ, 0, base, 16 * pg);
}

static void good(int c, const char *w, uint64_t base, uint64_t pg)
{
	map(c, lbl("%s 16 pages", w), MAPSZ, RW, 0, base, 16 * pg);
	map(c, lbl("%s 16 pages again (live entries)", w), MAPSZ, RW, 0, base, 16 * pg);
	map(c, lbl("%s 16 pages other memory over live", w), MAPSZ, RW, 16 * pg, base, 16 * pg);
	unmap(c, lbl("%s page 3 only", w), UNMAPSZ, 0, base + 3 * pg, pg);
	unmap(c, lbl("%s 16 pages", w), UNMAPSZ, 0, base, 16 * pg);
	unmap(c, lbl("%s 16 pages again", w), UNMAPSZ, 0, base, 16 * pg);
	map(c, lbl("%s flags=READ", w), MAPSZ, VFIO_DMA_MAP_FLAG_READ, 0, base, pg);
	map(c, lbl("%s flags=WRITE", w), MAPSZ, VFIO_DMA_MAP_FLAG_WRITE, pg, base + pg, pg);
	map(c, lbl("%s argsz=4096", w), 4096, RW, 2 * pg, base + 2 * pg, pg);
	unmap(c, lbl("%s argsz=4096 3 pages", w), 4096, 0, base, 3 * pg);
}

int main(void)
{
	uint8_t *plain;
	uint64_t w64, w2m, hp, ext64, ext4;
	long before;
	int c, g;

	conf_init();
	/*
	 * Tiny windows reach as far as their one-host-page table: an UNMAP
	 * past that would make the kernel clear memory its table does not
	 * own (quirk 3), so the extents follow the host page.
	 */
	hp = host_page_probe();
	ext64 = hp / 8 * SZ_64K;
	ext4 = hp / 8 * SZ_4K;
	R = alloc_aligned(SZ_16M, SZ_2M, PROT_READ | PROT_WRITE);
	plain = alloc_aligned(SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);

	note("default window: made by the first MAP");
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show("IOMMU_ENABLE on v2", NULL);
	TRY(ioctl(c, VFIO_IOMMU_DISABLE));
	show("IOMMU_DISABLE on v2", NULL);
	before = vmlck_kb();
	do_map(c, MAPSZ, RW, plain, 0, SZ_64K);
	show("MAP before any REGISTER", "vmlck%+ld", vmlck_kb() - before);
	do_unmap(c, UNMAPSZ, 0, 0, SZ_64K);
	show("UNMAP before any REGISTER", NULL);
	reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER R size=16M", 0, SZ_16M);
	good(c, "w32", 0, SZ_4K);
	bad_inputs(c, "w32", 0, SZ_4K, 0x80000000ULL);

	note("64-bit window: 64K pages, 1G, 2 levels");
	before = vmlck_kb();
	do_create(c, CREATESZ, 0, 16, SZ_1G, 2, &w64);
	show("CREATE shift=16 size=1G levels=2", "start=0x%llx vmlck%+ld",
	     (unsigned long long)w64, vmlck_kb() - before);
	good(c, "w64", w64, SZ_64K);
	bad_inputs(c, "w64", w64, SZ_64K, SZ_1G);
	map(c, "w64 all of R", MAPSZ, RW, 0, w64, SZ_16M);
	map(c, "w32 all of R too", MAPSZ, RW, 0, 0, SZ_16M);
	reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER R (mapped twice)", 0, SZ_16M);
	unmap(c, "w64 whole window", UNMAPSZ, 0, w64, SZ_1G);
	unmap(c, "w32 whole window", UNMAPSZ, 0, 0, 0x80000000ULL);
	reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER R again", 0, SZ_16M);

	note("REMOVE of windows with live mappings");
	map(c, "w64 16 pages", MAPSZ, RW, 0, w64, 16 * SZ_64K);
	map(c, "w32 16 pages", MAPSZ, RW, 0, 0, 16 * SZ_4K);
	before = vmlck_kb();
	do_remove(c, REMOVESZ, 0, w64);
	show("REMOVE w64 (mapped)", "vmlck%+ld", vmlck_kb() - before);
	before = vmlck_kb();
	do_remove(c, REMOVESZ, 0, 0);
	show("REMOVE w32 (mapped)", "vmlck%+ld", vmlck_kb() - before);
	map(c, "iova=0 (no window)", MAPSZ, RW, 0, 0, SZ_64K);
	unmap(c, "iova=0 (no window)", UNMAPSZ, 0, 0, SZ_64K);

	note("2M-page window over 64K-page memory");
	before = vmlck_kb();
	do_create(c, CREATESZ, 0, 21, SZ_1G, 1, &w2m);
	show("CREATE shift=21 size=1G levels=1", "start=0x%llx vmlck%+ld",
	     (unsigned long long)w2m, vmlck_kb() - before);
	map(c, "w2m R size=2M", MAPSZ, RW, 0, w2m, SZ_2M);
	map(c, "w2m R+64K size=2M", MAPSZ, RW, SZ_64K, w2m, SZ_2M);
	map(c, "w2m iova=+64K", MAPSZ, RW, 0, w2m + SZ_64K, SZ_2M);
	unmap(c, "w2m size=2M", UNMAPSZ, 0, w2m, SZ_2M);
	unmap(c, "w2m size=64K", UNMAPSZ, 0, w2m, SZ_64K);

	note("4K-page 64-bit window over 64K-page memory");
	before = vmlck_kb();
	do_create(c, CREATESZ, 0, 12, SZ_1G, 1, &w64);
	show("CREATE shift=12 size=1G levels=1", "start=0x%llx vmlck%+ld",
	     (unsigned long long)w64, vmlck_kb() - before);
	map(c, "w4k R+4K size=60K", MAPSZ, RW, SZ_4K, w64 + SZ_4K, SZ_64K - SZ_4K);
	unmap(c, "w4k size=64K", UNMAPSZ, 0, w64, SZ_64K);

	/* A table is one host page at least: hp / 8 entries. */
	note("tiny windows: the table fills a whole %lluK host page (%llu entries)",
	     (unsigned long long)(hp >> 10), (unsigned long long)(hp / 8));
	do_remove(c, REMOVESZ, 0, w2m);
	show("REMOVE w2m", NULL);
	do_remove(c, REMOVESZ, 0, w64);
	show("REMOVE w4k", NULL);
	do_create(c, CREATESZ, 0, 16, SZ_64K, 1, &w64);
	show("CREATE shift=16 size=64K levels=1", "start=0x%llx", (unsigned long long)w64);
	map(c, "tiny64k iova=start+64K", MAPSZ, RW, 0, w64 + SZ_64K, SZ_64K);
	map(c, lbl("tiny64k iova=start+%lluM-64K", ext64 >> 20), MAPSZ, RW, 0,
	    w64 + ext64 - SZ_64K, SZ_64K);
	map(c, lbl("tiny64k iova=start+%lluM", ext64 >> 20), MAPSZ, RW, 0, w64 + ext64, SZ_64K);
	unmap(c, lbl("tiny64k all %llu pages", hp / 8), UNMAPSZ, 0, w64, ext64);
	do_create(c, CREATESZ, 0, 12, SZ_4K, 1, &w2m);
	show("CREATE shift=12 size=4K levels=1", "start=0x%llx", (unsigned long long)w2m);
	map(c, lbl("tiny4k iova=start+%lluM-4K", ext4 >> 20), MAPSZ, RW, 0,
	    w2m + ext4 - SZ_4K, SZ_4K);
	map(c, lbl("tiny4k iova=start+%lluM", ext4 >> 20), MAPSZ, RW, 0, w2m + ext4, SZ_4K);
	unmap(c, lbl("tiny4k all %llu pages", hp / 8), UNMAPSZ, 0, w2m, ext4);
	do_remove(c, REMOVESZ, 0, w64);
	show("REMOVE tiny64k", NULL);
	do_create(c, CREATESZ, 0, 16, 32 * 1024, 1, &w64);
	show("CREATE shift=16 size=32K levels=1", "start=0x%llx", (unsigned long long)w64);
	map(c, "tiny32k iova=start", MAPSZ, RW, 0, w64, SZ_64K);
	map(c, lbl("tiny32k iova=start+%lluM-64K", ext64 >> 20), MAPSZ, RW, 0,
	    w64 + ext64 - SZ_64K, SZ_64K);
	unmap(c, lbl("tiny32k all %llu pages", hp / 8), UNMAPSZ, 0, w64, ext64);

	reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER R (nothing mapped)", 0, SZ_16M);
	before = vmlck_kb();
	teardown(c, g);
	note("close group+container: vmlck%+ld", vmlck_kb() - before);
	return 0;
}
