/* SPDX-License-Identifier: MIT */
/*
 * Container and group basics: API version, CHECK_EXTENSION, SET_IOMMU rules,
 * GET_STATUS, SET/UNSET_CONTAINER, GET_DEVICE_FD, unknown ioctls.
 */
#include "../../lib/conf.h"

static void check_ext(int c, const char *when)
{
	static const unsigned long junk[] = { 0x100, 0xffffffffUL, (1UL << 32) | 2, ~0UL };
	unsigned long i;

	for (i = 0; i <= 9; i++) {
		TRY(ioctl(c, VFIO_CHECK_EXTENSION, i));
		show(lbl("%s CHECK_EXTENSION(%lu)", when, i), NULL);
	}
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		TRY(ioctl(c, VFIO_CHECK_EXTENSION, junk[i]));
		show(lbl("%s CHECK_EXTENSION(0x%lx)", when, junk[i]), NULL);
	}
}

static void status(int g, const char *when)
{
	uint32_t flags;

	group_status(g, sizeof(struct vfio_group_status), &flags);
	show(lbl("%s GROUP_GET_STATUS", when), "flags=0x%x", flags);
}

/* ioctls that need an IOMMU driver, asked of a container that has none. */
static void no_driver(int c, const char *when)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	uint8_t buf[64];

	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show(lbl("%s TCE_GET_INFO", when), NULL);
	do_map(c, MAPSZ, RW, buf, 0, SZ_4K);
	show(lbl("%s MAP_DMA", when), NULL);
	TRY(ioctl(c, VFIO_IOMMU_ENABLE));
	show(lbl("%s IOMMU_ENABLE", when), NULL);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	show(lbl("%s TCE_CREATE", when), NULL);
}

int main(void)
{
	static const unsigned long bad_types[] = { 0, 1, 3, 4, 5, 6, 8, 9, 99 };
	int c, c2, g, g2, nullfd, dev, badfd = -1;
	const char *name;
	unsigned long i;
	uint32_t flags;

	conf_init();
	c = open_container();
	TRY(ioctl(c, VFIO_GET_API_VERSION));
	show("GET_API_VERSION", NULL);
	check_ext(c, "nogroup");
	no_driver(c, "nogroup");
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("nogroup SET_IOMMU(v2)", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	show("nogroup SET_IOMMU(v1)", NULL);
	TRY(ioctl(c, _IO(VFIO_TYPE, VFIO_BASE + 50)));
	show("container ioctl(VFIO_BASE+50)", NULL);

	g = open_group();
	status(g, "fresh");
	group_status(g, 7, &flags);
	show("GROUP_GET_STATUS argsz=7", "flags=0x%x", flags);
	group_status(g, 0, &flags);
	show("GROUP_GET_STATUS argsz=0", "flags=0x%x", flags);
	group_status(g, 64, &flags);
	show("GROUP_GET_STATUS argsz=64", "flags=0x%x", flags);
	TRY(g2 = open(group_path(), O_RDWR));
	show_fd("open(group) a second time", NULL);
	if (g2 >= 0)
		close(g2);
	name = device_name();
	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name ? name : "none"));
	show_fd("nocontainer GROUP_GET_DEVICE_FD(device)", NULL);

	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &badfd));
	show("GROUP_SET_CONTAINER(fd -1)", NULL);
	nullfd = open("/dev/null", O_RDWR);
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &nullfd));
	show("GROUP_SET_CONTAINER(/dev/null)", NULL);
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &g));
	show("GROUP_SET_CONTAINER(group fd)", NULL);
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("GROUP_UNSET_CONTAINER (none set)", NULL);
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show("GROUP_SET_CONTAINER", NULL);
	status(g, "set");
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show("GROUP_SET_CONTAINER again (same)", NULL);
	c2 = open_container();
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c2));
	show("GROUP_SET_CONTAINER (other container)", NULL);

	check_ext(c, "group");
	no_driver(c, "group");
	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name ? name : "none"));
	show_fd("noiommu GROUP_GET_DEVICE_FD(device)", NULL);
	if (g_ret >= 0)
		close((int)g_ret);
	for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		TRY(ioctl(c, VFIO_SET_IOMMU, bad_types[i]));
		show(lbl("SET_IOMMU(%lu)", bad_types[i]), NULL);
	}
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("SET_IOMMU(v2)", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("SET_IOMMU(v2) again", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	show("SET_IOMMU(v1) after v2", NULL);
	TRY(ioctl(c, VFIO_GET_API_VERSION));
	show("v2 GET_API_VERSION", NULL);
	check_ext(c, "v2");
	status(g, "v2");
	TRY(ioctl(c, _IO(VFIO_TYPE, VFIO_BASE + 50)));
	show("v2 container ioctl(VFIO_BASE+50)", NULL);
	TRY(ioctl(c, VFIO_IOMMU_GET_INFO, NULL));
	show("v2 ioctl(VFIO_BASE+12, arg 0)", NULL);
	TRY(ioctl(g, _IO(VFIO_TYPE, VFIO_BASE + 50)));
	show("group ioctl(VFIO_BASE+50)", NULL);
	TRY(ioctl(g, VFIO_GET_API_VERSION));
	show("group ioctl(GET_API_VERSION)", NULL);

	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7"));
	show_fd("GROUP_GET_DEVICE_FD(unknown name)", NULL);
	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, ""));
	show_fd("GROUP_GET_DEVICE_FD(\"\")", NULL);
	TRY(dev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name ? name : "none"));
	show_fd("GROUP_GET_DEVICE_FD(device)", NULL);
	if (dev >= 0) {
		TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name));
		show_fd("GROUP_GET_DEVICE_FD(device) again", NULL);
		if (g_ret >= 0)
			close((int)g_ret);
		TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
		show("GROUP_UNSET_CONTAINER (device open)", NULL);
		close(dev);
	}

	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("GROUP_UNSET_CONTAINER", NULL);
	status(g, "unset");
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("GROUP_UNSET_CONTAINER again", NULL);
	no_driver(c, "unset");
	TRY(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	show("unset CHECK_EXTENSION(7)", NULL);

	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c2));
	show("GROUP_SET_CONTAINER (second container)", NULL);
	TRY(ioctl(c2, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	show("second SET_IOMMU(v1)", NULL);
	status(g, "second");
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	show("first container SET_IOMMU(v1), no group", NULL);
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("GROUP_UNSET_CONTAINER (second)", NULL);
	TRY(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	show("GROUP_SET_CONTAINER (first again)", NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("first SET_IOMMU(v2) again", NULL);
	status(g, "again");

	close(nullfd);
	close(c2);
	teardown(c, g);
	return 0;
}
