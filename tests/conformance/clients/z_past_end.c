/* SPDX-License-Identifier: MIT */
/*
 * A MAP whose range starts inside a window and runs past its end. The kernel
 * checks only the first page of the range against the window and then writes
 * TCEs past the window's last entry. To keep the guest safe the window here
 * has two levels and exactly 8192 entries (one 64K second-level page): an
 * entry past the end lands in slot 1 of the top level, inside the top level's
 * own 64K allocation, instead of in memory the table does not own.
 * The file name starts with "z_" so the oracle (which runs clients in
 * alphabetical order) runs it last.
 */
#include "../../lib/conf.h"

static uint8_t *R;

static void map(int c, const char *what, uint64_t off, uint64_t iova, uint64_t size)
{
	show_map(c, what, R + off, iova, size);
}

#define unmap show_unmap

static void reg(int c, unsigned long cmd, const char *what)
{
	long before = vmlck_kb();

	do_reg(c, cmd, REGSZ, 0, R, SZ_1M);
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

int main(void)
{
	const uint64_t wsz = 512 * SZ_1M;
	uint64_t w, end;
	long base, before;
	int c, g;

	conf_init();
	R = alloc_aligned(SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	base = vmlck_kb();
	reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER R size=1M");

	note("window: 64K pages, 512M (8192 entries), 2 levels");
	before = vmlck_kb();
	do_create(c, CREATESZ, 0, 16, wsz, 2, &w);
	show("CREATE shift=16 size=512M levels=2", "start=0x%llx vmlck%+ld",
	     (unsigned long long)w, vmlck_kb() - before);
	end = w + wsz;
	map(c, "iova=end (one past)", 0, end, SZ_64K);
	map(c, "iova=end-64K size=64K (last page)", 0, end - SZ_64K, SZ_64K);
	unmap(c, "iova=end-64K size=64K", end - SZ_64K, SZ_64K);
	map(c, "iova=end-64K size=128K (1 page past the end)", 0, end - SZ_64K, 2 * SZ_64K);
	reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER R (mapped)");
	unmap(c, "iova=end size=64K (the stray page alone)", end, SZ_64K);
	unmap(c, "iova=end-64K size=128K (clears the stray entry too)", end - SZ_64K, 2 * SZ_64K);
	reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER R again");
	reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER R");
	reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER R");
	map(c, "iova=end-64K size=128K again", 0, end - SZ_64K, 2 * SZ_64K);
	unmap(c, "iova=end-64K size=64K (leaves the stray entry)", end - SZ_64K, SZ_64K);
	reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER R (stray entry left)");
	before = vmlck_kb();
	do_remove(c, REMOVESZ, 0, w);
	show("REMOVE the window", "vmlck%+ld", vmlck_kb() - before);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);
	before = vmlck_kb();
	teardown(c, g);
	note("close group+container: vmlck%+ld", vmlck_kb() - before);
	return 0;
}
