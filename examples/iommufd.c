// SPDX-License-Identifier: MIT
/*
 * An iommufd client for POWER: one domain with two DMA windows.
 *
 * Opens /dev/iommu and a VFIO device's cdev, binds the device, allocates
 * an IOAS and its sPAPR TCE domain with the geometry of both windows as
 * driver data, lists the usable IOVA ranges (the two windows), maps
 * memory into each, attaches the device (its group joins both windows at
 * once), then unmaps and detaches. Written only against <linux/iommufd.h>
 * and <linux/vfio.h>, plus the data type spapr-tce defines.
 *
 *   usage: iommufd [/dev/vfio/devices/vfioN]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif
#include <spapr_tce/iommufd.h>	/* IOMMU_HWPT_DATA_SPAPR_TCE */

#define CHECK(call) do { \
	if ((call) < 0) { \
		fprintf(stderr, "%s: %s\n", #call, strerror(errno)); \
		return 1; \
	} \
} while (0)

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/vfio/devices/vfio0";
	struct iommu_hwpt_spapr_tce geom = {
		.window = {
			{ .page_shift = 12, .levels = 1, .window_size = 1ULL << 28 },
			{ .page_shift = 16, .levels = 2, .window_size = 1ULL << 32 },
		},
	};
	struct iommu_iova_range ranges[4];
	size_t len = 1 << 20;
	int iommufd, devfd;
	void *buf;

	iommufd = open("/dev/iommu", O_RDWR);
	CHECK(iommufd);
	devfd = open(path, O_RDWR);
	CHECK(devfd);

	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = iommufd,
	};
	CHECK(ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));

	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	CHECK(ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc));

	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.dev_id = bind.out_devid,
		.pt_id = alloc.out_ioas_id,
		.data_type = IOMMU_HWPT_DATA_SPAPR_TCE,
		.data_len = sizeof(geom),
		.data_uptr = (uintptr_t)&geom,
	};
	CHECK(ioctl(iommufd, IOMMU_HWPT_ALLOC, &hwpt));

	struct iommu_ioas_iova_ranges rq = {
		.size = sizeof(rq),
		.ioas_id = alloc.out_ioas_id,
		.num_iovas = 4,
		.allowed_iovas = (uintptr_t)ranges,
	};
	CHECK(ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &rq));
	printf("domain %u: %u windows, alignment %#llx\n", hwpt.out_hwpt_id,
	       rq.num_iovas, (unsigned long long)rq.out_iova_alignment);
	for (unsigned int i = 0; i < rq.num_iovas; i++)
		printf("  window %u: %#llx..%#llx\n", i,
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);

	buf = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	for (unsigned int i = 0; i < rq.num_iovas && i < 2; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = alloc.out_ioas_id,
			.user_va = (uintptr_t)buf + i * len,
			.length = len,
			.iova = ranges[i].start,
		};
		CHECK(ioctl(iommufd, IOMMU_IOAS_MAP, &map));
		printf("mapped %zu KiB at %#llx\n", len >> 10,
		       (unsigned long long)map.iova);
	}

	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = hwpt.out_hwpt_id,
	};
	CHECK(ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	printf("device %u attached to domain %u (both windows)\n",
	       bind.out_devid, attach.pt_id);

	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = alloc.out_ioas_id,
		.iova = 0, .length = UINT64_MAX,
	};
	CHECK(ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap));
	printf("unmapped %llu KiB\n", (unsigned long long)unmap.length >> 10);

	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	CHECK(ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	close(devfd);
	close(iommufd);
	munmap(buf, 2 * len);
	printf("ok\n");
	return 0;
}
