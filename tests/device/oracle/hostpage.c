// SPDX-License-Identifier: MIT
/*
 * What the host page size changes, as a VFIO program sees it: the
 * alignment REGISTER demands, VmLck after REGISTER and TCE_CREATE, which
 * IOMMU page sizes can map the registered memory. Run on the real kernel
 * with 64K and with 4K pages (the oracle's two flavours), and on spapr-tce
 * with a topology of "host_page 64K" and of "host_page 4K": each output
 * must match its kernel's.
 */
#include "../../lib/conf.h"

static uint8_t *A;

static void reg(int c, unsigned long cmd, const char *what, int64_t off,
		uint64_t size)
{
	long before = vmlck_kb();

	do_reg(c, cmd, REGSZ, 0, A + off, size);
	show(lbl("%s %s", cmd == VFIO_IOMMU_SPAPR_REGISTER_MEMORY ?
		 "REGISTER" : "UNREGISTER", what), "vmlck%+ld", vmlck_kb() - before);
}

#define R(...) reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, __VA_ARGS__)
#define U(...) reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, __VA_ARGS__)

static uint64_t create(int c, const char *what, uint32_t shift, uint64_t size,
		       uint32_t levels)
{
	long before = vmlck_kb();
	uint64_t start = 0;

	do_create(c, CREATESZ, 0, shift, size, levels, &start);
	show(lbl("TCE_CREATE %s", what), "vmlck%+ld", vmlck_kb() - before);
	return start;
}

static void remove_win(int c, const char *what, uint64_t start)
{
	long before = vmlck_kb();

	do_remove(c, REMOVESZ, 0, start);
	show(lbl("TCE_REMOVE %s", what), "vmlck%+ld", vmlck_kb() - before);
}

static void map(int c, const char *what, int64_t off, uint64_t iova,
		uint64_t size)
{
	do_map(c, MAPSZ, RW, A + off, iova, size);
	show(lbl("MAP %s", what), NULL);
}

static void unmap(int c, const char *what, uint64_t iova, uint64_t size)
{
	do_unmap(c, UNMAPSZ, 0, iova, size);
	show(lbl("UNMAP %s", what), NULL);
}

int main(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	uint64_t w;
	long base;
	int c, g;

	conf_init();
	A = alloc_aligned(16 * SZ_1M, SZ_16M, PROT_READ | PROT_WRITE);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	base = vmlck_kb();

	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show("GET_INFO", "dma32 0x%llx+0x%llx pgsizes 0x%llx levels %u windows %u",
	     (unsigned long long)info.dma32_window_start,
	     (unsigned long long)info.dma32_window_size,
	     (unsigned long long)info.ddw.pgsizes, info.ddw.levels,
	     info.ddw.max_dynamic_windows_supported);

	note("registration alignment and charge");
	R("A+4K size=4K", SZ_4K, SZ_4K);
	R("A size=68K", 0, SZ_64K + SZ_4K);
	R("A+1M size=64K", SZ_1M, SZ_64K);
	R("A+2M+60K size=8K (straddles 64K)", 2 * SZ_1M + 60 * 1024, 2 * SZ_4K);
	R("A+4M size=1M", 4 * SZ_1M, SZ_1M);
	R("A+4M+4K size=4K (inside)", 4 * SZ_1M + SZ_4K, SZ_4K);
	U("A+4K size=4K", SZ_4K, SZ_4K);
	U("A size=68K", 0, SZ_64K + SZ_4K);
	U("A+1M size=64K", SZ_1M, SZ_64K);
	U("A+2M+60K size=8K", 2 * SZ_1M + 60 * 1024, 2 * SZ_4K);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	note("IOMMU pages over 4K-backed memory (A+4M, 1M registered)");
	map(c, "4K page iova=0 (default window)", 4 * SZ_1M, 0, SZ_4K);
	unmap(c, "iova=0 size=4K", 0, SZ_4K);
	w = create(c, "64K pages 1G levels=1", 16, SZ_1G, 1);
	map(c, "64K page in the 64K window", 4 * SZ_1M, w, SZ_64K);
	unmap(c, "64K page", w, SZ_64K);
	remove_win(c, "64K pages 1G", w);

	note("table charges");
	w = create(c, "4K pages 1G levels=1", 12, SZ_1G, 1);
	remove_win(c, "4K pages 1G levels=1", w);
	w = create(c, "4K pages 1G levels=2", 12, SZ_1G, 2);
	remove_win(c, "4K pages 1G levels=2", w);
	w = create(c, "64K pages 64M levels=1", 16, 64 * SZ_1M, 1);
	remove_win(c, "64K pages 64M levels=1", w);
	w = create(c, "64K pages 1M levels=1", 16, SZ_1M, 1);
	remove_win(c, "64K pages 1M levels=1", w);
	w = create(c, "4K pages 8G levels=1", 12, 8 * SZ_1G, 1);
	remove_win(c, "4K pages 8G levels=1", w);
	w = create(c, "4K pages 8G levels=2", 12, 8 * SZ_1G, 2);
	remove_win(c, "4K pages 8G levels=2", w);
	w = create(c, "16M pages 1T levels=1", 24, 1ULL << 40, 1);
	remove_win(c, "16M pages 1T levels=1", w);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	U("A+4M size=1M", 4 * SZ_1M, SZ_1M);
	base = vmlck_kb();
	teardown(c, g);
	note("close group+container: vmlck%+ld", vmlck_kb() - base);
	return 0;
}
