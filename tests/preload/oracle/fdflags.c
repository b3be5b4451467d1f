// SPDX-License-Identifier: MIT
/*
 * What fcntl's status flags are on the VFIO files (F_GETFL after open,
 * F_SETFL's changes and refusals), and what a container without a group
 * answers: run on the real kernel (the oracle) and under the preload
 * library; the outputs are compared.
 */
#include "../../lib/conf.h"

/* Status flags by name (O_LARGEFILE's value differs between arches). */
static const char *fl_names(int fl)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s",
		 (fl & O_ACCMODE) == O_RDWR ? "RDWR" :
		 (fl & O_ACCMODE) == O_WRONLY ? "WRONLY" : "RDONLY",
		 fl & O_LARGEFILE ? "|LARGEFILE" : "",
		 fl & O_APPEND ? "|APPEND" : "", fl & O_NONBLOCK ? "|NONBLOCK" : "",
		 fl & O_NOATIME ? "|NOATIME" : "", fl & O_ASYNC ? "|ASYNC" : "");
	return buf;
}

static void setfl(int fd, const char *what, int fl)
{
	TRY(fcntl(fd, F_SETFL, fl));
	show(lbl("F_SETFL %s", what), "now %s", fl_names(fcntl(fd, F_GETFL)));
}

int main(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	uint8_t *A = alloc_aligned(SZ_1M, SZ_16M, PROT_READ | PROT_WRITE);
	int c, g, d, bare;

	conf_init();
	c = open(container_path(), O_RDWR | O_CLOEXEC);
	g = open(group_path(), O_RDWR);
	if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU))
		die("set-up");
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, device_name());
	if (d < 0)
		die("GET_DEVICE_FD");
	note("F_GETFL after open");
	printf("container (O_RDWR|O_CLOEXEC)  %s\n", fl_names(fcntl(c, F_GETFL)));
	printf("group (O_RDWR)                %s\n", fl_names(fcntl(g, F_GETFL)));
	printf("device (GET_DEVICE_FD)        %s\n", fl_names(fcntl(d, F_GETFL)));
	TRY(fcntl(c, F_GETFD));
	show("F_GETFD container", NULL);
	note("F_SETFL");
	setfl(c, "container NONBLOCK|APPEND", O_NONBLOCK | O_APPEND);
	setfl(c, "container O_DIRECT", O_DIRECT);
	setfl(c, "container 0", 0);
	setfl(d, "device NOATIME", O_NOATIME);
	setfl(d, "device ASYNC", O_ASYNC);
	setfl(g, "group NONBLOCK", O_NONBLOCK);
	note("a container without a group");
	bare = open(container_path(), O_RDWR);
	TRY(ioctl(bare, VFIO_GET_API_VERSION));
	show("GET_API_VERSION", NULL);
	TRY(ioctl(bare, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	show("CHECK_EXTENSION v2", NULL);
	TRY(ioctl(bare, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	show("SET_IOMMU v2", NULL);
	TRY(ioctl(bare, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show("GET_INFO", NULL);
	do_reg(bare, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, A, SZ_1M);
	show("REGISTER", NULL);
	do_create(bare, CREATESZ, 0, 16, SZ_1G, 1, NULL);
	show("TCE_CREATE", NULL);
	do_map(bare, MAPSZ, RW, A, 0, SZ_64K);
	show("MAP", NULL);
	close(bare);
	close(d);
	teardown(c, g);
	return 0;
}
