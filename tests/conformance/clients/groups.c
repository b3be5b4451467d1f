/* SPDX-License-Identifier: MIT */
/*
 * Two groups (two PEs on two PHBs) in one container: attach before and
 * after SET_IOMMU and before and after windows exist, detach while mapped,
 * re-attach, the last detach, closing the three fds in every order; v1
 * refusing a second group, SET_IOMMU with two groups attached. Needs two
 * groups: group 0 and group 1 (see conf.h).
 */
#include "../../lib/conf.h"

static uint8_t *R;	/* 8 MiB, registered or mapped */
static long base;

static void status(int g, const char *when)
{
	uint32_t flags;

	group_status(g, sizeof(struct vfio_group_status), &flags);
	show(lbl("%s GROUP_GET_STATUS", when), "flags=0x%x", flags);
}

static void set_container(int g, int c, const char *what)
{
	long before = vmlck_kb();

	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void unset_container(int g, const char *what)
{
	long before = vmlck_kb();

	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void set_iommu(int c, unsigned long type, const char *what)
{
	TRY(ioctl(c, VFIO_SET_IOMMU, type));
	show(what, NULL);
}

static void reg(int c, const char *what)
{
	long before = vmlck_kb();

	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void map(int c, const char *what, uint64_t off, uint64_t iova, uint64_t size)
{
	show_map(c, what, R + off, iova, size);
}

#define unmap show_unmap

static uint64_t create(int c, const char *what)
{
	long before = vmlck_kb();
	uint64_t start;

	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	show(what, "start=0x%llx vmlck%+ld", (unsigned long long)start,
	     vmlck_kb() - before);
	return g_ret ? 0 : start;
}

static void removew(int c, uint64_t start, const char *what)
{
	long before = vmlck_kb();

	do_remove(c, REMOVESZ, 0, start);
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void info(int c, const char *when)
{
	struct vfio_iommu_spapr_tce_info i = { .argsz = sizeof(i) };

	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i));
	show(lbl("%s TCE_GET_INFO", when), "flags=0x%x size=0x%x pgsizes=0x%llx",
	     i.flags, i.dma32_window_size, (unsigned long long)i.ddw.pgsizes);
}

static void eeh_state(int c, const char *when)
{
	struct vfio_eeh_pe_op o = { .argsz = sizeof(o), .op = VFIO_EEH_PE_GET_STATE };

	TRY(ioctl(c, VFIO_EEH_PE_OP, &o));
	show(lbl("%s EEH GET_STATE", when), NULL);
}

static void close_fd(int fd, const char *what)
{
	long before = vmlck_kb();

	TRY(close(fd));
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

/* Both groups set before SET_IOMMU; the driver attaches both at once. */
static void before_set_iommu(void)
{
	int c, g0, g1, d0, d1;
	uint64_t start;

	note("attach both groups before SET_IOMMU");
	c = open_container();
	g0 = open_group_n(0);
	g1 = open_group_n(1);
	set_container(g0, c, "A SET_CONTAINER g0");
	set_container(g1, c, "A SET_CONTAINER g1");
	status(g1, "A g1");
	d1 = get_device(g1, 1, "A GET_DEVICE_FD g1 (no iommu)");
	if (d1 >= 0)
		close(d1);
	set_iommu(c, VFIO_SPAPR_TCE_v2_IOMMU, "A SET_IOMMU(v2) with two groups");
	set_iommu(c, VFIO_SPAPR_TCE_v2_IOMMU, "A SET_IOMMU(v2) again");
	info(c, "A");
	reg(c, "A REGISTER 8M");
	map(c, "A iova=0 size=64K (makes the default window)", 0, 0, SZ_64K);
	start = create(c, "A CREATE 64K pages 1G");
	map(c, "A iova=start size=1M", 0, start, SZ_1M);
	eeh_state(c, "A");
	d0 = get_device(g0, 0, "A GET_DEVICE_FD g0");
	d1 = get_device(g1, 1, "A GET_DEVICE_FD g1");
	unset_container(g1, "A UNSET_CONTAINER g1 (device open)");
	if (d1 >= 0)
		close_fd(d1, "A close(device g1)");

	note("detach g1 while mapped, the container keeps working");
	unset_container(g1, "A UNSET_CONTAINER g1 (mapped)");
	status(g1, "A g1 detached");
	unset_container(g1, "A UNSET_CONTAINER g1 again");
	map(c, "A iova=start+1M size=1M (one group left)", SZ_1M, start + SZ_1M, SZ_1M);
	unmap(c, "A iova=start+1M size=1M", start + SZ_1M, SZ_1M);
	eeh_state(c, "A one group");

	note("re-attach g1 with both windows live and mapped");
	set_container(g1, c, "A SET_CONTAINER g1 again");
	status(g1, "A g1 re-attached");
	map(c, "A iova=0x10000 size=64K (two groups again)", SZ_64K, SZ_64K, SZ_64K);
	d1 = get_device(g1, 1, "A GET_DEVICE_FD g1 again");
	if (d1 >= 0)
		close(d1);
	removew(c, start, "A REMOVE the 64-bit window (two groups)");
	start = create(c, "A CREATE it again (two groups)");

	note("the first group leaves first, then the last one");
	if (d0 >= 0)
		close_fd(d0, "A close(device g0)");
	unset_container(g0, "A UNSET_CONTAINER g0 (the first)");
	info(c, "A g1 only");
	map(c, "A iova=start size=64K (g1 only)", 0, start, SZ_64K);
	unset_container(g1, "A UNSET_CONTAINER g1 (the last)");
	note("A vmlck since start: %+ld", vmlck_kb() - base);
	info(c, "A no group");
	map(c, "A iova=0 size=64K (no group)", 0, 0, SZ_64K);
	status(g0, "A g0 detached");
	set_container(g1, c, "A SET_CONTAINER g1 (after the last left)");
	set_iommu(c, VFIO_SPAPR_TCE_v2_IOMMU, "A SET_IOMMU(v2) (fresh)");
	map(c, "A iova=0 size=64K (fresh: nothing registered)", 0, 0, SZ_64K);
	reg(c, "A REGISTER 8M (fresh)");
	close(g1);
	close(g0);
	close(c);
	note("A vmlck since start after closing: %+ld", vmlck_kb() - base);
}

/* g1 joins a container that already has its IOMMU: before and after windows. */
static void after_set_iommu(void)
{
	int c, g0, g1;
	uint64_t start;

	note("attach g1 after SET_IOMMU, default window still pending");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g0);
	g1 = open_group_n(1);
	set_container(g1, c, "B SET_CONTAINER g1 (window pending)");
	status(g1, "B g1");
	reg(c, "B REGISTER 8M");
	map(c, "B iova=0 size=64K", 0, 0, SZ_64K);
	unset_container(g1, "B UNSET_CONTAINER g1");
	close(g1);
	teardown(c, g0);

	note("attach g1 after both windows exist and are mapped");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g0);
	reg(c, "C REGISTER 8M");
	map(c, "C iova=0 size=64K", 0, 0, SZ_64K);
	start = create(c, "C CREATE 64K pages 1G");
	map(c, "C iova=start size=64K", 0, start, SZ_64K);
	g1 = open_group_n(1);
	set_container(g1, c, "C SET_CONTAINER g1 (two windows)");
	create(c, "C CREATE a third window");
	unmap(c, "C iova=start size=64K", start, SZ_64K);
	removew(c, 0, "C REMOVE the default window (two groups)");
	unset_container(g0, "C UNSET_CONTAINER g0");
	create(c, "C CREATE in slot 0 (g1 only)");
	set_container(g0, c, "C SET_CONTAINER g0 again");
	info(c, "C");
	close(g1);
	teardown(c, g0);

	note("attach g1 after the default window was cancelled");
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g0);
	reg(c, "D REGISTER 8M");
	removew(c, 0, "D REMOVE 0 (cancel the pending default)");
	g1 = open_group_n(1);
	set_container(g1, c, "D SET_CONTAINER g1 (no window)");
	map(c, "D iova=0 size=64K (no window)", 0, 0, SZ_64K);
	start = create(c, "D CREATE 64K pages 1G");
	close(g1);
	teardown(c, g0);
	note("B-D vmlck since start: %+ld", vmlck_kb() - base);
}

/* v1 shares no table between PEs: a second group is refused. */
static void v1_groups(void)
{
	int c, c2, g0, g1;

	note("v1: a second group");
	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g0);
	g1 = open_group_n(1);
	set_container(g1, c, "E v1 SET_CONTAINER g1");
	status(g1, "E g1");
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show("E v1 ENABLE", "vmlck%+ld", vmlck_kb() - base);
	map(c, "E v1 iova=0 size=64K", 0, 0, SZ_64K);
	set_container(g1, c, "E v1 SET_CONTAINER g1 (enabled, mapped)");
	c2 = open_container();
	set_container(g1, c2, "E SET_CONTAINER g1 (own container)");
	set_iommu(c2, VFIO_SPAPR_TCE_IOMMU, "E SET_IOMMU(v1) g1's container");
	TRY(ioctl(c2, VFIO_IOMMU_ENABLE));
	show("E v1 ENABLE g1's container", "vmlck%+ld", vmlck_kb() - base);
	close(g1);
	close(c2);
	teardown(c, g0);
	note("E vmlck since start: %+ld", vmlck_kb() - base);

	note("SET_IOMMU with two groups attached");
	c = open_container();
	g0 = open_group_n(0);
	g1 = open_group_n(1);
	set_container(g0, c, "F SET_CONTAINER g0");
	set_container(g1, c, "F SET_CONTAINER g1");
	set_iommu(c, VFIO_SPAPR_TCE_IOMMU, "F SET_IOMMU(v1) with two groups");
	status(g0, "F g0");
	status(g1, "F g1");
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show("F ENABLE after the failed SET_IOMMU", NULL);
	set_iommu(c, VFIO_SPAPR_TCE_v2_IOMMU, "F SET_IOMMU(v2) with two groups");
	info(c, "F");
	unset_container(g1, "F UNSET_CONTAINER g1");
	unset_container(g0, "F UNSET_CONTAINER g0");
	set_container(g0, c, "F SET_CONTAINER g0 again");
	set_iommu(c, VFIO_SPAPR_TCE_IOMMU, "F SET_IOMMU(v1) with one group");
	set_container(g1, c, "F v1 SET_CONTAINER g1");
	close(g1);
	teardown(c, g0);
}

/* The three fds of a busy two-group container, closed in order @order. */
static void close_order(const char *order)
{
	int fd[3], c, g0, g1;
	const char *name[3] = { "container", "g0", "g1" };
	uint64_t start;
	long before = vmlck_kb();

	c = open_container();
	g0 = open_group_n(0);
	g1 = open_group_n(1);
	if (ioctl(g0, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(g1, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU))
		die("two groups");
	do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, R, 8 * SZ_1M);
	do_map(c, MAPSZ, RW, R, 0, SZ_64K);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	do_map(c, MAPSZ, RW, R, start, SZ_64K);
	show(lbl("%s busy: REGISTER, MAP, CREATE, MAP", order), "vmlck%+ld",
	     vmlck_kb() - before);
	fd[0] = c;
	fd[1] = g0;
	fd[2] = g1;
	for (const char *p = order; *p; p++) {
		int i = *p - '0';

		close_fd(fd[i], lbl("%s close(%s)", order, name[i]));
		/* What the groups still open see now. */
		for (int j = 1; j <= 2; j++)
			if (strchr(p + 1, '0' + j))
				status(fd[j], lbl("%s %s", order, name[j]));
	}
	note("%s vmlck since start: %+ld", order, vmlck_kb() - base);
}

int main(void)
{
	static const char *const orders[] = { "012", "021", "102", "120", "201", "210" };

	conf_init();
	R = alloc_aligned(8 * SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	base = vmlck_kb();
	before_set_iommu();
	after_set_iommu();
	v1_groups();
	note("closing order (0 = container, 1 = g0, 2 = g1)");
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
		close_order(orders[i]);
	return 0;
}
