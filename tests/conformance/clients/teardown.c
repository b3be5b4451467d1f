/* SPDX-License-Identifier: MIT */
/*
 * Closing fds: what each close gives back (VmLck), in both orders, what a
 * fresh container sees afterwards, v1 closed while enabled, and the kernel's
 * leaks (failed CREATE, UNREGISTER of a mapped region) that outlive the fds.
 */
#include "../../lib/conf.h"

static uint8_t *R;

static void status(int g, const char *when)
{
	uint32_t flags;

	group_status(g, sizeof(struct vfio_group_status), &flags);
	show(lbl("%s GROUP_GET_STATUS", when), "flags=0x%x", flags);
}

/* A v2 container with 8M registered, 64K mapped in each of two windows. */
static void busy_v2(int *c, int *g, const char *w)
{
	uint64_t start;
	long before = vmlck_kb();

	setup(VFIO_SPAPR_TCE_v2_IOMMU, c, g);
	do_reg(*c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show(lbl("%s REGISTER 8M", w), NULL);
	do_map(*c, MAPSZ, RW, R, 0, SZ_64K);
	show(lbl("%s MAP iova=0 size=64K", w), NULL);
	do_create(*c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	show(lbl("%s CREATE shift=16 size=1G levels=1", w), "start=0x%llx",
	     (unsigned long long)start);
	do_map(*c, MAPSZ, RW, R, start, SZ_64K);
	show(lbl("%s MAP iova=start size=64K", w), "vmlck%+ld", vmlck_kb() - before);
}

static void close_fd(int fd, const char *what)
{
	long before = vmlck_kb();

	TRY(close(fd));
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

int main(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	long base;
	int c, g, c2;

	conf_init();
	R = alloc_aligned(8 * SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	base = vmlck_kb();

	note("order 1: container fd closed first, then the group");
	busy_v2(&c, &g, "1");
	close_fd(c, "1 close(container)");
	status(g, "1 after close(container)");
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("1 GROUP_UNSET_CONTAINER", "vmlck%+ld", vmlck_kb() - base);
	status(g, "1 after unset");
	close_fd(g, "1 close(group)");
	note("1 vmlck since start: %+ld", vmlck_kb() - base);

	note("order 2: group fd closed first, then the container");
	busy_v2(&c, &g, "2");
	close_fd(g, "2 close(group)");
	info.argsz = sizeof(info);
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show("2 TCE_GET_INFO on the orphan container", NULL);
	do_map(c, MAPSZ, RW, R, 0, SZ_64K);
	show("2 MAP on the orphan container", NULL);
	close_fd(c, "2 close(container)");
	note("2 vmlck since start: %+ld", vmlck_kb() - base);

	note("order 3: UNSET_CONTAINER with the container fd still open");
	busy_v2(&c, &g, "3");
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("3 GROUP_UNSET_CONTAINER", "vmlck%+ld", vmlck_kb() - base);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("3 SET_IOMMU(v2) with no group", NULL);
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show("3 GROUP_SET_CONTAINER same container", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("3 SET_IOMMU(v2)", "vmlck%+ld", vmlck_kb() - base);
	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show("3 REGISTER 8M again (fresh driver state)", "vmlck%+ld", vmlck_kb() - base);
	do_map(c, MAPSZ, RW, R, WIN64, SZ_64K);
	show("3 MAP iova=1<<59 (old window gone)", NULL);
	teardown(c, g);
	note("3 vmlck since start: %+ld", vmlck_kb() - base);

	note("fresh container after all that");
	c = open_container();
	g = open_group();
	status(g, "fresh");
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show("fresh GROUP_SET_CONTAINER", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("fresh SET_IOMMU(v2)", NULL);
	info.argsz = sizeof(info);
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show("fresh TCE_GET_INFO", "flags=0x%x start=0x%x size=0x%x",
	     info.flags, info.dma32_window_start, info.dma32_window_size);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	show("fresh CREATE (default window pending again)", "vmlck%+ld", vmlck_kb() - base);
	teardown(c, g);

	note("v1 closed while enabled, with a mapping");
	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g);
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show("v1 ENABLE", "vmlck%+ld", vmlck_kb() - base);
	do_map(c, MAPSZ, RW, R, 0, SZ_1M);
	show("v1 MAP iova=0 size=1M", "vmlck%+ld", vmlck_kb() - base);
	close_fd(g, "v1 close(group)");
	close_fd(c, "v1 close(container)");
	note("v1 vmlck since start: %+ld", vmlck_kb() - base);

	note("two containers in turn: the group moves with its state reset");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show("A REGISTER 8M", NULL);
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("A GROUP_UNSET_CONTAINER", "vmlck%+ld", vmlck_kb() - base);
	c2 = open_container();
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c2));
	show("B GROUP_SET_CONTAINER", NULL);
	TRY(ioctl(c2, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("B SET_IOMMU(v2)", NULL);
	do_reg(c2, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show("B REGISTER 8M", "vmlck%+ld", vmlck_kb() - base);
	close(c);
	teardown(c2, g);
	note("A/B vmlck since start: %+ld", vmlck_kb() - base);

	note("kernel leaks that outlive every fd");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	do_create(c, CREATESZ, 0, 16, 64 * SZ_1G, 3, NULL);
	show("L CREATE shift=16 size=64G levels=3 (fails)", "vmlck%+ld", vmlck_kb() - base);
	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show("L REGISTER 8M", NULL);
	do_map(c, MAPSZ, RW, R, 0, SZ_64K);
	show("L MAP iova=0 size=64K", NULL);
	do_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show("L UNREGISTER 8M (mapped)", "vmlck%+ld", vmlck_kb() - base);
	teardown(c, g);
	note("L vmlck since start after closing everything: %+ld", vmlck_kb() - base);
	return 0;
}
