/* SPDX-License-Identifier: MIT */
/*
 * v2 DMA windows: the pending default window, TCE_CREATE / TCE_REMOVE rules,
 * start addresses, page shifts, levels, window sizes and the exact locked
 * memory charged (and given back) for each table.
 */
#include "../../lib/conf.h"

static const char *sz(uint64_t v)
{
	static char buf[4][24];
	static int n;
	char *b = buf[n++ & 3];

	if (v && !(v & ((1ULL << 50) - 1)))
		snprintf(b, 24, "%lluP", (unsigned long long)(v >> 50));
	else if (v && !(v & ((1ULL << 40) - 1)))
		snprintf(b, 24, "%lluT", (unsigned long long)(v >> 40));
	else if (v && !(v & (SZ_1G - 1)))
		snprintf(b, 24, "%lluG", (unsigned long long)(v >> 30));
	else if (v && !(v & (SZ_1M - 1)) && v < SZ_1G)
		snprintf(b, 24, "%lluM", (unsigned long long)(v >> 20));
	else if (v && !(v & 0x3ff) && v < SZ_1M)
		snprintf(b, 24, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(b, 24, "0x%llx", (unsigned long long)v);
	return b;
}

static long create(int c, uint32_t argsz, uint32_t flags, uint32_t shift,
		   uint64_t wsize, uint32_t levels, uint64_t *start)
{
	long before = vmlck_kb();
	uint64_t s;

	do_create(c, argsz, flags, shift, wsize, levels, &s);
	show(lbl("CREATE shift=%u size=%s levels=%u%s", shift, sz(wsize), levels,
		 argsz != CREATESZ ? lbl(" argsz=%u", argsz) : flags ? lbl(" flags=0x%x", flags) : ""),
	     "start=0x%llx vmlck%+ld", (unsigned long long)s, vmlck_kb() - before);
	if (start)
		*start = s;
	return g_ret;
}

static long removew(int c, uint32_t argsz, uint32_t flags, uint64_t start, const char *what)
{
	long before = vmlck_kb();

	do_remove(c, argsz, flags, start);
	show(lbl("REMOVE 0x%llx%s", (unsigned long long)start, what), "vmlck%+ld",
	     vmlck_kb() - before);
	return g_ret;
}

/* Create, and remove again when it worked, so the slot is free for the next. */
static void cycle(int c, uint32_t shift, uint64_t wsize, uint32_t levels)
{
	uint64_t start;

	if (create(c, CREATESZ, 0, shift, wsize, levels, &start) == 0)
		removew(c, REMOVESZ, 0, start, "");
}

static void info(int c, const char *when)
{
	struct vfio_iommu_spapr_tce_info i = { .argsz = sizeof(i) };

	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i));
	show(lbl("%s TCE_GET_INFO", when),
	     "flags=0x%x start=0x%x size=0x%x pgsizes=0x%llx maxwin=%u levels=%u",
	     i.flags, i.dma32_window_start, i.dma32_window_size,
	     (unsigned long long)i.ddw.pgsizes,
	     i.ddw.max_dynamic_windows_supported, i.ddw.levels);
}

static void closeall(int c, int g)
{
	long before = vmlck_kb();

	teardown(c, g);
	note("close group+container: vmlck%+ld", vmlck_kb() - before);
}

static void pending_default(void)
{
	struct vfio_iommu_spapr_tce_create cr;
	uint64_t start;
	long before;
	int c, g;

	note("segment: the default window is pending, the first CREATE makes it");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	removew(c, 15, 0, 0, " argsz=15");
	removew(c, REMOVESZ, 1, 0, " flags=1");
	removew(c, REMOVESZ, 0, 0x1234, " (pending default)");
	create(c, 39, 0, 16, SZ_1G, 1, NULL);
	create(c, CREATESZ, 1, 16, SZ_1G, 1, NULL);
	create(c, CREATESZ, 0x80000000, 16, SZ_1G, 1, NULL);
	create(c, 4096, 0, 16, SZ_1G, 1, &start);
	removew(c, REMOVESZ, 0, start, "");
	memset(&cr, 0, sizeof(cr));
	cr.argsz = CREATESZ;
	cr.page_shift = 16;
	cr.window_size = SZ_1G;
	cr.levels = 1;
	cr.__resv1 = 0xffffffff;
	cr.__resv2 = 0xffffffff;
	before = vmlck_kb();
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	show("CREATE shift=16 size=1G levels=1 resv=0xffffffff",
	     "start=0x%llx resv1=0x%x resv2=0x%x vmlck%+ld",
	     (unsigned long long)cr.start_addr, cr.__resv1, cr.__resv2,
	     vmlck_kb() - before);
	create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	create(c, CREATESZ, 0, 13, SZ_1G, 1, NULL);
	create(c, CREATESZ, 0, 16, SZ_1G, 0, NULL);
	removew(c, REMOVESZ, 0, 0x1234, " (inside default)");
	removew(c, REMOVESZ, 0, 0x1234, " again");
	removew(c, REMOVESZ, 0, 0, "");
	removew(c, REMOVESZ, 0, WIN64 + SZ_1G, " (one past the end)");
	removew(c, REMOVESZ, 0, WIN64 - 1, " (one below the start)");
	create(c, CREATESZ, 0, 12, 2 * SZ_1G, 1, NULL);
	removew(c, REMOVESZ, 0, WIN64 + SZ_1G - 1, " (last byte)");
	create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	info(c, "two windows");
	closeall(c, g);
}

static void cancel_default(void)
{
	uint8_t *mem = alloc_aligned(SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	int c, g;

	note("segment: REMOVE(0) while pending cancels the default window");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, mem, SZ_1M);
	show("REGISTER 1M", NULL);
	removew(c, REMOVESZ, 0, 0, " (pending default)");
	removew(c, REMOVESZ, 0, 0, " again");
	do_map(c, MAPSZ, RW, mem, 0, SZ_64K);
	show("MAP iova=0 size=64K (no window)", NULL);
	do_unmap(c, UNMAPSZ, 0, 0, SZ_64K);
	show("UNMAP iova=0 size=64K (no window)", NULL);
	info(c, "no window");
	create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	removew(c, REMOVESZ, 0, 0, "");
	create(c, CREATESZ, 0, 12, 2 * SZ_1G, 1, NULL);
	removew(c, REMOVESZ, 0, WIN64, "");
	removew(c, REMOVESZ, 0, 0, "");
	closeall(c, g);
	munmap(mem, SZ_1M);
}

static void shifts_levels_sizes(void)
{
	static const uint32_t shifts[] = { 0, 11, 12, 13, 16, 20, 21, 22, 24, 28, 30, 31, 34, 63, 64 };
	int c, g;
	size_t i;

	note("segment: one window in slot 1 at a time, default window made first");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	cycle(c, 16, SZ_64K, 1);
	note("page shifts, 4G window, 1 level");
	for (i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++)
		cycle(c, shifts[i], 4 * SZ_1G, 1);
	note("levels, 64K pages, 64G window");
	for (i = 0; i <= 6; i++)
		cycle(c, 16, 64 * SZ_1G, i);
	note("levels, 4K pages, 16G window");
	for (i = 1; i <= 6; i++)
		cycle(c, 12, 16 * SZ_1G, i);
	note("window sizes, 64K pages, 1 level");
	cycle(c, 16, 0, 1);
	cycle(c, 16, 32 * 1024, 1);
	cycle(c, 16, SZ_64K, 1);
	cycle(c, 16, 3 * SZ_64K / 2, 1);
	cycle(c, 16, 3 * SZ_1G, 1);
	cycle(c, 16, SZ_1G + SZ_64K, 1);
	cycle(c, 16, 128 * SZ_1G, 1);
	cycle(c, 16, 256 * SZ_1G, 1);
	cycle(c, 16, 1024 * SZ_1G, 1);
	note("window sizes, 4K pages, 1 level");
	cycle(c, 12, 2048, 1);
	cycle(c, 12, SZ_4K, 1);
	cycle(c, 12, 2 * SZ_1G, 1);
	cycle(c, 12, 8 * SZ_1G, 1);
	note("big windows, several levels");
	cycle(c, 16, 1024 * SZ_1G, 2);
	cycle(c, 16, 1ULL << 44, 2);
	cycle(c, 16, 1ULL << 50, 2);
	cycle(c, 16, 1ULL << 55, 2);
	cycle(c, 16, 1ULL << 59, 2);
	cycle(c, 16, 1ULL << 63, 2);
	cycle(c, 21, 256 * SZ_1G, 2);
	cycle(c, 21, 1ULL << 50, 2);
	cycle(c, 30, 1ULL << 50, 1);
	cycle(c, 30, 1ULL << 59, 1);
	cycle(c, 12, 1ULL << 40, 3);
	cycle(c, 12, 1ULL << 42, 3);
	closeall(c, g);
}

int main(void)
{
	conf_init();
	pending_default();
	cancel_default();
	shifts_levels_sizes();
	return 0;
}
