// SPDX-License-Identifier: MIT
/*
 * An iommufd client for POWER: one domain with two DMA windows.
 *
 * Opens /dev/iommu and a VFIO device's cdev, binds the device, allocates
 * an IOAS and its sPAPR TCE domain with the geometry of both windows as
 * driver data, lists the usable IOVA ranges (the two windows), maps
 * memory into each, attaches the device (its group joins both windows at
 * once), lets the device copy from window 0 to window 1, then unmaps,
 * detaches and checks that the locked memory went back. Written only
 * against <linux/iommufd.h> and <linux/vfio.h> (and the DMA test device's
 * registers, vfio-example.h), plus the data type spapr-tce defines.
 *
 *   usage: iommufd [/dev/vfio/devices/vfioN]
 *   on spapr-tce: LD_PRELOAD=libspapr-tce-preload.so ./iommufd
 */
#include "vfio-example.h"

#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif
#include <spapr_tce/iommufd.h>	/* IOMMU_HWPT_DATA_SPAPR_TCE */

#define BUF_SIZE	(1u << 20)

/* The device file of a cdev: no group, no container. */
static void device_regions(int fd, struct vfio_dev *dev)
{
	struct vfio_region_info cfg, bar0;
	uint16_t cmd;

	dev->fd = fd;
	region(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	region(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	dev->cfg_off = cfg.offset;
	dev->bar0_off = bar0.offset;
	dev->bar0_size = bar0.size;
	CHECK(pread(fd, &cmd, 2, (off_t)(cfg.offset + PCI_COMMAND)) == 2, "config read");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	CHECK(pwrite(fd, &cmd, 2, (off_t)(cfg.offset + PCI_COMMAND)) == 2, "config write");
	CHECK(rd(dev, REG_ID) == DEV_ID, "device ID");
}

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
	long lck_start = vmlck_kb();
	struct vfio_dev dev;
	uint64_t iova[2];
	int iommufd, devfd;
	uint8_t *buf[2];

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	CHECK(iommufd >= 0, "open /dev/iommu");
	devfd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(devfd >= 0, "open %s", path);

	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = iommufd,
	};
	CHECK(!ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind), "BIND_IOMMUFD");
	step("%s bound to the iommufd: device id %u", path, bind.out_devid);

	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	CHECK(!ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc), "IOAS_ALLOC");

	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt),
		.dev_id = bind.out_devid,
		.pt_id = alloc.out_ioas_id,
		.data_type = IOMMU_HWPT_DATA_SPAPR_TCE,
		.data_len = sizeof(geom),
		.data_uptr = (uintptr_t)&geom,
	};
	CHECK(!ioctl(iommufd, IOMMU_HWPT_ALLOC, &hwpt), "HWPT_ALLOC");

	struct iommu_ioas_iova_ranges rq = {
		.size = sizeof(rq),
		.ioas_id = alloc.out_ioas_id,
		.num_iovas = 4,
		.allowed_iovas = (uintptr_t)ranges,
	};
	CHECK(!ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &rq), "IOVA_RANGES");
	CHECK(rq.num_iovas == 2, "%u windows, not 2", rq.num_iovas);
	step("domain %u on IOAS %u: %u windows, alignment %#llx", hwpt.out_hwpt_id,
	     alloc.out_ioas_id, rq.num_iovas,
	     (unsigned long long)rq.out_iova_alignment);
	for (unsigned int i = 0; i < rq.num_iovas; i++)
		step("  window %u: %#llx..%#llx", i,
		     (unsigned long long)ranges[i].start,
		     (unsigned long long)ranges[i].last);

	for (unsigned int i = 0; i < 2; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = alloc.out_ioas_id,
			.length = BUF_SIZE,
			.iova = ranges[i].start,
		};

		buf[i] = alloc_aligned(BUF_SIZE, 1 << 16);
		map.user_va = (uintptr_t)buf[i];
		CHECK(!ioctl(iommufd, IOMMU_IOAS_MAP, &map), "IOAS_MAP(window %u)", i);
		iova[i] = map.iova;
		step("mapped %u KiB at %#llx", BUF_SIZE >> 10,
		     (unsigned long long)map.iova);
	}
	for (unsigned int i = 0; i < BUF_SIZE; i++)
		buf[0][i] = (uint8_t)(i * 13 + 5);

	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = hwpt.out_hwpt_id,
	};
	CHECK(!ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), "ATTACH_IOMMUFD_PT");
	step("device %u attached to domain %u (both windows)", bind.out_devid,
	     attach.pt_id);

	device_regions(devfd, &dev);
	CHECK(dma(&dev, CMD_COPY, iova[0], iova[1], BUF_SIZE, 0) == STATUS_DONE,
	      "COPY failed, device error %llu", (unsigned long long)rd(&dev, REG_ERROR));
	CHECK(!memcmp(buf[0], buf[1], BUF_SIZE), "copied bytes differ");
	CHECK(dma(&dev, CMD_CHECKSUM, iova[1], 0, BUF_SIZE, 0) == STATUS_DONE, "CHECKSUM");
	CHECK(rd(&dev, REG_RESULT) == fnv1a(buf[0], BUF_SIZE), "checksum differs");
	step("device copied 1 MiB from window 0 (%#llx) to window 1 (%#llx), verified",
	     (unsigned long long)iova[0], (unsigned long long)iova[1]);

	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = alloc.out_ioas_id,
		.iova = 0, .length = UINT64_MAX,
	};
	CHECK(!ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap), "IOAS_UNMAP");
	CHECK(unmap.length == 2 * BUF_SIZE, "unmapped %llu bytes",
	      (unsigned long long)unmap.length);
	step("unmapped %llu KiB", (unsigned long long)unmap.length >> 10);

	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	CHECK(!ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach), "DETACH_IOMMUFD_PT");
	close(devfd);
	close(iommufd);
	CHECK(vmlck_kb() == lck_start, "closing left VmLck at %ld kB, not %ld",
	      vmlck_kb(), lck_start);
	step("closed: locked memory back to %ld kB", lck_start);
	step("iommufd: OK");
	return 0;
}
